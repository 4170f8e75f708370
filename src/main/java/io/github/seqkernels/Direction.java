package io.github.seqkernels;

/** The direction attribute of the ONNX recurrent operators. */
public enum Direction {
  FORWARD,
  REVERSE,
  BIDIRECTIONAL;

  /** 1 or 2: the {@code num_directions} dim of weights, states and Y. */
  public int count() {
    return this == BIDIRECTIONAL ? 2 : 1;
  }

  /** Parses the ONNX spelling: forward, reverse, bidirectional. */
  public static Direction parse(String s) {
    return switch (s) {
      case "forward" -> FORWARD;
      case "reverse" -> REVERSE;
      case "bidirectional" -> BIDIRECTIONAL;
      default ->
          throw new IllegalArgumentException(
              "direction: must be one of forward, reverse, bidirectional, got '" + s + "'");
    };
  }
}
