package io.github.seqkernels.internal;

import io.github.seqkernels.AttentionOptions;
import io.github.seqkernels.Mask;
import io.github.seqkernels.Tensor;
import java.util.Arrays;

/**
 * The validated geometry of one attention call, shared by every backend so that all of them accept
 * and refuse exactly the same input with the same messages.
 *
 * <p>Mask and bias strides are broadcast strides over {@code [B, Hq, Sq, Sk]}: 0 on a dimension of
 * size 1, so element (b, h, i, j) sits at {@code b·s0 + h·s1 + i·s2 + j·s3}.
 *
 * <p>Mutable and reused: an operator owns one and refills it on every call, so validating does not
 * allocate in steady state.
 */
public final class AttentionShape {
  public int b, hq, hkv, sq, sk, d, dv;
  public float scale;
  public final long[] maskStrides = new long[4];
  public final long[] biasStrides = new long[4];
  private final long[] expect = new long[4];

  /**
   * Checks every argument and fills this object; throws IllegalArgumentException naming the first
   * argument that is wrong. {@code where} is the backend's rule for the memory of each tensor (for
   * the CPU: host memory its workers can reach, so a confined arena is refused up front).
   */
  public AttentionShape validate(
      Tensor q,
      Tensor k,
      Tensor v,
      AttentionOptions o,
      Tensor out,
      Tensor lse,
      Tensor weights,
      Placement where) {
    requireNonNull("q", q);
    requireNonNull("k", k);
    requireNonNull("v", v);
    requireNonNull("out", out);
    requireNonNull("options", o);
    requireRank("q", q, 4, "[B, Hq, Sq, D]");
    requireRank("k", k, 4, "[B, Hkv, Sk, D]");
    requireRank("v", v, 4, "[B, Hkv, Sk, Dv]");
    int b = toInt("q", "batch", q.size(0));
    int hq = toInt("q", "heads", q.size(1));
    int sq = toInt("q", "query length", q.size(2));
    int d = toInt("q", "head dim", q.size(3));
    int hkv = toInt("k", "heads", k.size(1));
    int sk = toInt("k", "key length", k.size(2));
    int dv = toInt("v", "head dim", v.size(3));
    if (k.size(0) != b) fail("k: batch " + k.size(0) + " != q batch " + b);
    if (v.size(0) != b) fail("v: batch " + v.size(0) + " != q batch " + b);
    if (d < 1) fail("q: head dim must be >= 1, got " + d);
    if (dv < 1) fail("v: head dim must be >= 1, got " + dv);
    if (k.size(3) != d) fail("k: head dim " + k.size(3) + " != q head dim " + d);
    if (v.size(1) != hkv) fail("v: heads " + v.size(1) + " != k heads " + hkv);
    if (v.size(2) != sk) fail("v: key length " + v.size(2) + " != k key length " + sk);
    if (hkv < 1 && hq > 0) fail("k: heads must be >= 1, got " + hkv);
    if (hkv > 0 && hq % hkv != 0) {
      fail("k: heads " + hkv + " must divide q heads " + hq + " (grouped-query attention)");
    }
    expect[0] = b;
    expect[1] = hq;
    expect[2] = sq;
    expect[3] = dv;
    requireShape("out", out, expect, 4);
    if (lse != null) requireShape("lse", lse, expect, 3);
    expect[3] = sk;
    if (weights != null) requireShape("weights", weights, expect, 4);

    float scale = o.scaleFor(d);
    if (!Float.isFinite(scale)) fail("scale: must be finite, got " + scale);

    int[] lengths = o.keyLengthsView();
    if (lengths != null) {
      if (lengths.length != b) {
        fail("key_lengths: must have one entry per batch (" + b + "), got " + lengths.length);
      }
      for (int i = 0; i < b; i++) {
        if (lengths[i] < 0 || lengths[i] > sk) {
          fail("key_lengths[" + i + "] = " + lengths[i] + " must be in [0, Sk = " + sk + "]");
        }
      }
    }
    Mask mask = o.mask();
    if (mask != null) {
      broadcastStrides(
          mask.isBlockMask() ? "block" : "keep",
          mask.shape(),
          null,
          new long[] {b, hq, sq, sk},
          maskStrides);
    }
    Tensor bias = o.bias();
    if (bias != null) {
      where.require("bias", bias);
      broadcastStrides(
          "bias", bias.shape(), bias.strides(), new long[] {b, hq, sq, sk}, biasStrides);
    }
    where.require("q", q);
    where.require("k", k);
    where.require("v", v);
    where.require("out", out);
    if (lse != null) where.require("lse", lse);
    if (weights != null) where.require("weights", weights);

    this.b = b;
    this.hq = hq;
    this.hkv = hkv;
    this.sq = sq;
    this.sk = sk;
    this.d = d;
    this.dv = dv;
    this.scale = scale;
    return this;
  }

