// The gate math of ONNX LSTM, GRU and RNN (opset 14), float32, fused into one pass per step after
// the two products (the host runs them with gemm_f32): xw = x·Wᵀ + Wb for every step at once,
// hr = h·Rᵀ + Rb once per step.
//
// Kernels (one thread per (batch row, hidden unit); grid-stride loop over B·H: grid
// (min(ceil(B·H / 128), 65535), 1, 1), block (128, 1, 1), no shared memory):
//   lstm_gates_f32  blocks i, o, f, c: peepholes, clip, input_forget, activations f, g, h;
//                   c' = f·c + i·g(c~), h' = o·h(c'), o's peephole on c'.
//   gru_reset_f32   GRU with linear_before_reset 0, first phase: rh = r ⊙ h, r = f(r~); the host
//                   then forms hh = rh·Rhᵀ + Rbh.
//   gru_gates_f32   blocks z, r, h: h~ = xw_h + r·hr_h (linear_before_reset 1) or xw_h + hh (0);
//                   h' = (1 - z)·g(h~) + z·h.
//   rnn_gates_f32   h' = f(xw + hr).
//
// Shapes (S steps, B batch, H hidden, G gates): xw the step's rows [B, G·H] and hr [B, G·H],
// contiguous; h, c, rh, hh [B, H] contiguous, updated in place (each thread reads its own unit
// only, and the products that read all of h ran before the launch); y the step's output rows with
// strides (yb, yh) or null; p the direction's peepholes [3·H] (i, o, f) with stride ps, or null;
// lens [B] or null. A row whose sequence is over (t >= lens[b]) writes 0 to y and keeps its state.
#include "activations.cuh"

struct RecArgs {
  const float* xw;
  const float* hr;
  const float* hh;  // GRU, linear_before_reset 0: rh·Rhᵀ + Rbh; else null
  float* h;
  float* c;
  float* rh;
  const float* p;
  float* y;
  const int* lens;
  long long ps, yb, yh;
  int b, hs, t, input_forget, lbr;
  float clip;  // used when clip_on
  int act[3];
  float alpha[3], beta[3];
  int clip_on;
};

__device__ __forceinline__ float sk_clip(const RecArgs& g, float x) {
  return g.clip_on ? fmaxf(-g.clip, fminf(g.clip, x)) : x;
}

__device__ __forceinline__ float sk_act(const RecArgs& g, int k, float x) {
  return sk_activate(g.act[k], g.alpha[k], g.beta[k], x);
}

// Whether row bi's sequence is over at step t: then y gets 0 and the state stays.
__device__ __forceinline__ bool sk_done(const RecArgs& g, int bi) {
  return g.lens && g.t >= g.lens[bi];
}

__device__ __forceinline__ void sk_write_y(const RecArgs& g, int bi, int j, float v) {
  if (g.y) g.y[bi * g.yb + j * g.yh] = v;
}

extern "C" __global__ __launch_bounds__(128) void lstm_gates_f32(RecArgs g) {
  const long long n = (long long)g.b * g.hs;
  for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < n;
       e += (long long)gridDim.x * blockDim.x) {
    const int bi = (int)(e / g.hs), j = (int)(e % g.hs);
    if (sk_done(g, bi)) {
      sk_write_y(g, bi, j, 0.f);
      continue;
    }
    const long long row = (long long)bi * 4 * g.hs;
    const float cp = g.c[e];
    const float pi = g.p ? g.p[j * g.ps] : 0.f;
    const float po = g.p ? g.p[(g.hs + j) * g.ps] : 0.f;
    const float pf = g.p ? g.p[(2 * g.hs + j) * g.ps] : 0.f;
    const float ig = sk_act(g, 0, sk_clip(g, fmaf(pi, cp, g.xw[row + j] + g.hr[row + j])));
    const int fj = 2 * g.hs + j, cj = 3 * g.hs + j, oj = g.hs + j;
    const float fg = g.input_forget
                         ? 1.f - ig
                         : sk_act(g, 0, sk_clip(g, fmaf(pf, cp, g.xw[row + fj] + g.hr[row + fj])));
    const float cg = sk_act(g, 1, sk_clip(g, g.xw[row + cj] + g.hr[row + cj]));
    const float cn = fmaf(fg, cp, ig * cg);
    const float og = sk_act(g, 0, sk_clip(g, fmaf(po, cn, g.xw[row + oj] + g.hr[row + oj])));
    const float hn = og * sk_act(g, 2, cn);
    g.c[e] = cn;
    g.h[e] = hn;
    sk_write_y(g, bi, j, hn);
  }
}
SK_ENTRY(lstm_gates_f32)

extern "C" __global__ __launch_bounds__(128) void gru_reset_f32(RecArgs g) {
  const long long n = (long long)g.b * g.hs;
  for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < n;
       e += (long long)gridDim.x * blockDim.x) {
    const int bi = (int)(e / g.hs), j = (int)(e % g.hs);
    const long long at = (long long)bi * 3 * g.hs + g.hs + j;
    const float r = sk_act(g, 0, sk_clip(g, g.xw[at] + g.hr[at]));
    g.rh[e] = r * g.h[e];
  }
}
SK_ENTRY(gru_reset_f32)

extern "C" __global__ __launch_bounds__(128) void gru_gates_f32(RecArgs g) {
  const long long n = (long long)g.b * g.hs;
  for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < n;
       e += (long long)gridDim.x * blockDim.x) {
    const int bi = (int)(e / g.hs), j = (int)(e % g.hs);
    if (sk_done(g, bi)) {
      sk_write_y(g, bi, j, 0.f);
      continue;
    }
    const long long row = (long long)bi * 3 * g.hs;
    const float z = sk_act(g, 0, sk_clip(g, g.xw[row + j] + g.hr[row + j]));
    const int hj = 2 * g.hs + j;
    float pre;
    if (g.lbr) {
      const int rj = g.hs + j;
      const float r = sk_act(g, 0, sk_clip(g, g.xw[row + rj] + g.hr[row + rj]));
      pre = fmaf(r, g.hr[row + hj], g.xw[row + hj]);
    } else {
      pre = g.xw[row + hj] + g.hh[e];
    }
    const float hh = sk_act(g, 1, sk_clip(g, pre));
    const float hn = fmaf(z, g.h[e] - hh, hh);  // (1 - z)·hh + z·h
    g.h[e] = hn;
    sk_write_y(g, bi, j, hn);
  }
}
SK_ENTRY(gru_gates_f32)

extern "C" __global__ __launch_bounds__(128) void rnn_gates_f32(RecArgs g) {
  const long long n = (long long)g.b * g.hs;
  for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < n;
       e += (long long)gridDim.x * blockDim.x) {
    const int bi = (int)(e / g.hs), j = (int)(e % g.hs);
    if (sk_done(g, bi)) {
      sk_write_y(g, bi, j, 0.f);
      continue;
    }
    const float hn = sk_act(g, 0, sk_clip(g, g.xw[e] + g.hr[e]));
    g.h[e] = hn;
    sk_write_y(g, bi, j, hn);
  }
}
SK_ENTRY(rnn_gates_f32)
