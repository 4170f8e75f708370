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

  // The corrected two-pass form, as the CPU backend: with m the float mean of r, the deviations
  // d = r - m give the repair s = mean(d) and the variance mean(d²) - s². A constant row then
  // has exactly 0 deviations from m + s, so y = bias even with BERT's epsilon 1e-12, where a mean
  // one ulp off would show as ~1e-2 in y.
  float t = 0.f;
  for (int j = threadIdx.x; j < e; j += blockDim.x) t += x[base + j] + (res ? res[base + j] : 0.f);
  const float m = sk_block_reduce(t, scratch, false) / e;
  float ds = 0.f, dq = 0.f;
  for (int j = threadIdx.x; j < e; j += blockDim.x) {
    float d = x[base + j] + (res ? res[base + j] : 0.f) - m;
    ds += d;
    dq = fmaf(d, d, dq);
  }
  const float s = sk_block_reduce(ds, scratch, false) / e;
  const float var = fmaxf(0.f, sk_block_reduce(dq, scratch, false) / e - s * s);
  const float mean = m + s;
  // No spread and eps 0 is 0/0: the row normalises to 0 (y = bias), never NaN.
  const float inv = var + eps > 0.f ? (float)(1.0 / sqrt((double)var + eps)) : 0.f;

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
