package io.github.seqkernels;

/**
 * A fully connected layer with PyTorch {@code nn.Linear} weights, optionally fused with an
 * activation: {@code y[..., n] = f(sum_k x[..., k] · w[n, k] + b[n])}.
 *
 * <p>Shapes: x {@code [..., K]}, w {@code [N, K]} (ONNX MatMul weights {@code [K, N]} pass as
 * {@code w.permute(1, 0)}, no copy), b {@code [N]} or null, f null for none, y {@code [..., N]}
 * with x's leading dims. y must not overlap x or w. Any strides. Bad input throws {@link
 * IllegalArgumentException} before anything is written.
 */
public interface LinearOp {
  void forward(Tensor x, Tensor w, Tensor b, Activation f, Tensor y);

  default void forward(Tensor x, Tensor w, Tensor b, Tensor y) {
    forward(x, w, b, null, y);
  }
}
