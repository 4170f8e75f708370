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
      case GELU -> x.mul(0.5f).mul(erf(x.mul(0.70710678f)).add(1f));
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

  /**
   * erf in float32 (Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7): {@code 1 - t·(a1 +
   * t·(a2 + ...))·exp(-x²)} with {@code t = 1/(1 + p·|x|)}, sign restored.
   */
  static FloatVector erf(FloatVector x) {
    FloatVector a = x.abs();
    FloatVector t = FloatVector.broadcast(SPECIES, 1f).div(a.mul(0.3275911f).add(1f));
    FloatVector poly =
        t.mul(1.061405429f)
            .add(-1.453152027f)
            .mul(t)
            .add(1.421413741f)
            .mul(t)
            .add(-0.284496736f)
            .mul(t)
            .add(0.254829592f)
            .mul(t);
    FloatVector e = a.mul(a).neg().lanewise(VectorOperators.EXP);
    FloatVector r = poly.mul(e).neg().add(1f);
    return r.blend(r.neg(), x.compare(VectorOperators.LT, 0f));
  }
}
