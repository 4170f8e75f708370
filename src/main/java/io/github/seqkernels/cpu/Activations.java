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
    };
  }
}
