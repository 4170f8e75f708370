package io.github.seqkernels;

/**
 * Fused scaled dot-product attention, per batch entry b and query head h:
 *
 * <pre>
 *   scores = scale · Q[b,h] · K[b,g(h)]ᵀ + bias[b,h]        [Sq, Sk]
 *   out[b,h] = softmax(scores, blocked keys removed) · V[b,g(h)]   [Sq, Dv]
 * </pre>
 *
 * <p>Shapes: q {@code [B, Hq, Sq, D]}, k {@code [B, Hkv, Sk, D]}, v {@code [B, Hkv, Sk, Dv]}, out
 * {@code [B, Hq, Sq, Dv]}; any strides, so a {@code [B, S, H, D]} buffer is passed as its {@code
 * permute(0, 2, 1, 3)} view. Grouped-query attention when Hq is a multiple of Hkv: query head h
 * reads kv head {@code g(h) = h / (Hq / Hkv)}. Sq may differ from Sk and Dv from D.
 *
 * <p>Optional outputs: {@code lse} {@code [B, Hq, Sq]}, the natural-log log-sum-exp of the scaled,
 * masked scores ({@code -inf} for a row with no allowed key), and {@code weights} {@code [B, Hq,
 * Sq, Sk]}, the softmax probabilities (one-hot in hard mode). Either may be null.
 *
 * <p>A row whose keys are all blocked returns 0 in {@code out} and in {@code weights}, never NaN.
 * See {@link AttentionOptions} for masks, lengths, bias and hard mode, and {@link Causal} for the
 * two causal alignments. Bad input throws {@link IllegalArgumentException} naming the argument, the
 * rule and the value, before anything is written.
 */
public interface AttentionOp {
  void forward(
      Tensor q,
      Tensor k,
      Tensor v,
      AttentionOptions options,
      Tensor out,
      Tensor lse,
      Tensor weights);

  default void forward(Tensor q, Tensor k, Tensor v, Tensor out) {
    forward(q, k, v, AttentionOptions.defaults(), out, null, null);
  }

  default void forward(Tensor q, Tensor k, Tensor v, AttentionOptions options, Tensor out) {
    forward(q, k, v, options, out, null, null);
  }
}
