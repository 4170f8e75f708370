package io.github.seqkernels;

/**
 * Elementwise operators: an activation applied to every element, and the residual add with numpy
 * broadcasting of the second operand.
 *
 * <p>y may be the same tensor as x (or a). Any strides. Bad input throws {@link
 * IllegalArgumentException} before anything is written.
 */
public interface ElementwiseOp {
  /** {@code y = f(x)}; x and y the same shape. */
  void apply(Tensor x, Activation f, Tensor y);

  /** {@code y = a + b}, b broadcast to a's shape by numpy rules; y has a's shape. */
  void add(Tensor a, Tensor b, Tensor y);
}
