// The emulator's scheduler: one block at a time, its threads as fibers on the calling OS thread (see cuda_emu.h for the model). A fiber runs until it reaches __syncthreads or a warp
// primitive, then hands control back; when every live thread of the block (or every live lane
// of the warp's mask) is waiting, they are released together. Threads that returned no longer
// count, as on hardware; a barrier nobody can complete is reported as an error, not a hang.
#include "cuda_emu.h"

#include <sys/mman.h>

#include <cstdio>
#include <string>
#include <vector>

// Dynamic shared memory, `extern __shared__ T sk_smem[]` in the kernels: 228 KiB, the most an
// sm_90 block may ask for. C linkage-free namespace-scope name, one per OS thread.
alignas(16) thread_local unsigned char sk_smem[228 * 1024];

// A fiber switch saves the callee-saved registers and the SSE/x87 control words on the old
// stack and restores them from the new one: ~10 ns, where swapcontext costs a system call (it
// saves the signal mask) and made the emulated suites several times slower.
#if defined(__x86_64__)
extern "C" void sk_emu_switch(void** save_sp, void* load_sp);
asm(R"(
.text
.globl sk_emu_switch
.type sk_emu_switch,@function
sk_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size sk_emu_switch,.-sk_emu_switch
.section .note.GNU-stack,"",@progbits
.text
)");
#else
#error "the CUDA emulator's fiber switch is written for x86-64"
#endif

