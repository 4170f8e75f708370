// Elementwise operators and the direct 1-D convolution, float32.
//
// Kernels:
//   activation_f32  y = f(x) over every element of a strided tensor; grid-stride loop over the
//                   flat index: grid (min(ceil(n / 256), 65535), 1, 1), block (256, 1, 1).
//   add_f32         y = a + b with b broadcast by stride 0; same geometry.
//   conv1d_f32      y[b, o, t] = bias[o] + sum_{c, j} w[o, c, j] · x[b, g·C/G + c, t·stride +
//                   j·dilation - padBegin], zeros outside the signal; one thread per output,
//                   grid-stride loop over B·O·Lout: grid (min(ceil(n / 128), 65535), 1, 1),
//                   block (128, 1, 1).
//
// Shapes: every operand is read and written through its own strides in elements (the host stages
// each as the span it addresses), so permuted and broadcast layouts need no copy. Elementwise
// tensors have rank <= SK_MAX_RANK; x [B, C, L], w [O, C/G, K], bias [O] or null, y [B, O, Lout].
//
// Reduction order of conv1d_f32: one chain of fused multiply-adds over (c, j) in row-major order
// from 0, then fma(1, bias, acc): the CPU backend's im2col + GEMM order, so the two agree bit for
// bit.
#include "activations.cuh"

#define SK_MAX_RANK 8

struct EwArgs {
  const float* x;  // a for add
  const float* b;  // null for an activation
  float* y;
  long long n;
  long long shape[SK_MAX_RANK], xs[SK_MAX_RANK], bs[SK_MAX_RANK], ys[SK_MAX_RANK];
  int rank, kind;
  float alpha, beta;
  int pad;
};

struct ConvArgs {
  const float* x;
  const float* w;
  const float* bias;  // null: none
  float* y;
  long long xs0, xs1, xs2, ws0, ws1, ws2, bias_s, ys0, ys1, ys2;
  int batch, oc, lout, len, cg, opg, k, stride, dilation, pad_begin;
};

extern "C" __global__ __launch_bounds__(256) void activation_f32(EwArgs g) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < g.n;
       i += (long long)gridDim.x * blockDim.x) {
    long long rest = i, xo = 0, yo = 0;
    for (int d = g.rank - 1; d >= 0; d--) {
      long long c = rest % g.shape[d];
      rest /= g.shape[d];
      xo += c * g.xs[d];
      yo += c * g.ys[d];
    }
    g.y[yo] = sk_activate(g.kind, g.alpha, g.beta, g.x[xo]);
  }
}
SK_ENTRY(activation_f32)

extern "C" __global__ __launch_bounds__(256) void add_f32(EwArgs g) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < g.n;
       i += (long long)gridDim.x * blockDim.x) {
    long long rest = i, ao = 0, bo = 0, yo = 0;
    for (int d = g.rank - 1; d >= 0; d--) {
      long long c = rest % g.shape[d];
      rest /= g.shape[d];
      ao += c * g.xs[d];
      bo += c * g.bs[d];
      yo += c * g.ys[d];
    }
    g.y[yo] = g.x[ao] + g.b[bo];
  }
}
SK_ENTRY(add_f32)

extern "C" __global__ __launch_bounds__(128) void conv1d_f32(ConvArgs g) {
  const long long n = (long long)g.batch * g.oc * g.lout;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
       i += (long long)gridDim.x * blockDim.x) {
    const int t = (int)(i % g.lout);
    const int o = (int)(i / g.lout % g.oc);
    const int b = (int)(i / g.lout / g.oc);
    const int grp = o / g.opg;
    const float* xb = g.x + b * g.xs0 + (long long)grp * g.cg * g.xs1;
    const float* wo = g.w + o * g.ws0;
    const long long p0 = (long long)t * g.stride - g.pad_begin;
    float acc = 0.f;
    for (int c = 0; c < g.cg; c++) {
      for (int j = 0; j < g.k; j++) {
        const long long p = p0 + (long long)j * g.dilation;
        // A padding position contributes w·0 = ±0 to the chain, as the CPU's zero column does.
        const float xv = (p >= 0 && p < g.len) ? xb[c * g.xs1 + p * g.xs2] : 0.f;
        acc = fmaf(wo[c * g.ws1 + j * g.ws2], xv, acc);
      }
    }
    if (g.bias) acc = fmaf(1.f, g.bias[o * g.bias_s], acc);
    g.y[b * g.ys0 + o * g.ys1 + t * g.ys2] = acc;
  }
}
SK_ENTRY(conv1d_f32)
