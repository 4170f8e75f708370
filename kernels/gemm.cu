// General matrix product, float32: the library's own SGEMM, used where cuBLAS is not loaded.
//
// Kernels:
//   gemm_f32  Y = f(alpha·op(A)·op(B) + beta·C) over one [M, N] output (f: an activation of
//             activations.cuh, or none), tiles of GEMM_TM x GEMM_TN
//             per block through GEMM_TK-deep slices of A and B in shared memory; grid
//             (ceil(N / 64), ceil(M / 64), 1), block (16, 16, 1), each thread a 4 x 4 micro-tile
//             (rows ty + 16·r, columns tx + 16·c); no dynamic shared memory.
//
// Shapes (element strides in GemmArgs, so transposes are strides): op(A) [M, K], op(B) [K, N],
// C broadcast over [M, N] (stride 0 on broadcast dims) or absent, Y [M, N].
//
// Reduction order: each element is one chain of fused multiply-adds over k = 0..K-1 from 0, then
// alpha·acc, then fma(beta, c, alpha·acc), then f: the order of the CPU backend's GEMM, so the two agree
// bit for bit and a row's result does not depend on the other rows of the product.
#include "activations.cuh"

#define GEMM_TM 64
#define GEMM_TN 64
#define GEMM_TK 16

struct GemmArgs {
  const float* a;
  const float* b;
  const float* c;  // null: no C term
  float* y;
  long long as0, as1, bs0, bs1, cs0, cs1, ys0, ys1;
  int M, N, K;
  float alpha, beta;
  int act;  // SK_ACT_NONE or an activation kind (the epilogue of nn.Linear)
  float act_alpha, act_beta;
};

extern "C" __global__ __launch_bounds__(256) void gemm_f32(GemmArgs g) {
  __shared__ float as[GEMM_TK][GEMM_TM];
  __shared__ float bs[GEMM_TK][GEMM_TN];
  const int tx = threadIdx.x, ty = threadIdx.y, t = ty * 16 + tx;
  const int i0 = blockIdx.y * GEMM_TM, j0 = blockIdx.x * GEMM_TN;
  float acc[4][4];
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 4; c++) acc[r][c] = 0.f;

  for (int k0 = 0; k0 < g.K; k0 += GEMM_TK) {
    const int kn = min(GEMM_TK, g.K - k0);

    // Load the A and B slices; nothing outside the matrices is read (padding may hold NaN).
    __syncthreads();
    for (int x = t; x < GEMM_TK * GEMM_TM; x += 256) {
      int kk = x / GEMM_TM, ii = x % GEMM_TM, i = i0 + ii;
      as[kk][ii] = (kk < kn && i < g.M) ? g.a[i * g.as0 + (long long)(k0 + kk) * g.as1] : 0.f;
    }
    for (int x = t; x < GEMM_TK * GEMM_TN; x += 256) {
      int kk = x / GEMM_TN, jj = x % GEMM_TN, j = j0 + jj;
      bs[kk][jj] = (kk < kn && j < g.N) ? g.b[(long long)(k0 + kk) * g.bs0 + j * g.bs1] : 0.f;
    }
    __syncthreads();

    // Only the slice's real k values: a padded step would turn an accumulated -0 into +0.
    for (int kk = 0; kk < kn; kk++) {
      float av[4], bv[4];
      for (int r = 0; r < 4; r++) av[r] = as[kk][ty + 16 * r];
      for (int c = 0; c < 4; c++) bv[c] = bs[kk][tx + 16 * c];
      for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) acc[r][c] = fmaf(av[r], bv[c], acc[r][c]);
    }
  }

  // Write back: alpha·acc, plus beta·c when there is a C.
  for (int r = 0; r < 4; r++) {
    int i = i0 + ty + 16 * r;
    if (i >= g.M) continue;
    for (int c = 0; c < 4; c++) {
      int j = j0 + tx + 16 * c;
      if (j >= g.N) continue;
      float v = g.alpha * acc[r][c];
      if (g.c) v = fmaf(g.beta, g.c[i * g.cs0 + j * g.cs1], v);
      if (g.act != SK_ACT_NONE) v = sk_activate(g.act, g.act_alpha, g.act_beta, v);
      g.y[i * g.ys0 + j * g.ys1] = v;
    }
  }
}
SK_ENTRY(gemm_f32)