namespace emu {

thread_local Indices now;

namespace {

enum State { READY, AT_BLOCK, AT_WARP, DONE };
constexpr size_t kStack = 256 * 1024;

struct Fiber {
  void* sp = nullptr;  // saved stack pointer while switched out
  void* stack = nullptr;
  State state = READY;
  unsigned mask = 0;  // the warp mask while AT_WARP
  int pred = 0;       // the predicate of __syncthreads_count
  unsigned op = 0;    // warp ops done, for the double-buffered exchange slots
  uint3 tid;
};

struct Block {
  std::vector<Fiber> fibers;
  std::vector<uint64_t> slots;  // [warp][bank 2][lane 32]
  void* sched = nullptr;  // the scheduler's saved stack pointer
  Body body = nullptr;
  void* closure = nullptr;
  int current = 0;
  int count = 0;  // threads in this launch's blocks
  int counted = 0;  // the last __syncthreads_count result
  std::string error;
};

thread_local Block blk;

[[noreturn]] void fiber_main() {
  blk.body(blk.closure);
  Fiber& f = blk.fibers[blk.current];
  f.state = DONE;
  sk_emu_switch(&f.sp, blk.sched);
  __builtin_unreachable();  // a finished fiber is never switched to again
}

// A fresh stack whose first switch "returns" into fiber_main, as from a call (rsp = 8 mod 16).
void* fresh_stack(void* stack) {
  uintptr_t top = ((uintptr_t)stack + kStack) & ~(uintptr_t)15;
  uint64_t* sp = (uint64_t*)(top - 72);
  uint32_t csr[2] = {0x1F80u, 0x037Fu};  // default MXCSR and x87 control word
  std::memcpy(sp, csr, 8);
  for (int i = 1; i <= 6; i++) sp[i] = 0;  // r15 r14 r13 r12 rbx rbp
  sp[7] = (uint64_t)(uintptr_t)&fiber_main;
  return sp;
}

void wait(State s) {
  Fiber& f = blk.fibers[blk.current];
  f.state = s;
  sk_emu_switch(&f.sp, blk.sched);
}

// Releases a block barrier or warp barriers that every participant has reached.
bool release() {
  int n = blk.count;
  bool any = false;
  int live = 0, atBlock = 0, sum = 0;
  for (int i = 0; i < n; i++) {
    State s = blk.fibers[i].state;
    if (s != DONE) live++;
    if (s == AT_BLOCK) {
      atBlock++;
      sum += blk.fibers[i].pred != 0;
    }
  }
  if (live > 0 && atBlock == live) {
    blk.counted = sum;
    for (int i = 0; i < n; i++) {
      if (blk.fibers[i].state == AT_BLOCK) blk.fibers[i].state = READY;
    }
    return true;
  }
  for (int w = 0; w * 32 < n; w++) {
    int base = w * 32, lanes = n - base < 32 ? n - base : 32;
    unsigned mask = 0;
    for (int l = 0; l < lanes; l++) {
      if (blk.fibers[base + l].state == AT_WARP) {
        mask = blk.fibers[base + l].mask;
        break;
      }
    }
    if (mask == 0) continue;
    bool ready = true;
    for (int l = 0; l < lanes && ready; l++) {
      State s = blk.fibers[base + l].state;
      if ((mask >> l & 1u) && s != DONE && s != AT_WARP) ready = false;
    }
    if (!ready) continue;
    for (int l = 0; l < lanes; l++) {
      Fiber& f = blk.fibers[base + l];
      if ((mask >> l & 1u) && f.state == AT_WARP) f.state = READY;
    }
    any = true;
  }
  return any;
}

}  // namespace

int fail(const char* message) {
  blk.error = message;
  return 1;
}

int lane() { return blk.current & 31; }

void syncthreads() { wait(AT_BLOCK); }

int syncthreads_count(int pred) {
  blk.fibers[blk.current].pred = pred;
  wait(AT_BLOCK);
  return blk.counted;
}

uint64_t exchange(unsigned mask, uint64_t bits, int src) {
  Fiber& f = blk.fibers[blk.current];
  int w = blk.current / 32, l = blk.current & 31;
  // Two banks: a lane that runs ahead writes the other bank, and cannot pass the next barrier
  // until every lane has read this one.
  uint64_t* bank = &blk.slots[(size_t)(w * 2 + (f.op & 1)) * 32];
  f.op++;
  bank[l] = bits;
  f.mask = mask | (1u << l);
  wait(AT_WARP);
  if (src < 0 || src > 31 || w * 32 + src >= blk.count) src = l;
  return bank[src];
}

unsigned ballot(unsigned mask, int pred) {
  Fiber& f = blk.fibers[blk.current];
  int w = blk.current / 32, l = blk.current & 31;
  uint64_t* bank = &blk.slots[(size_t)(w * 2 + (f.op & 1)) * 32];
  f.op++;
  bank[l] = pred != 0;
  f.mask = mask | (1u << l);
  wait(AT_WARP);
  unsigned r = 0;
  for (int i = 0; i < 32 && w * 32 + i < blk.count; i++) {
    if ((mask >> i & 1u) && blk.fibers[w * 32 + i].state != DONE && bank[i]) r |= 1u << i;
  }
  return r;
}

int run_grid(Body body, void* closure, dim3 grid, dim3 block, size_t shmem) {
  long long n = (long long)block.x * block.y * block.z;
  if (n < 1 || n > 1024 || block.z > 64) return fail("block: 1..1024 threads, z <= 64");
  if (grid.x < 1 || grid.y < 1 || grid.z < 1 || grid.y > 65535 || grid.z > 65535) {
    return fail("grid: every dimension >= 1, y and z <= 65535");
  }
  if (shmem > sizeof(sk_smem)) return fail("shared memory: more than 228 KiB requested");
  blk.body = body;
  blk.closure = closure;
  blk.count = (int)n;
  if ((int)blk.fibers.size() < n) blk.fibers.resize(n);
  blk.slots.assign((size_t)((n + 31) / 32) * 2 * 32, 0);
  for (int i = 0; i < n; i++) {
    Fiber& f = blk.fibers[i];
    if (f.stack == nullptr) {
      f.stack = mmap(nullptr, kStack, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (f.stack == MAP_FAILED) {
        f.stack = nullptr;
        return fail("fiber stacks: mmap failed");
      }
    }
    f.tid = uint3{(unsigned)(i % block.x), (unsigned)(i / block.x % block.y),
                  (unsigned)(i / (block.x * block.y))};
  }
  now.bdim = block;
  now.gdim = grid;
  for (unsigned bz = 0; bz < grid.z; bz++) {
    for (unsigned by = 0; by < grid.y; by++) {
      for (unsigned bx = 0; bx < grid.x; bx++) {
        now.bid = uint3{bx, by, bz};
        for (int i = 0; i < n; i++) {
          Fiber& f = blk.fibers[i];
          f.sp = fresh_stack(f.stack);
          f.state = READY;
          f.op = 0;
        }
        int done = 0;
        while (done < n) {
          for (int i = 0; i < n; i++) {
            if (blk.fibers[i].state != READY) continue;
            blk.current = i;
            now.tid = blk.fibers[i].tid;
            sk_emu_switch(&blk.sched, blk.fibers[i].sp);
          }
          done = 0;
          for (int i = 0; i < n; i++) done += blk.fibers[i].state == DONE;
          if (done < n && !release()) {
            return fail("deadlock: a barrier that not every live thread of the block reaches");
          }
        }
      }
    }
  }
  return 0;
}

}  // namespace emu

extern "C" const char* emu_last_error() { return emu::blk.error.c_str(); }
