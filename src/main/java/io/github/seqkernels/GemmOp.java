package io.github.seqkernels;

/**
 * General matrix product with ONNX Gemm semantics: {@code Y = alpha · op(A) · op(B) + beta · C}.
 *
 * <p>Shapes: a {@code [M, K]} ({@code [K, M]} with transA), b {@code [K, N]} ({@code [N, K]} with
 * transB), c null or broadcastable to {@code [M, N]} by numpy rules (a scalar, {@code [N]}, {@code
 * [M, 1]}, {@code [1, N]} or {@code [M, N]}), y {@code [M, N]}; any strides. y must not overlap a
 * or b. Bad input throws {@link IllegalArgumentException} before anything is written.
 */
public interface GemmOp {
  void forward(Tensor a, Tensor b, Tensor c, GemmOptions options, Tensor y);

  default void forward(Tensor a, Tensor b, Tensor y) {
    forward(a, b, null, GemmOptions.defaults(), y);
  }
}