  /** Refuses memory that the calling thread or {@code worker} (when given) cannot reach. */
  public static void requireAccessible(String name, Tensor t, Thread worker) {
    if (!t.isAccessibleBy(Thread.currentThread())) {
      fail(name + ": memory is not accessible from the calling thread");
    }
    if (worker != null && !t.isAccessibleBy(worker)) {
      fail(
          name
              + ": memory is confined to one thread, and operators run on several; allocate"
              + " it with Tensor.allocate or a shared, auto or global Arena");
    }
  }

  /**
   * Strides that broadcast {@code shape} (row-major, or with {@code strides} when given) to {@code
   * target} by numpy rules; the names in messages are the argument's.
   */
  public static long[] broadcastStrides(
      String name, long[] shape, long[] strides, long[] target, long[] out) {
    if (shape.length > target.length) {
      fail(
          name
              + ": rank "
              + shape.length
              + " exceeds "
              + target.length
              + " (shape "
              + Arrays.toString(shape)
              + " cannot broadcast to "
              + Arrays.toString(target)
              + ")");
    }
    long[] own = strides;
    if (own == null) {
      own = new long[shape.length];
      long s = 1;
      for (int i = shape.length - 1; i >= 0; i--) {
        own[i] = s;
        s *= Math.max(1, shape[i]);
      }
    }
    java.util.Arrays.fill(out, 0);
    int shift = target.length - shape.length;
    for (int i = 0; i < shape.length; i++) {
      long n = shape[i], t = target[i + shift];
      if (n == t) out[i + shift] = t == 1 ? 0 : own[i];
      else if (n == 1) out[i + shift] = 0;
      else {
        fail(
            name
                + ": dim "
                + i
                + " of shape "
                + Arrays.toString(shape)
                + " is "
                + n
                + ", must be 1 or "
                + t
                + " to broadcast to "
                + Arrays.toString(target));
      }
    }
    return out;
  }

  public static void requireNonNull(String name, Object o) {
    if (o == null) fail(name + ": must not be null");
  }

  public static void requireRank(String name, Tensor t, int rank, String layout) {
    if (t.rank() != rank) {
      fail(
          name
              + ": rank must be "
              + rank
              + " "
              + layout
              + ", got "
              + t.rank()
              + " (shape "
              + Arrays.toString(t.shape())
              + ")");
    }
  }

  /** Requires the shape {@code shape[0..rank)}; a match allocates nothing. */
  public static void requireShape(String name, Tensor t, long[] shape, int rank) {
    boolean same = t.rank() == rank;
    for (int i = 0; same && i < rank; i++) same = t.size(i) == shape[i];
    if (!same) {
      fail(
          name
              + ": shape must be "
              + Arrays.toString(Arrays.copyOf(shape, rank))
              + ", got "
              + Arrays.toString(t.shape()));
    }
  }

  /** Requires {@code t} to have the shape of {@code like}; a match allocates nothing. */
  public static void requireSameShape(String name, Tensor t, Tensor like) {
    boolean same = t.rank() == like.rank();
    for (int i = 0; same && i < t.rank(); i++) same = t.size(i) == like.size(i);
    if (!same) {
      fail(
          name
              + ": shape must be "
              + Arrays.toString(like.shape())
              + ", got "
              + Arrays.toString(t.shape()));
    }
  }

  static int toInt(String name, String what, long n) {
    if (n > Integer.MAX_VALUE) fail(name + ": " + what + " " + n + " exceeds 2^31-1");
    return (int) n;
  }

  public static void fail(String message) {
    throw new IllegalArgumentException(message);
  }
}
