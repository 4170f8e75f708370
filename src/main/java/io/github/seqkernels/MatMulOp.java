package io.github.seqkernels;

/**
 * Matrix product with numpy / ONNX MatMul semantics: the last two dims multiply, the leading
 * (batch) dims broadcast; a rank-1 a is a row vector {@code [1, K]} whose unit dim is dropped from
 * the result, a rank-1 b a column vector {@code [K, 1]} likewise. y has the shape {@link
 * #outputShape} gives; any strides; y must not overlap a or b.
 */
public interface MatMulOp {
  void forward(Tensor a, Tensor b, Tensor y);

  /** The shape of {@code a @ b}, or IllegalArgumentException naming the dims that disagree. */
  static long[] outputShape(long[] a, long[] b) {
    return io.github.seqkernels.internal.Broadcast.matmulShape(a, b);
  }
}
