package io.github.seqkernels.nn;

import io.github.seqkernels.Mask;
import io.github.seqkernels.Tensor;
import java.util.Arrays;

/**
 * Which keys each query of a {@link MultiheadAttention} (or {@link AdditiveAttention}, {@link
 * MultiplicativeAttention}) call may see, in PyTorch's terms. Immutable; the {@code with*} methods
 * return a copy, so one instance can be built once and reused for every call of a shape (the
 * modules then derive the attention operator's options once, not per call).
 *
 * <ul>
 *   <li>{@link #withKeyPaddingMask}: {@code key_padding_mask} {@code [B, Sk]}, true = padding (the
 *       key is hidden), as in {@code nn.MultiheadAttention}.
 *   <li>{@link #withKeyLengths}: the same padding as a count of valid keys per batch entry, {@code
 *       [B]}: keys {@code j >= lengths[b]} are hidden. Faster than a mask (padded key tiles are
 *       skipped) and what a tokenizer's attention mask usually is.
 *   <li>{@link #withAttnMask(Tensor)}: a float {@code attn_mask} added to the scaled scores, {@code
 *       [Sq, Sk]} or {@code [B·H, Sq, Sk]} (PyTorch's layout, batch-major); {@code -inf} hides.
 *   <li>{@link #withAttnMask(Mask)}: a boolean {@code attn_mask} of the same shapes; PyTorch's
 *       polarity is {@link Mask#block} (true = not allowed to attend).
 *   <li>{@link #withCausal}: query i sees keys {@code j <= i}, the mask of PyTorch's {@code
 *       generate_square_subsequent_mask} (and {@code Causal.TOP_LEFT} when Sq != Sk).
 * </ul>
 *
 * All given rules apply together: a key is hidden if any rule hides it. A query that sees no key
 * gets a zero attention result (and zero weights) where PyTorch returns NaN.
 */
public final class MultiheadAttentionOptions {
  private static final MultiheadAttentionOptions NONE =
      new MultiheadAttentionOptions(null, null, null, null, false);

  private final Mask keyPadding;
  private final int[] keyLengths;
  private final Tensor floatAttnMask;
  private final Mask boolAttnMask;
  private final boolean causal;

  private MultiheadAttentionOptions(
      Mask keyPadding, int[] keyLengths, Tensor floatAttnMask, Mask boolAttnMask, boolean causal) {
    this.keyPadding = keyPadding;
    this.keyLengths = keyLengths;
    this.floatAttnMask = floatAttnMask;
    this.boolAttnMask = boolAttnMask;
    this.causal = causal;
  }

  /** Every query sees every key. */
  public static MultiheadAttentionOptions none() {
    return NONE;
  }

  /**
   * PyTorch's {@code key_padding_mask}: {@code padding[b·Sk + j]} true hides key j of batch entry b
   * (row-major {@code [B, Sk]}). The array is copied.
   */
  public MultiheadAttentionOptions withKeyPaddingMask(boolean[] padding, long batch, long keys) {
    if (padding == null) {
      throw new IllegalArgumentException("keyPaddingMask: must not be null");
    }
    return withKeyPaddingMask(Mask.block(padding, batch, keys));
  }

  /**
   * A key mask {@code [B, Sk]} of either polarity ({@link Mask#block}: true = padding, PyTorch's
   * {@code key_padding_mask}; {@link Mask#keep}: true = a real token, a tokenizer's {@code
   * attention_mask}); viewed, not copied. Null removes it.
   */
  public MultiheadAttentionOptions withKeyPaddingMask(Mask mask) {
    if (mask != null && mask.shape().length != 2) {
      throw new IllegalArgumentException(
          "keyPaddingMask: must be [B, Sk], got shape " + Arrays.toString(mask.shape()));
    }
    return new MultiheadAttentionOptions(mask, keyLengths, floatAttnMask, boolAttnMask, causal);
  }

  /** Valid keys per batch entry, {@code [B]}; copied. Null removes them. */
  public MultiheadAttentionOptions withKeyLengths(int... lengths) {
    return new MultiheadAttentionOptions(
        keyPadding, lengths == null ? null : lengths.clone(), floatAttnMask, boolAttnMask, causal);
  }

  /**
   * A float {@code attn_mask}, {@code [Sq, Sk]} or {@code [B·H, Sq, Sk]}, added to the scaled
   * scores; viewed, not copied. Replaces a boolean attn_mask. Null removes it.
   */
  public MultiheadAttentionOptions withAttnMask(Tensor mask) {
    if (mask != null && mask.rank() != 2 && mask.rank() != 3) {
      throw new IllegalArgumentException(
          "attnMask: must be [Sq, Sk] or [B·H, Sq, Sk], got shape "
              + Arrays.toString(mask.shape()));
    }
    return new MultiheadAttentionOptions(keyPadding, keyLengths, mask, null, causal);
  }

  /**
   * A boolean {@code attn_mask}, {@code [Sq, Sk]} or {@code [B·H, Sq, Sk]}; PyTorch's polarity is
   * {@link Mask#block}. Viewed, not copied. Replaces a float attn_mask. Null removes it.
   */
  public MultiheadAttentionOptions withAttnMask(Mask mask) {
    if (mask != null && mask.shape().length != 2 && mask.shape().length != 3) {
      throw new IllegalArgumentException(
          "attnMask: must be [Sq, Sk] or [B·H, Sq, Sk], got shape "
              + Arrays.toString(mask.shape()));
    }
    return new MultiheadAttentionOptions(keyPadding, keyLengths, null, mask, causal);
  }

  /** Query i sees keys {@code j <= i} only. */
  public MultiheadAttentionOptions withCausal(boolean causal) {
    return new MultiheadAttentionOptions(
        keyPadding, keyLengths, floatAttnMask, boolAttnMask, causal);
  }

  public Mask keyPaddingMask() {
    return keyPadding;
  }

  public int[] keyLengths() {
    return keyLengths == null ? null : keyLengths.clone();
  }

  /** The float attn_mask, or null. */
  public Tensor floatAttnMask() {
    return floatAttnMask;
  }

  /** The boolean attn_mask, or null. */
  public Mask boolAttnMask() {
    return boolAttnMask;
  }

  public boolean causal() {
    return causal;
  }

  int[] keyLengthsView() {
    return keyLengths;
  }

  @Override
  public String toString() {
    return "MultiheadAttentionOptions["
        + (keyPadding != null ? "keyPaddingMask" + Arrays.toString(keyPadding.shape()) + " " : "")
        + (keyLengths != null ? "keyLengths=" + Arrays.toString(keyLengths) + " " : "")
        + (floatAttnMask != null ? "attnMask" + Arrays.toString(floatAttnMask.shape()) + " " : "")
        + (boolAttnMask != null ? "boolAttnMask" + Arrays.toString(boolAttnMask.shape()) + " " : "")
        + (causal ? "causal" : "")
        + "]";
  }
}
