package io.github.seqkernels.nn;

import io.github.seqkernels.Activation;

/**
 * The constructor arguments of PyTorch's {@code nn.TransformerEncoderLayer} and {@code
 * nn.TransformerDecoderLayer} that shape inference: {@code d_model}, {@code nhead}, {@code
 * dim_feedforward}, {@code activation} (ReLU or exact GELU), {@code layer_norm_eps} and {@code
 * norm_first}. Dropout is not here: the layers are inference only. batch_first=True is assumed.
 *
 * @param activation of the feed-forward block; {@link #activation(String)} reads PyTorch's names
 */
public record TransformerLayerConfig(
    int dModel,
    int heads,
    int dimFeedforward,
    Activation activation,
    float layerNormEps,
    boolean normFirst) {
  public TransformerLayerConfig {
    if (dModel < 1) throw new IllegalArgumentException("d_model: must be >= 1, got " + dModel);
    if (heads < 1) throw new IllegalArgumentException("nhead: must be >= 1, got " + heads);
    if (dModel % heads != 0) {
      throw new IllegalArgumentException(
          "nhead: d_model " + dModel + " must be divisible by nhead, got nhead = " + heads);
    }
    if (dimFeedforward < 1) {
      throw new IllegalArgumentException("dim_feedforward: must be >= 1, got " + dimFeedforward);
    }
    if (activation == null) throw new IllegalArgumentException("activation: must not be null");
    if (!(layerNormEps >= 0) || Float.isInfinite(layerNormEps)) {
      throw new IllegalArgumentException(
          "layer_norm_eps: must be finite and >= 0, got " + layerNormEps);
    }
  }

  /** PyTorch's defaults: ReLU, layer_norm_eps 1e-5, post-norm (norm_first=False). */
  public static TransformerLayerConfig of(int dModel, int heads, int dimFeedforward) {
    return new TransformerLayerConfig(
        dModel, heads, dimFeedforward, Activation.of("Relu"), 1e-5f, false);
  }

  /** PyTorch's activation names: "relu", or "gelu" (exact, erf). */
  public static Activation activation(String name) {
    return switch (name) {
      case "relu" -> Activation.of("Relu");
      case "gelu" -> Activation.of("Gelu");
      default ->
          throw new IllegalArgumentException(
              "activation: must be relu or gelu, got '" + name + "'");
    };
  }

  public TransformerLayerConfig withActivation(Activation activation) {
    return new TransformerLayerConfig(
        dModel, heads, dimFeedforward, activation, layerNormEps, normFirst);
  }

  public TransformerLayerConfig withActivation(String name) {
    return withActivation(activation(name));
  }

  public TransformerLayerConfig withLayerNormEps(float eps) {
    return new TransformerLayerConfig(dModel, heads, dimFeedforward, activation, eps, normFirst);
  }

  public TransformerLayerConfig withNormFirst(boolean normFirst) {
    return new TransformerLayerConfig(
        dModel, heads, dimFeedforward, activation, layerNormEps, normFirst);
  }
}
