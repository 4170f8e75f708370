package io.github.seqkernels;

/**
 * Embedding lookup (PyTorch {@code nn.Embedding}, ONNX Gather on axis 0): row {@code i} of y is row
 * {@code ids[i]} of the table.
 *
 * <p>Shapes: table {@code [V, E]}; y {@code [..., E]} with {@code ids.length} rows in all. An id
 * outside {@code [0, V)} throws {@link IllegalArgumentException} naming its position and value,
 * before anything is written.
 */
public interface EmbeddingOp {
  void forward(Tensor table, int[] ids, Tensor y);
}
