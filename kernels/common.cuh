// Shared by every kernels/*.cu: the same source builds with nvcc for the GPU and with g++ for the
// host emulator (native/emu), which defines SK_ENTRY to export one launch entry per kernel.
#pragma once
#ifdef __CUDACC__
#define SK_ENTRY(name)
#else
#include "cuda_emu.h"
#endif

#define SK_NEG_INF (-INFINITY)

// Sum and max over the 32 lanes of a full warp; every lane gets the result.
__device__ __forceinline__ float sk_warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float sk_warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Block-wide reduction through `scratch` (one float per warp); blockDim.x is a multiple of 32
// and every thread calls it. The result reaches every thread.
__device__ __forceinline__ float sk_block_reduce(float v, float* scratch, bool is_max) {
  v = is_max ? sk_warp_max(v) : sk_warp_sum(v);
  int w = threadIdx.x >> 5, lanes = blockDim.x >> 5;
  __syncthreads();  // scratch may still be read by a previous reduction
  if ((threadIdx.x & 31) == 0) scratch[w] = v;
  __syncthreads();
  float r = is_max ? SK_NEG_INF : 0.f;
  for (int i = 0; i < lanes; i++) r = is_max ? fmaxf(r, scratch[i]) : r + scratch[i];
  return r;
}
