package io.github.seqkernels.nn;

import io.github.seqkernels.Tensor;

/**
 * Checks and views shared by the single-head modules ({@link AdditiveAttention}, {@link
 * MultiplicativeAttention}): their {@code [B, S, n]} tensors are passed to the attention operator
 * as {@code [B, 1, S, n]} views (one head), remembered per argument so that a caller passing the
 * same tensors again gets the same views back.
 */
final class SingleHead {
  private SingleHead() {}

  /** A [B, S, n] tensor as [B, 1, S, n]; the last view is kept while the tensor is the same. */
  static final class View {
    private Tensor from, view;

    Tensor of(Tensor t) {
      if (t == from) return view;
      view =
          t.asStrided(
              new long[] {t.size(0), 1, t.size(1), t.size(2)},
              new long[] {t.stride(0), 0, t.stride(1), t.stride(2)},
              t.offset());
      from = t;
      return view;
    }

    void clear() {
      from = view = null;
    }
  }

  /**
   * Checks query {@code [B, Sq, dq]}, key {@code [B, Sk, dk]}, value {@code [B, Sk, *]}, context
   * {@code [B, Sq, Dv]} and weights {@code [B, Sq, Sk]} (may be null).
   */
  static void validate(
      Tensor query, long dq, Tensor key, long dk, Tensor value, Tensor context, Tensor weights) {
    MultiheadAttention.requireRank3("query", query, -1, -1, dq, "[B, Sq, Dq]");
    long b = query.size(0), sq = query.size(1);
    MultiheadAttention.requireRank3("key", key, b, -1, dk, "[B, Sk, Dk]");
    long sk = key.size(1);
    MultiheadAttention.requireRank3("value", value, b, sk, -1, "[B, Sk, Dv]");
    if (value.size(2) < 1) {
      throw new IllegalArgumentException("value: Dv must be >= 1, got " + value.size(2));
    }
    MultiheadAttention.requireRank3("context", context, b, sq, value.size(2), "[B, Sq, Dv]");
    if (weights != null) {
      MultiheadAttention.requireRank3("weights", weights, b, sq, sk, "[B, Sq, Sk]");
    }
  }
}
