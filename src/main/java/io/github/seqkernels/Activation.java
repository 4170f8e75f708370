package io.github.seqkernels;

import io.github.seqkernels.internal.Erf;
import java.util.ArrayList;
import java.util.List;

/**
 * A gate activation of the ONNX recurrent operators, with its alpha and beta:
 *
 * <pre>
 * Relu max(0, x)          Tanh, Sigmoid           Affine alpha·x + beta
 * LeakyRelu x or alpha·x  ThresholdedRelu x if x > alpha else 0
 * ScaledTanh alpha·tanh(beta·x)                   HardSigmoid max(0, min(1, alpha·x + beta))
 * Elu x or alpha·(exp(x) - 1)   Softsign x / (1 + |x|)   Softplus log(1 + exp(x))
 * Gelu x·Φ(x)             GeluTanh x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
 * </pre>
 *
 * <p>The last two are for the Transformer layers ({@link LinearOp}, {@link ElementwiseOp}).
 */
public record Activation(Kind kind, float alpha, float beta) {
  public enum Kind {
    RELU("Relu", 0),
    TANH("Tanh", 0),
    SIGMOID("Sigmoid", 0),
    AFFINE("Affine", 2),
    LEAKY_RELU("LeakyRelu", 1),
    THRESHOLDED_RELU("ThresholdedRelu", 1),
    SCALED_TANH("ScaledTanh", 2),
    HARD_SIGMOID("HardSigmoid", 2),
    ELU("Elu", 1),
    SOFTSIGN("Softsign", 0),
    SOFTPLUS("Softplus", 0),
    /** GELU, exact: x·Φ(x) = x/2·(1 + erf(x/√2)) (ONNX Gelu, PyTorch approximate='none'). */
    GELU("Gelu", 0),
    /** GELU, tanh form: x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (approximate='tanh'). */
    GELU_TANH("GeluTanh", 0);

    final String onnxName;

    /** How many of alpha, beta it reads (ONNX consumes the attribute lists in this order). */
    final int params;

    Kind(String onnxName, int params) {
      this.onnxName = onnxName;
      this.params = params;
    }

    public String onnxName() {
      return onnxName;
    }
  }

  public static final Activation SIGMOID_DEFAULT = of("Sigmoid");
  public static final Activation TANH_DEFAULT = of("Tanh");

  /**
   * The activation called {@code name} (ONNX spelling, case-insensitive) with ONNX Runtime's
   * default parameters: LeakyRelu 0.01, ThresholdedRelu 1, HardSigmoid 0.2 / 0.5, Elu 1, ScaledTanh
   * 1 / 1, Affine 1 / 0.
   */
  public static Activation of(String name) {
    for (Kind k : Kind.values()) {
      if (k.onnxName.equalsIgnoreCase(name)) {
        return switch (k) {
          case LEAKY_RELU -> new Activation(k, 0.01f, 0f);
          case THRESHOLDED_RELU, ELU -> new Activation(k, 1f, 0f);
          case HARD_SIGMOID -> new Activation(k, 0.2f, 0.5f);
          case SCALED_TANH, AFFINE -> new Activation(k, 1f, k == Kind.AFFINE ? 0f : 1f);
          default -> new Activation(k, 0f, 0f);
        };
      }
    }
    List<String> names = new ArrayList<>();
    for (Kind k : Kind.values()) names.add(k.onnxName);
    throw new IllegalArgumentException(
        "activations: unknown activation '" + name + "', must be one of " + names);
  }

  /**
   * The ONNX attribute triple (activations, activation_alpha, activation_beta) as activations: each
   * alpha (beta) list is consumed in order by the activations that take an alpha (beta); where a
   * list runs out, the default stays. Nulls are empty lists.
   */
  public static List<Activation> parse(List<String> names, float[] alphas, float[] betas) {
    List<Activation> out = new ArrayList<>();
    int ai = 0, bi = 0;
    for (String n : names) {
      Activation a = of(n);
      float alpha = a.alpha, beta = a.beta;
      if (a.kind.params >= 1 && alphas != null && ai < alphas.length) alpha = alphas[ai++];
      if (a.kind.params >= 2 && betas != null && bi < betas.length) beta = betas[bi++];
      out.add(new Activation(a.kind, alpha, beta));
    }
    return out;
  }

  /** f(x) in float32. */
  public float apply(float x) {
    return switch (kind) {
      case RELU -> Math.max(0f, x);
      case TANH -> (float) Math.tanh(x);
      case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-x)));
      case AFFINE -> alpha * x + beta;
      case LEAKY_RELU -> x >= 0 ? x : alpha * x;
      case THRESHOLDED_RELU -> x > alpha ? x : 0f;
      case SCALED_TANH -> alpha * (float) Math.tanh(beta * x);
      case HARD_SIGMOID -> Math.max(0f, Math.min(1f, alpha * x + beta));
      case ELU -> x >= 0 ? x : alpha * (float) Math.expm1(x);
      case SOFTSIGN -> x / (1f + Math.abs(x));
      case SOFTPLUS -> (float) softplus(x);
      case GELU, GELU_TANH -> (float) applyExact(x);
    };
  }

  /** f(x) in float64, for the control. */
  public double applyExact(double x) {
    double a = alpha, b = beta;
    return switch (kind) {
      case RELU -> Math.max(0, x);
      case TANH -> Math.tanh(x);
      case SIGMOID -> 1.0 / (1.0 + Math.exp(-x));
      case AFFINE -> a * x + b;
      case LEAKY_RELU -> x >= 0 ? x : a * x;
      case THRESHOLDED_RELU -> x > a ? x : 0;
      case SCALED_TANH -> a * Math.tanh(b * x);
      case HARD_SIGMOID -> Math.max(0, Math.min(1, a * x + b));
      case ELU -> x >= 0 ? x : a * Math.expm1(x);
      case SOFTSIGN -> x / (1 + Math.abs(x));
      case SOFTPLUS -> softplus(x);
      case GELU -> 0.5 * x * (1 + Erf.erf(x / Math.sqrt(2)));
      case GELU_TANH ->
          0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    };
  }

  /** log(1 + exp(x)) without overflow for large x. */
  private static double softplus(double x) {
    return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
  }
}
