package io.github.seqkernels;

/**
 * Which keys a query may see by position. With {@code Sq} queries and {@code Sk} keys:
 *
 * <ul>
 *   <li>{@link #NONE}: every key.
 *   <li>{@link #TOP_LEFT}: query i sees keys {@code j <= i} (the diagonal starts at the top-left
 *       corner; PyTorch's {@code is_causal}, and FlashAttention before 2.1).
 *   <li>{@link #BOTTOM_RIGHT}: query i sees keys {@code j <= i + Sk - Sq} (the diagonal ends at the
 *       bottom-right corner; the last query sees every key, as in decoding with a KV cache).
 * </ul>
 *
 * When {@code Sq == Sk} the two alignments agree. A query that sees no key gets a zero output.
 */
public enum Causal {
  NONE,
  TOP_LEFT,
  BOTTOM_RIGHT;

  /** Parses the CLI spelling: none, top-left, bottom-right. */
  public static Causal parse(String s) {
    return switch (s) {
      case "none" -> NONE;
      case "top-left" -> TOP_LEFT;
      case "bottom-right" -> BOTTOM_RIGHT;
      default ->
          throw new IllegalArgumentException(
              "causal: must be one of none, top-left, bottom-right, got '" + s + "'");
    };
  }
}
