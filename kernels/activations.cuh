// The activations of seqkernels.Activation, float32, for the kernels that apply one (elementwise,
// the GEMM epilogue, the recurrent gates). `kind` is Activation.Kind's ordinal; the formulas are
// the CPU backend's (cpu/Activations), so both backends agree to a few ulps.
#pragma once
#include "common.cuh"

#define SK_ACT_NONE (-1)
#define SK_ACT_RELU 0
#define SK_ACT_TANH 1
#define SK_ACT_SIGMOID 2
#define SK_ACT_AFFINE 3
#define SK_ACT_LEAKY_RELU 4
#define SK_ACT_THRESHOLDED_RELU 5
#define SK_ACT_SCALED_TANH 6
#define SK_ACT_HARD_SIGMOID 7
#define SK_ACT_ELU 8
#define SK_ACT_SOFTSIGN 9
#define SK_ACT_SOFTPLUS 10
#define SK_ACT_GELU 11
#define SK_ACT_GELU_TANH 12

// erf in float32 with the CPU backend's fit (cpu/Activations: two ranges, the polynomial
// coefficients from src/test/resources/erf/fit_erf.py), so GELU matches it to an ulp or two:
//   |x| <= 0.921875: x + x·(c0 - 1 + x²·P(x²));  below 3.93: 1 - exp(Q(|x|));  then 1.
__device__ __forceinline__ float sk_erf(float x) {
  const float a = fabsf(x);
  float r;
  if (a <= 0.921875f) {
    const float x2 = a * a;
    float p = 8.410933514824137e-05f;
    p = fmaf(p, x2, -0.0008153758244588971f);
    p = fmaf(p, x2, 0.005202173721045256f);
    p = fmaf(p, x2, -0.026859955862164497f);
    p = fmaf(p, x2, 0.11283708363771439f);
    p = fmaf(p, x2, -0.37612634897232056f);
    r = fmaf(a, fmaf(p, x2, 0.12837916612625122f), a);
  } else if (a >= 3.93f) {
    r = 1.f;
  } else {
    float q = -3.403982304917008e-07f;
    q = fmaf(q, a, 7.176840881584212e-06f);
    q = fmaf(q, a, -6.545972428284585e-05f);
    q = fmaf(q, a, 0.0003199821221642196f);
    q = fmaf(q, a, -0.0006925010238774121f);
    q = fmaf(q, a, -0.0016986520495265722f);
    q = fmaf(q, a, 0.021465271711349487f);
    q = fmaf(q, a, -0.10468132048845291f);
    q = fmaf(q, a, -0.6356106996536255f);
    q = fmaf(q, a, -1.128692388534546f);
    q = fmaf(q, a, 4.339062797953375e-05f);
    r = 1.f - expf(q);
  }
  if (x != x) return x;  // NaN stays NaN (a NaN fails every comparison above)
  return x < 0.f ? -r : r;
}

__device__ __forceinline__ float sk_activate(int kind, float alpha, float beta, float x) {
  switch (kind) {
    case SK_ACT_RELU: return fmaxf(0.f, x);
    case SK_ACT_TANH: return tanhf(x);
    // 1 / (1 + exp(-x)): exp(-x) overflows to inf below x ≈ -88 and the quotient is then 0.
    case SK_ACT_SIGMOID: return 1.f / (1.f + expf(-x));
    case SK_ACT_AFFINE: return alpha * x + beta;
    case SK_ACT_LEAKY_RELU: return x < 0.f ? alpha * x : x;
    case SK_ACT_THRESHOLDED_RELU: return x > alpha ? x : 0.f;
    case SK_ACT_SCALED_TANH: return alpha * tanhf(beta * x);
    case SK_ACT_HARD_SIGMOID: return fminf(1.f, fmaxf(0.f, alpha * x + beta));
    case SK_ACT_ELU: return x < 0.f ? alpha * expm1f(x) : x;
    case SK_ACT_SOFTSIGN: return x / (1.f + fabsf(x));
    // max(x, 0) + log1p(exp(-|x|)) cannot overflow.
    case SK_ACT_SOFTPLUS: return fmaxf(x, 0.f) + log1pf(expf(-fabsf(x)));
    // x/2·(1 + erf(x/√2)): 1 + erf is 0 below x ≈ -5.6 and the product -0, not NaN.
    case SK_ACT_GELU: return x * 0.5f * (sk_erf(x * 0.70710678f) + 1.f);
    // x / (1 + exp(-2u)), u = √(2/π)·(x + 0.044715·x³): (1 + tanh(u))/2 is the logistic of 2u.
    case SK_ACT_GELU_TANH: {
      const float u2 = (x * x * (0.044715f * 2 * 0.7978845608f) + 2 * 0.7978845608f) * x;
      return x / (expf(-u2) + 1.f);
    }
    default: return x;
  }
}
