package io.github.seqkernels;

/**
 * The attributes of {@link Conv1dOp} (ONNX Conv on one spatial axis, PyTorch {@code nn.Conv1d}):
 * stride, zero padding before and after the signal ({@code padBegin}, {@code padEnd}; ONNX {@code
 * pads}), dilation and groups. Defaults: stride 1, no padding, dilation 1, one group.
 */
public record Conv1dOptions(int stride, int padBegin, int padEnd, int dilation, int groups) {
  public static Conv1dOptions defaults() {
    return new Conv1dOptions(1, 0, 0, 1, 1);
  }

  public Conv1dOptions withStride(int s) {
    return new Conv1dOptions(s, padBegin, padEnd, dilation, groups);
  }

  /** The same zero padding on both sides (PyTorch's {@code padding=p}). */
  public Conv1dOptions withPadding(int p) {
    return new Conv1dOptions(stride, p, p, dilation, groups);
  }

  public Conv1dOptions withPadding(int begin, int end) {
    return new Conv1dOptions(stride, begin, end, dilation, groups);
  }

  public Conv1dOptions withDilation(int d) {
    return new Conv1dOptions(stride, padBegin, padEnd, d, groups);
  }

  public Conv1dOptions withGroups(int g) {
    return new Conv1dOptions(stride, padBegin, padEnd, dilation, g);
  }

  /**
   * Output length for an input of length {@code length} and a kernel of {@code kernel} taps: {@code
   * floor((length + padBegin + padEnd - dilation·(kernel - 1) - 1) / stride) + 1}, which is 0 or
   * less when the dilated kernel is longer than the padded signal (floor, not Java's truncation
   * toward zero, which would turn a span one short of the kernel into one output).
   */
  public long outputLength(long length, long kernel) {
    long span = length + padBegin + padEnd - (long) dilation * (kernel - 1) - 1;
    return Math.floorDiv(span, (long) stride) + 1;
  }
}
