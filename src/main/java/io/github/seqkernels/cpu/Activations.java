package io.github.seqkernels.cpu;

import static io.github.seqkernels.cpu.CpuVectors.SPECIES;

import io.github.seqkernels.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** The ONNX recurrent activations on vectors, lane by lane (so results do not depend on lane). */
final class Activations {
  private Activations() {}

  static FloatVector apply(Activation a, FloatVector x) {
    float alpha = a.alpha(), beta = a.beta();
    return switch (a.kind()) {
      case RELU -> x.max(0f);
      case TANH -> x.lanewise(VectorOperators.TANH);
      // 1 / (1 + exp(-x)): exp(-x) overflows to inf for x < -88 and the quotient is then 0.
      case SIGMOID ->
          FloatVector.broadcast(SPECIES, 1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
      case AFFINE -> x.mul(alpha).add(beta);
      case LEAKY_RELU -> x.blend(x.mul(alpha), x.compare(VectorOperators.LT, 0f));
      case THRESHOLDED_RELU ->
          FloatVector.zero(SPECIES).blend(x, x.compare(VectorOperators.GT, alpha));
      case SCALED_TANH -> x.mul(beta).lanewise(VectorOperators.TANH).mul(alpha);
      case HARD_SIGMOID -> x.mul(alpha).add(beta).max(0f).min(1f);
      case ELU ->
          x.blend(x.lanewise(VectorOperators.EXPM1).mul(alpha), x.compare(VectorOperators.LT, 0f));
      case SOFTSIGN -> x.div(x.abs().add(1f));
      // log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), which cannot overflow.
      case SOFTPLUS ->
          x.max(0f)
              .add(x.abs().neg().lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P));
      // x·Φ(x) = x/2·(1 + erf(x/√2)): 1 + erf is 0 below x ≈ -5.6 and the product -0, not NaN.
      case GELU -> x.mul(0.5f).mul(erf(x.mul(0.70710678f)).add(1f));
      // tanh saturates to ±1 before x³ overflows matters: for |x| > ~1e13, x³ = ±inf, tanh = ±1.
      case GELU_TANH ->
          x.mul(0.5f)
              .mul(
                  x.mul(x)
                      .mul(x)
                      .mul(0.044715f)
                      .add(x)
                      .mul(0.7978845608f)
                      .lanewise(VectorOperators.TANH)
                      .add(1f));
    };
  }

  // erf in float32 on two ranges (coefficients fitted for this library by weighted least squares
  // against float64 erf with numpy; the script is src/test/resources/erf/fit_erf.py):
  //   |x| <= 0.921875:      erf(x) = x + x·(c0 - 1 + x²·P(x²))   (P of degree 5, Horner with FMA;
  //                          the leading x kept apart so that its rounding is the last one)
  //   0.921875 < |x| < 3.93: erf(|x|) = 1 - exp(Q(|x|))           (Q of degree 10 fits log erfc)
  //   |x| >= 3.93:           1, which erf rounds to in float32 within half an ulp.
  // Measured over [0, 5] in steps of 2.5e-5 (float32 arithmetic with FMA, correctly rounded exp):
  // at most 1.2 ulp, 7e-8 absolute. Sign restored at the end; NaN stays NaN.
  private static final float ERF_SPLIT = 0.921875f, ERF_ONE = 3.93f;

  /** erf lane by lane in float32, within about 1 ulp (see the comment above). */
  static FloatVector erf(FloatVector x) {
    FloatVector a = x.abs();

    // Small |x|: x·(1 + (c0 - 1) + x²·P(x²)).
    FloatVector x2 = a.mul(a);
    FloatVector p = FloatVector.broadcast(SPECIES, 8.410933514824137e-05f);
    p = p.fma(x2, FloatVector.broadcast(SPECIES, -0.0008153758244588971f));
    p = p.fma(x2, FloatVector.broadcast(SPECIES, 0.005202173721045256f));
    p = p.fma(x2, FloatVector.broadcast(SPECIES, -0.026859955862164497f));
    p = p.fma(x2, FloatVector.broadcast(SPECIES, 0.11283708363771439f));
    p = p.fma(x2, FloatVector.broadcast(SPECIES, -0.37612634897232056f));
    FloatVector small = a.fma(p.fma(x2, FloatVector.broadcast(SPECIES, 0.12837916612625122f)), a);

    // Larger |x|: 1 - exp(Q(|x|)), |x| clamped to the fitted range.
    FloatVector t = a.min(ERF_ONE);
    FloatVector q = FloatVector.broadcast(SPECIES, -3.403982304917008e-07f);
    q = q.fma(t, FloatVector.broadcast(SPECIES, 7.176840881584212e-06f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, -6.545972428284585e-05f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, 0.0003199821221642196f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, -0.0006925010238774121f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, -0.0016986520495265722f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, 0.021465271711349487f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, -0.10468132048845291f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, -0.6356106996536255f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, -1.128692388534546f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, 4.339062797953375e-05f));
    FloatVector large = q.lanewise(VectorOperators.EXP).neg().add(1f);
    large = large.blend(1f, a.compare(VectorOperators.GE, ERF_ONE));

    FloatVector r = large.blend(small, a.compare(VectorOperators.LE, ERF_SPLIT));
    return r.blend(r.neg(), x.compare(VectorOperators.LT, 0f));
  }
}
