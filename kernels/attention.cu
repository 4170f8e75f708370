// Fused scaled dot-product attention forward, float32, flash-style (online softmax over key tiles,
// never an Sq x Sk score matrix unless weights are asked for).
//
// Kernels:
//   attention_fwd_f32  one block per (query tile of ATT_BQ rows, query head, batch entry):
//                      grid (ceil(Sq / ATT_BQ), Hq, B), block (ATT_BQ, 1, 1), one thread per query
//                      row; dynamic shared memory 4·(ATT_BK·(D + Dv) + ATT_BQ·Dv) bytes: the K and V
//                      tiles and the rows' unnormalised outputs.
//
// Shapes (element strides in AttnArgs, any layout): q [B, Hq, Sq, D], k [B, Hkv, Sk, D],
// v [B, Hkv, Sk, Dv], out [B, Hq, Sq, Dv], lse [B, Hq, Sq] or null, weights [B, Hq, Sq, Sk] or
// null, bias and mask broadcast over [B, Hq, Sq, Sk] (stride 0 on broadcast dims), key_lengths [B]
// or null. Query head h reads kv head h / (Hq / Hkv).
//
// Blocking is a decision: a key past the causal limit or the key length, or blocked by the mask,
// gets score -inf and weight 0, and its value row is never multiplied in (p == 0 is skipped), so a
// NaN there cannot leak. A row with no allowed key gives out 0, lse -inf, weights 0.
#include "common.cuh"

#define ATT_BQ 32
#define ATT_BK 16

struct AttnArgs {
  const float* q;
  const float* k;
  const float* v;
  float* out;
  float* lse;      // null: not written
  float* weights;  // null: not written
  const float* bias;
  const unsigned char* mask;
  const int* key_lengths;
  long long qs[4], ks[4], vs[4], os[4], ls[3], ws[4], bs[4], ms[4];
  int B, Hq, Hkv, Sq, Sk, D, Dv;
  float scale;
  int causal;       // 0 none, 1 top-left, 2 bottom-right
  int mask_blocks;  // 1: a nonzero mask byte blocks the key; 0: it keeps it
  int hard;         // 1: arg-max attention, one-hot weights
};

// Keys j < limit are allowed for query i by the causal rule and the key length.
__device__ __forceinline__ int att_limit(const AttnArgs& a, int i, int klen) {
  long long lim = a.causal == 0   ? (long long)a.Sk
                  : a.causal == 1 ? (long long)i + 1
                                  : (long long)i + 1 + a.Sk - a.Sq;
  if (lim > klen) lim = klen;
  return lim < 0 ? 0 : (int)lim;
}

