// CUDA C on the host: the subset of the CUDA language that kernels/*.cu use, so the same sources
// compile with g++ into libseqkernels_emu.so and run without a GPU (see native/build-emu.sh).
//
// Model: a launch runs its blocks one after another on the calling OS thread; a block's threads
// are fibers (ucontext) on that thread, switched only at __syncthreads and at warp-synchronous
// primitives, so every thread of a block sees the same `__shared__` (thread_local) storage and no
// locking is needed. Warp primitives are a barrier over the lanes of the mask, so shuffles, votes
// and __syncwarp behave as on hardware for full warps of 32: every lane has written its value
// before any lane reads. Dynamic shared memory must be declared `extern __shared__ T sk_smem[];`
// (one name for all kernels; the runtime defines it per OS thread, 228 KiB as on sm_90).
//
// Not emulated: memory ordering between blocks (they run in turn), __constant__ memory, textures,
// cooperative groups, inline PTX (kernels keep any behind a helper with a host branch).
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
#define __shared__ thread_local

struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct float2 {
  float x, y;
};
struct alignas(16) float4 {
  float x, y, z, w;
};
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }

namespace emu {

// The indices of the fiber that runs now; the scheduler rewrites them on every switch.
struct Indices {
  uint3 tid, bid;
  dim3 bdim, gdim;
};
extern thread_local Indices now;

void syncthreads();
// Warp exchange: this lane offers `bits`, waits for every lane of `mask`, and gets lane `src`'s
// offer (its own when src is outside the warp).
uint64_t exchange(unsigned mask, uint64_t bits, int src);
// Vote: bit l set when lane l of `mask` passed a nonzero predicate.
unsigned ballot(unsigned mask, int pred);
int lane();
int syncthreads_count(int pred);

typedef void (*Body)(void*);
// Runs body(closure) as every thread of every block; 0 or an error code (message: last_error).
int run_grid(Body body, void* closure, dim3 grid, dim3 block, size_t shmem);
int fail(const char* message);

template <class T>
inline uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "warp value");
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <class T>
inline T from_bits(uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}

// One launch: copies each argument out of the launcher's array (as cuLaunchKernel does), then
// runs the kernel on every thread with those values.
template <class... A, size_t... I>
inline int launch(void (*k)(A...), const unsigned* g, const unsigned* b, size_t shmem, void** args,
                  std::index_sequence<I...>) {
  std::tuple<std::decay_t<A>...> vals;
  ((std::memcpy(&std::get<I>(vals), args[I], sizeof(std::decay_t<A>))), ...);
  struct Closure {
    void (*k)(A...);
    std::tuple<std::decay_t<A>...>* vals;
  } c{k, &vals};
  Body body = [](void* p) {
    Closure* c = static_cast<Closure*>(p);
    std::apply(c->k, *c->vals);
  };
  return run_grid(body, &c, dim3(g[0], g[1], g[2]), dim3(b[0], b[1], b[2]), shmem);
}
template <class... A>
inline int launch(void (*k)(A...), const unsigned* g, const unsigned* b, size_t shmem,
                  void** args) {
  return launch(k, g, b, shmem, args, std::index_sequence_for<A...>{});
}
// The kernel's parameter sizes in bytes, for the launcher's argument check (case L3).
template <class... A>
inline int signature(void (*)(A...), int* sizes, int cap) {
  int n = 0;
  ((n < cap ? (sizes[n] = (int)sizeof(std::decay_t<A>), 0) : 0, ++n), ...);
  return n;
}
}  // namespace emu

extern "C" const char* emu_last_error();

// One host entry per kernel, found by name through dlsym / SymbolLookup.
#define SK_ENTRY(name)                                                                     \
  extern "C" int emu_##name(const unsigned* grid, const unsigned* block,                   \
                            unsigned long long shmem, void** args) {                       \
    return emu::launch(name, grid, block, (size_t)shmem, args);                            \
  }                                                                                        \
  extern "C" int emu_sig_##name(int* sizes, int cap) { return emu::signature(name, sizes, cap); }

#define threadIdx (emu::now.tid)
#define blockIdx (emu::now.bid)
#define blockDim (emu::now.bdim)
#define gridDim (emu::now.gdim)
static constexpr int warpSize = 32;

inline void __syncthreads() { emu::syncthreads(); }
inline int __syncthreads_count(int p) { return emu::syncthreads_count(p); }
inline int __syncthreads_or(int p) { return emu::syncthreads_count(p) != 0; }
inline void __syncwarp(unsigned mask = 0xffffffffu) { emu::exchange(mask, 0, 0); }
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

template <class T>
inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
  int l = emu::lane();
  int s = (l & ~(width - 1)) + (src & (width - 1));
  return emu::from_bits<T>(emu::exchange(mask, emu::to_bits(v), s));
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T v, int m, int width = 32) {
  int l = emu::lane();
  int s = l ^ m;
  if ((s & ~(width - 1)) != (l & ~(width - 1))) s = l;
  return emu::from_bits<T>(emu::exchange(mask, emu::to_bits(v), s));
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned d, int width = 32) {
  int l = emu::lane();
  int s = l + (int)d;
  if ((s & ~(width - 1)) != (l & ~(width - 1))) s = l;
  return emu::from_bits<T>(emu::exchange(mask, emu::to_bits(v), s));
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T v, unsigned d, int width = 32) {
  int l = emu::lane();
  int s = l - (int)d;
  if (s < (l & ~(width - 1))) s = l;
  return emu::from_bits<T>(emu::exchange(mask, emu::to_bits(v), s));
}
inline unsigned __ballot_sync(unsigned mask, int p) { return emu::ballot(mask, p); }
inline int __any_sync(unsigned mask, int p) { return (emu::ballot(mask, p) & mask) != 0; }
inline int __all_sync(unsigned mask, int p) {
  return (emu::ballot(mask, p) & mask) == (emu::ballot(mask, 1) & mask);
}
inline unsigned __activemask() { return 0xffffffffu; }

// Atomics: blocks run in turn on one OS thread, but the builtins keep them right if that changes.
inline float atomicAdd(float* p, float v) {
  float old = *p, want;
  do {
    want = old + v;
  } while (!__atomic_compare_exchange(p, &old, &want, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
  return old;
}
inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline unsigned atomicAdd(unsigned* p, unsigned v) {
  return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}
inline int atomicMax(int* p, int v) {
  int old = *p;
  while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST,
                                                 __ATOMIC_SEQ_CST)) {
  }
  return old;
}
inline int atomicMin(int* p, int v) {
  int old = *p;
  while (old > v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST,
                                                 __ATOMIC_SEQ_CST)) {
  }
  return old;
}
inline int atomicCAS(int* p, int cmp, int v) {
  __atomic_compare_exchange_n(p, &cmp, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return cmp;
}
inline int atomicExch(int* p, int v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }

// Math: the fast intrinsics are the accurate functions here (within their documented error).
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline float __int_as_float(int i) { return emu::from_bits<float>((uint32_t)i); }
inline int __float_as_int(float f) { return (int)(uint32_t)emu::to_bits(f); }
inline float __uint_as_float(unsigned i) { return emu::from_bits<float>(i); }
inline unsigned __float_as_uint(float f) { return (uint32_t)emu::to_bits(f); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
