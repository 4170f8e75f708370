package io.github.seqkernels;

/**
 * Layer normalisation over the last axis (ONNX LayerNormalization with axis -1, PyTorch {@code
 * nn.LayerNorm} over the last dim): for each row {@code r = x + residual} of length E,
 *
 * <pre>
 * y = (r - mean(r)) / sqrt(var(r) + epsilon) · scale + bias
 * </pre>
 *
 * with the biased variance. A row with no spread and epsilon 0 (0/0) normalises to 0, so y = bias
 * there rather than NaN. {@code residual} (null for none) is the skip connection of a Transformer's
 * post-norm block, added in the same pass: {@code LayerNorm(x + sublayer(x))}.
 *
 * <p>Shapes: x, residual and y the same shape {@code [..., E]}; scale and bias {@code [E]} (bias
 * may be null). y may be x or residual. Any strides. Bad input throws {@link
 * IllegalArgumentException} before anything is written.
 */
public interface LayerNormOp {
  void forward(Tensor x, Tensor residual, Tensor scale, Tensor bias, float epsilon, Tensor y);

  default void forward(Tensor x, Tensor scale, Tensor bias, float epsilon, Tensor y) {
    forward(x, null, scale, bias, epsilon, y);
  }
}
