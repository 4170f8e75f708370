package io.github.seqkernels.nn;

import io.github.seqkernels.AttentionOptions;
import io.github.seqkernels.Causal;
import io.github.seqkernels.Mask;
import io.github.seqkernels.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The attention operator's options for one {@link MultiheadAttentionOptions} at one call geometry,
 * kept for the next call: a module called again with the same options object and shapes derives
 * nothing and allocates nothing.
 */
final class DerivedOptions {
  private final AttentionOptions base;
  private MultiheadAttentionOptions from;
  private int b = -1, h = -1, sq = -1, sk = -1;
  private AttentionOptions derived;

  // A boolean attn_mask turned into a bias (beside a padding mask): refilled on every call, so a
  // mask changed in place is seen as it is with the operator's own mask.
  private Mask converted;
  private float[] convertedBias;

  /** {@code base}: the scale and anything else that does not depend on the call. */
  DerivedOptions(AttentionOptions base) {
    this.base = base;
  }

  /**
   * The operator's options for batch b, heads h, Sq queries and Sk keys; bad shapes throw
   * IllegalArgumentException naming the option.
   */
  AttentionOptions get(MultiheadAttentionOptions o, int b, int h, int sq, int sk) {
    if (o == null) throw new IllegalArgumentException("options: must not be null");
    if (o == from && b == this.b && h == this.h && sq == this.sq && sk == this.sk) {
      if (converted != null) fill(converted, convertedBias);
      return derived;
    }
    from = null; // a derivation that throws leaves nothing cached
    converted = null;
    convertedBias = null;
    AttentionOptions a = derive(o, b, h, sq, sk);
    from = o;
    this.b = b;
    this.h = h;
    this.sq = sq;
    this.sk = sk;
    derived = a;
    return a;
  }

  private AttentionOptions derive(MultiheadAttentionOptions o, int b, int h, int sq, int sk) {
    AttentionOptions a = base;
    if (o.causal()) a = a.withCausal(Causal.TOP_LEFT);
    int[] lengths = o.keyLengthsView();
    if (lengths != null) {
      if (lengths.length != b) {
        throw new IllegalArgumentException(
            "keyLengths: must have one entry per batch entry (B = "
                + b
                + "), got "
                + lengths.length);
      }
      for (int i = 0; i < b; i++) {
        if (lengths[i] < 0 || lengths[i] > sk) {
          throw new IllegalArgumentException(
              "keyLengths[" + i + "] = " + lengths[i] + " must be in [0, Sk = " + sk + "]");
        }
      }
      a = a.withKeyLengths(lengths);
    }
    Mask padding = o.keyPaddingMask();
    if (padding != null) {
      long[] s = padding.shape();
      if (s[0] != b || s[1] != sk) {
        throw new IllegalArgumentException(
            "keyPaddingMask: shape must be [B, Sk] = ["
                + b
                + ", "
                + sk
                + "], got "
                + Arrays.toString(s));
      }
      // [B, Sk] seen as [B, 1, 1, Sk]: same bytes, broadcast over heads and queries.
      a = a.withMask(withShape(padding, b, 1, 1, sk));
    }
    Tensor f = o.floatAttnMask();
    if (f != null) {
      checkAttnMask(f.shape(), b, h, sq, sk);
      if (f.rank() == 3) {
        // [B·H, Sq, Sk], batch-major as PyTorch lays it out: a [B, H, Sq, Sk] view.
        f =
            f.asStrided(
                new long[] {b, h, sq, sk},
                new long[] {h * f.stride(0), f.stride(0), f.stride(1), f.stride(2)},
                f.offset());
      }
      a = a.withBias(f);
    }
    Mask m = o.boolAttnMask();
    if (m != null) {
      long[] s = m.shape();
      checkAttnMask(s, b, h, sq, sk);
      Mask shaped = s.length == 3 ? withShape(m, b, h, sq, sk) : m;
      if (padding == null) {
        a = a.withMask(shaped);
      } else {
        // The operator takes one mask, which the padding holds: this one becomes a bias of
        // -inf (hidden) and 0, which hides keys exactly as a mask does.
        long n =
            Math.multiplyExact(Math.multiplyExact((long) s[0], s[1]), s.length == 3 ? s[2] : 1);
        float[] bias = new float[Math.toIntExact(n)];
        fill(m, bias);
        converted = m;
        convertedBias = bias;
        a = a.withBias(s.length == 3 ? Tensor.wrap(bias, b, h, sq, sk) : Tensor.wrap(bias, sq, sk));
      }
    }
    return a;
  }

  private static void fill(Mask m, float[] bias) {
    for (int i = 0; i < bias.length; i++) bias[i] = m.blocks(i) ? Float.NEGATIVE_INFINITY : 0f;
  }

  private static void checkAttnMask(long[] s, int b, int h, int sq, int sk) {
    boolean ok =
        s.length == 2
            ? s[0] == sq && s[1] == sk
            : s.length == 3 && s[0] == (long) b * h && s[1] == sq && s[2] == sk;
    if (!ok) {
      throw new IllegalArgumentException(
          "attnMask: shape must be [Sq, Sk] = ["
              + sq
              + ", "
              + sk
              + "] or [B·H, Sq, Sk] = ["
              + (long) b * h
              + ", "
              + sq
              + ", "
              + sk
              + "], got "
              + Arrays.toString(s));
    }
  }

  /** The same bytes and polarity under another row-major shape with as many elements. */
  private static Mask withShape(Mask m, long... shape) {
    MemorySegment bytes = m.bytes();
    return m.isBlockMask() ? Mask.block(bytes, shape) : Mask.keep(bytes, shape);
  }
}
