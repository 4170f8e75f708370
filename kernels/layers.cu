// Transformer layer pieces, float32.
//
// Kernels:
//   layernorm_f32  y = (r - mean(r)) / sqrt(var(r) + eps) · scale + bias with r = x + residual,
//                  over rows of length E; one block per row: grid (rows, 1, 1), block (32..256,
//                  1, 1, a multiple of 32), no dynamic shared memory.
//   embedding_f32  y[i, :] = table[ids[i], :]; one block per id: grid (n, 1, 1), block (128, 1, 1).
//
// Shapes: x, residual (or null), y [rows, E] contiguous (the host stages other strides); scale
// and bias (or null) [E]; table [V, E] contiguous, ids [n] already checked to lie in [0, V).
#include "common.cuh"

extern "C" __global__ __launch_bounds__(256) void layernorm_f32(const float* x, const float* res,
                                                              const float* scale,
                                                              const float* bias, float* y, int e,
                                                              float eps) {
  __shared__ float scratch[32];
  const long long base = (long long)blockIdx.x * e;

  // Two passes, mean then the biased variance around it: one pass (sum of squares minus the
  // squared mean) loses every digit when the mean is large against the spread.
  float s = 0.f;
  for (int j = threadIdx.x; j < e; j += blockDim.x) s += x[base + j] + (res ? res[base + j] : 0.f);
  const float mean = sk_block_reduce(s, scratch, false) / e;
  float v = 0.f;
  for (int j = threadIdx.x; j < e; j += blockDim.x) {
    float d = x[base + j] + (res ? res[base + j] : 0.f) - mean;
    v += d * d;
  }
  // No spread and eps 0 is 0/0: the row normalises to 0 (y = bias), never NaN.
  const float den = sk_block_reduce(v, scratch, false) / e + eps;
  const float inv = den > 0.f ? 1.f / sqrtf(den) : 0.f;

  for (int j = threadIdx.x; j < e; j += blockDim.x) {
    float r = x[base + j] + (res ? res[base + j] : 0.f);
    y[base + j] = (r - mean) * inv * scale[j] + (bias ? bias[j] : 0.f);
  }
}
SK_ENTRY(layernorm_f32)

extern "C" __global__ __launch_bounds__(128) void embedding_f32(const float* table, const int* ids,
                                                              float* y, int e) {
  const long long src = (long long)ids[blockIdx.x] * e, dst = (long long)blockIdx.x * e;
  for (int j = threadIdx.x; j < e; j += blockDim.x) y[dst + j] = table[src + j];
}
SK_ENTRY(embedding_f32)
