package io.github.seqkernels;

/**
 * Softmax over one axis: {@code y = softmax(scale · x)} or, with {@code log}, its logarithm.
 * Immutable; defaults: last axis, scale 1, not log.
 */
public record SoftmaxOptions(int axis, float scale, boolean log) {
  public static SoftmaxOptions defaults() {
    return new SoftmaxOptions(-1, 1f, false);
  }

  /** The axis; negative counts from the end, as in numpy. */
  public SoftmaxOptions withAxis(int axis) {
    return new SoftmaxOptions(axis, scale, log);
  }

  public SoftmaxOptions withScale(float scale) {
    return new SoftmaxOptions(axis, scale, log);
  }

  public SoftmaxOptions withLog(boolean log) {
    return new SoftmaxOptions(axis, scale, log);
  }
}
