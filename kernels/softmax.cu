// Softmax along one axis, float32.
//
// Kernels:
//   softmax_rows_f32  y = softmax(scale·x) (log: its logarithm) along the middle axis of a
//                     contiguous [outer, n, inner] view; one block per row (outer·inner rows),
//                     grid (rows, 1, 1), block (256, 1, 1), shared memory: none dynamic.
//                     A row of all -inf gives 0 (log: -inf), never NaN.
#include "common.cuh"

// x, y: [outer, n, inner], contiguous (the host stages any strides); x == y is allowed.
extern "C" __global__ __launch_bounds__(256) void softmax_rows_f32(const float* x, float* y, long long inner,
                                                        int n, float scale, int log_out) {
  __shared__ float scratch[32];
  long long row = blockIdx.x;
  long long base = (row / inner) * (long long)n * inner + row % inner;

  // Max of the scaled row: subtracted before exp so that no term overflows.
  float m = SK_NEG_INF;
  for (int j = threadIdx.x; j < n; j += blockDim.x) m = fmaxf(m, scale * x[base + j * inner]);
  m = sk_block_reduce(m, scratch, true);
  if (m == SK_NEG_INF) {  // no mass to normalise
    for (int j = threadIdx.x; j < n; j += blockDim.x) y[base + j * inner] = log_out ? m : 0.f;
    return;
  }

  float s = 0.f;
  for (int j = threadIdx.x; j < n; j += blockDim.x) s += expf(scale * x[base + j * inner] - m);
  s = sk_block_reduce(s, scratch, false);

  if (log_out) {
    // (x - max) - log(sum), in that order: max + log(sum) would round away the small part.
    float ls = logf(s);
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
      y[base + j * inner] = (scale * x[base + j * inner] - m) - ls;
    }
  } else {
    float inv = 1.f / s;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
      y[base + j * inner] = expf(scale * x[base + j * inner] - m) * inv;
    }
  }
}
SK_ENTRY(softmax_rows_f32)
