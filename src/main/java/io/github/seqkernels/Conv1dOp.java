package io.github.seqkernels;

/**
 * One-dimensional convolution (cross-correlation, as in ONNX Conv and PyTorch {@code nn.Conv1d}):
 *
 * <pre>
 * y[b, o, t] = bias[o] + sum_{c in group(o), j} w[o, c, j] · x[b, g·C/G + c, t·stride + j·dilation - padBegin]
 * </pre>
 *
 * with zeros outside the signal.
 *
 * <p>Shapes: x {@code [B, C, L]}, w {@code [O, C/groups, K]}, bias {@code [O]} or null, y {@code
 * [B, O, Lout]} with {@code Lout = options.outputLength(L, K)} (at least 1); K at least 1; C and O
 * divisible by groups. y must not overlap x. Any strides. Bad input throws {@link
 * IllegalArgumentException} before anything is written.
 */
public interface Conv1dOp {
  void forward(Tensor x, Tensor w, Tensor bias, Conv1dOptions options, Tensor y);

  /**
   * This convolution over fixed weights, for layers called again and again (a streaming model's
   * convolutions): w and bias are copied now into the backend's memory, in the form its kernel
   * reads best (the CPU packs w for its GEMM here instead of on every call), so later changes to
   * them are not seen. The result gives the same bits as {@link #forward} with these weights.
   * Checks w, bias and options now, x and y on each call, with forward's messages. Close it to free
   * the copies.
   */
  Prepared prepare(Tensor w, Tensor bias, Conv1dOptions options);

  /** A convolution made by {@link #prepare}: x {@code [B, C, L]} to y {@code [B, O, Lout]}. */
  interface Prepared extends AutoCloseable {
    void forward(Tensor x, Tensor y);

    /** Frees the weight copies; idempotent. forward afterwards throws IllegalStateException. */
    @Override
    void close();
  }
}