// TODO(perf): one thread per query row with q read from global and the tiles in shared memory;
// the warp-per-row and tensor-core versions come with the performance issue.
extern "C" __global__ __launch_bounds__(ATT_BQ) void attention_fwd_f32(AttnArgs a) {
  extern __shared__ float sk_smem[];
  float* ktile = sk_smem;              // [ATT_BK][D]
  float* vtile = ktile + ATT_BK * a.D;  // [ATT_BK][Dv]
  float* acc = vtile + ATT_BK * a.Dv;   // [Dv][ATT_BQ]: row r's element e at e·ATT_BQ + r
  const int r = threadIdx.x, b = blockIdx.z, h = blockIdx.y, g = h / (a.Hq / a.Hkv);
  const int i0 = blockIdx.x * ATT_BQ, i = i0 + r;
  const bool active = i < a.Sq;
  const int klen = a.key_lengths ? a.key_lengths[b] : a.Sk;
  const int last = min(i0 + ATT_BQ, a.Sq) - 1;
  const int jend = att_limit(a, last, klen);  // keys at or past jend are blocked for every row
  const int lim = active ? att_limit(a, i, klen) : 0;

  const float* qrow = a.q + b * a.qs[0] + h * a.qs[1] + (long long)(active ? i : 0) * a.qs[2];
  const float* kb = a.k + b * a.ks[0] + g * a.ks[1];
  const float* vb = a.v + b * a.vs[0] + g * a.vs[1];
  float* wrow = a.weights ? a.weights + b * a.ws[0] + h * a.ws[1] + (long long)i * a.ws[2] : 0;
  const long long brow = b * a.bs[0] + h * a.bs[1] + (long long)i * a.bs[2];
  const long long mrow = b * a.ms[0] + h * a.ms[1] + (long long)i * a.ms[2];

  float m = SK_NEG_INF, l = 0.f, best_score = SK_NEG_INF;
  int best = -1;
  for (int e = 0; e < a.Dv; e++) acc[e * ATT_BQ + r] = 0.f;

  for (int k0 = 0; k0 < jend; k0 += ATT_BK) {
    const int nk = min(ATT_BK, jend - k0);

    // Load the K and V tiles (the previous tile must be consumed first).
    __syncthreads();
    for (int x = r; x < nk * a.D; x += ATT_BQ) {
      int c = x / a.D, e = x % a.D;
      ktile[x] = kb[(long long)(k0 + c) * a.ks[2] + e * a.ks[3]];
    }
    for (int x = r; x < nk * a.Dv; x += ATT_BQ) {
      int c = x / a.Dv, e = x % a.Dv;
      vtile[x] = vb[(long long)(k0 + c) * a.vs[2] + e * a.vs[3]];
    }
    __syncthreads();
    if (!active) continue;

    // Scores of this row: scale·q·k + bias, -inf where blocked.
    float s[ATT_BK];
    float mx = SK_NEG_INF;
    for (int c = 0; c < nk; c++) {
      int j = k0 + c;
      float sc = SK_NEG_INF;
      bool allowed = j < lim;
      if (allowed && a.mask) allowed = (a.mask[mrow + j * a.ms[3]] != 0) != (a.mask_blocks != 0);
      if (allowed) {
        float dot = 0.f;
        for (int e = 0; e < a.D; e++) dot = fmaf(qrow[e * a.qs[3]] * a.scale, ktile[c * a.D + e], dot);
        sc = dot;
        if (a.bias) sc += a.bias[brow + j * a.bs[3]];
        if (a.hard && sc > best_score) {  // strictly greater: ties keep the lowest key
          best_score = sc;
          best = j;
        }
      }
      s[c] = sc;
      mx = fmaxf(mx, sc);
      if (wrow) wrow[j * a.ws[3]] = sc;  // raw score, normalised at the end
    }

    // Online softmax: raise the running max and rescale what was accumulated. A row with no
    // allowed key so far keeps m = -inf (exp(-inf - -inf) would be NaN).
    float mnew = fmaxf(m, mx);
    if (mnew == SK_NEG_INF) continue;
    float alpha = expf(m - mnew);  // m = -inf gives 0
    if (alpha != 1.f) {
      l *= alpha;
      if (!a.hard) {
        for (int e = 0; e < a.Dv; e++) acc[e * ATT_BQ + r] *= alpha;
      }
    }
    for (int c = 0; c < nk; c++) {
      float p = expf(s[c] - mnew);
      l += p;
      if (p == 0.f || a.hard) continue;
      for (int e = 0; e < a.Dv; e++) acc[e * ATT_BQ + r] += p * vtile[c * a.Dv + e];
    }
    m = mnew;
  }
  if (!active) return;

  // Write back: normalised output, lse, weights.
  const bool empty = !(l > 0.f);
  float* orow = a.out + b * a.os[0] + h * a.os[1] + (long long)i * a.os[2];
  if (a.hard) {
    const float* vrow = vb + (long long)(best < 0 ? 0 : best) * a.vs[2];
    for (int e = 0; e < a.Dv; e++) orow[e * a.os[3]] = best < 0 ? 0.f : vrow[e * a.vs[3]];
  } else {
    float inv = empty ? 0.f : 1.f / l;
    for (int e = 0; e < a.Dv; e++) orow[e * a.os[3]] = empty ? 0.f : acc[e * ATT_BQ + r] * inv;
  }
  if (a.lse) {
    a.lse[b * a.ls[0] + h * a.ls[1] + (long long)i * a.ls[2]] = empty ? SK_NEG_INF : m + logf(l);
  }
  if (wrow) {
    float inv = empty ? 0.f : 1.f / l;
    for (int j = 0; j < a.Sk; j++) {
      float p;
      if (a.hard) p = j == best ? 1.f : 0.f;
      else p = (!empty && j < jend) ? expf(wrow[j * a.ws[3]] - m) * inv : 0.f;
      wrow[j * a.ws[3]] = p;
    }
  }
}
SK_ENTRY(attention_fwd_f32)
