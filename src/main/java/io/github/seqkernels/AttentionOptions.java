package io.github.seqkernels;

import java.util.Arrays;

/**
 * What an attention call computes beyond {@code softmax(scale · Q·Kᵀ) · V}: the scale, causal
 * alignment, key lengths, a keep- or block-mask, an additive bias, and hard (arg-max) mode.
 * Immutable; the {@code with*} methods return a copy, so one instance can be shared and reused.
 *
 * <p>Blocking is a decision, not a number: a key blocked by the causal rule, the key lengths or the
 * mask gets weight 0 and its key and value are never read into the result (a NaN there cannot
 * leak). The bias is plain arithmetic: a finite bias, however negative, does not block, so a row
 * whose biased scores are all {@code -Float.MAX_VALUE} gets the uniform average. A bias of {@code
 * -inf} gives weight 0 like a block.
 */
public final class AttentionOptions {
  private static final AttentionOptions DEFAULTS =
      new AttentionOptions(Float.NaN, Causal.NONE, null, null, null, false);

  private final float scale;
  private final Causal causal;
  private final int[] keyLengths;
  private final Mask mask;
  private final Tensor bias;
  private final boolean hard;

  private AttentionOptions(
      float scale, Causal causal, int[] keyLengths, Mask mask, Tensor bias, boolean hard) {
    this.scale = scale;
    this.causal = causal;
    this.keyLengths = keyLengths;
    this.mask = mask;
    this.bias = bias;
    this.hard = hard;
  }

  /** Scale 1/sqrt(D), no causal rule, no lengths, mask or bias, soft attention. */
  public static AttentionOptions defaults() {
    return DEFAULTS;
  }

  /** The score scale; NaN (the default) means 1/sqrt(D). */
  public AttentionOptions withScale(float scale) {
    return new AttentionOptions(scale, causal, keyLengths, mask, bias, hard);
  }

  public AttentionOptions withCausal(Causal causal) {
    if (causal == null) throw new IllegalArgumentException("causal: must not be null");
    return new AttentionOptions(scale, causal, keyLengths, mask, bias, hard);
  }

  /** Valid key count per batch entry, {@code [B]}: keys {@code j >= lengths[b]} are blocked. */
  public AttentionOptions withKeyLengths(int... lengths) {
    return new AttentionOptions(
        scale, causal, lengths == null ? null : lengths.clone(), mask, bias, hard);
  }

  /** A keep- or block-mask, broadcast to {@code [B, Hq, Sq, Sk]}. */
  public AttentionOptions withMask(Mask mask) {
    return new AttentionOptions(scale, causal, keyLengths, mask, bias, hard);
  }

  /** An additive float bias, broadcast to {@code [B, Hq, Sq, Sk]}, added after scaling. */
  public AttentionOptions withBias(Tensor bias) {
    return new AttentionOptions(scale, causal, keyLengths, mask, bias, hard);
  }

  /**
   * Hard attention: each query takes the value of its highest-scoring allowed key (ties: the lowest
   * key index); weights are one-hot. {@code lse} is still the log-sum-exp of the scores.
   */
  public AttentionOptions withHard(boolean hard) {
    return new AttentionOptions(scale, causal, keyLengths, mask, bias, hard);
  }

  public float scale() {
    return scale;
  }

  /** The scale used for head dim {@code d}: the given one or 1/sqrt(d). */
  public float scaleFor(long d) {
    return Float.isNaN(scale) ? (float) (1.0 / Math.sqrt(d)) : scale;
  }

  public Causal causal() {
    return causal;
  }

  public int[] keyLengths() {
    return keyLengths == null ? null : keyLengths.clone();
  }

  /** The lengths array itself, for backends (not copied). */
  public int[] keyLengthsView() {
    return keyLengths;
  }

  public Mask mask() {
    return mask;
  }

  public Tensor bias() {
    return bias;
  }

  public boolean hard() {
    return hard;
  }

  @Override
  public String toString() {
    return "AttentionOptions[scale="
        + (Float.isNaN(scale) ? "1/sqrt(D)" : scale)
        + ", causal="
        + causal
        + (keyLengths != null ? ", keyLengths=" + Arrays.toString(keyLengths) : "")
        + (mask != null
            ? (mask.isBlockMask() ? ", blockMask" : ", keepMask") + Arrays.toString(mask.shape())
            : "")
        + (bias != null ? ", bias" + Arrays.toString(bias.shape()) : "")
        + (hard ? ", hard" : "")
        + "]";
  }
}
