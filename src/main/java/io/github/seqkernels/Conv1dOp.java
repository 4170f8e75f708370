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
}
