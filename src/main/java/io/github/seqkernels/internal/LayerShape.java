package io.github.seqkernels.internal;

import io.github.seqkernels.Activation;
import io.github.seqkernels.Conv1dOptions;
import io.github.seqkernels.Tensor;
import java.util.Arrays;

/**
 * Validation of the Transformer pieces (Linear, LayerNorm, elementwise, Embedding, Conv1d), shared
 * by every backend so that all of them refuse the same input with the same messages. Each check
 * names the argument, the rule and the value, and runs before anything is written. A call that
 * passes allocates nothing (shapes are compared in place; arrays are built only for a message).
 */
public final class LayerShape {
  private LayerShape() {}

  /** Linear: x [..., K], w [N, K], b [N] or null, y [..., N] with x's leading dims. */
  public static void linear(Tensor x, Tensor w, Tensor b, Tensor y, Placement where) {
    AttentionShape.requireNonNull("x", x);
    AttentionShape.requireNonNull("w", w);
    AttentionShape.requireNonNull("y", y);
    AttentionShape.requireRank("w", w, 2, "[N, K]");
    requireRankAtLeast1("x", x, "[..., K]");
    long k = w.size(1), n = w.size(0), kx = x.size(x.rank() - 1);
    if (kx != k) {
      AttentionShape.fail(
          "x: last dim "
              + kx
              + " must equal w's K = "
              + k
              + " (x "
              + Arrays.toString(x.shape())
              + ", w "
              + Arrays.toString(w.shape())
              + ")");
    }
    if (b != null) requireVector("b", b, n);
    boolean same = y.rank() == x.rank() && y.size(y.rank() - 1) == n;
    for (int d = 0; same && d < x.rank() - 1; d++) same = y.size(d) == x.size(d);
    if (!same) {
      long[] want = x.shape();
      want[want.length - 1] = n;
      AttentionShape.requireShape("y", y, want, want.length); // throws
    }
    where.require("x", x);
    where.require("w", w);
    if (b != null) where.require("b", b);
    where.require("y", y);
  }

  /** LayerNorm: x, residual (or null), y [..., E]; scale [E]; bias [E] or null; epsilon >= 0. */
  public static void layerNorm(
      Tensor x,
      Tensor residual,
      Tensor scale,
      Tensor bias,
      float epsilon,
      Tensor y,
      Placement where) {
    AttentionShape.requireNonNull("x", x);
    AttentionShape.requireNonNull("scale", scale);
    AttentionShape.requireNonNull("y", y);
    requireRankAtLeast1("x", x, "[..., E]");
    long e = x.size(x.rank() - 1);
    if (residual != null) AttentionShape.requireSameShape("residual", residual, x);
    requireVector("scale", scale, e);
    if (bias != null) requireVector("bias", bias, e);
    AttentionShape.requireSameShape("y", y, x);
    if (!(epsilon >= 0) || Float.isInfinite(epsilon)) {
      AttentionShape.fail("epsilon: must be finite and >= 0, got " + epsilon);
    }
    if (e > Integer.MAX_VALUE - 64) AttentionShape.fail("x: last dim " + e + " exceeds 2^31-65");
    where.require("x", x);
    if (residual != null) where.require("residual", residual);
    where.require("scale", scale);
    if (bias != null) where.require("bias", bias);
    where.require("y", y);
  }

  /** Embedding: table [V, E]; y [..., E] holding ids.length rows; every id in [0, V). */
  public static void embedding(Tensor table, int[] ids, Tensor y, Placement where) {
    AttentionShape.requireNonNull("table", table);
    AttentionShape.requireNonNull("ids", ids);
    AttentionShape.requireNonNull("y", y);
    AttentionShape.requireRank("table", table, 2, "[V, E]");
    long v = table.size(0), e = table.size(1);
    long rows = 1;
    for (int d = 0; d < y.rank() - 1; d++) rows *= y.size(d);
    if (y.rank() < 1 || y.size(y.rank() - 1) != e || rows != ids.length) {
      AttentionShape.fail(
          "y: shape must be [..., "
              + e
              + "] with ids.length = "
              + ids.length
              + " rows in all, got "
              + Arrays.toString(y.shape()));
    }
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= v) {
        AttentionShape.fail("ids[" + i + "]: must be in [0, V = " + v + "), got " + ids[i]);
      }
    }
    where.require("table", table);
    where.require("y", y);
  }

  /** Conv1d: x [B, C, L], w [O, C/groups, K], bias [O] or null, y [B, O, Lout]. */
  /**
   * The checks of {@link #conv1d} that need no x or y, for {@code Conv1dOp.prepare}: w {@code [O,
   * C/groups, K]}, K >= 1, the options, groups dividing O, bias {@code [O]}.
   */
  public static void conv1dWeights(Tensor w, Tensor bias, Conv1dOptions o, Placement where) {
    AttentionShape.requireNonNull("w", w);
    AttentionShape.requireNonNull("options", o);
    AttentionShape.requireRank("w", w, 3, "[O, C/groups, K]");
    if (o.stride() < 1) AttentionShape.fail("stride: must be >= 1, got " + o.stride());
    if (o.dilation() < 1) AttentionShape.fail("dilation: must be >= 1, got " + o.dilation());
    if (o.groups() < 1) AttentionShape.fail("groups: must be >= 1, got " + o.groups());
    if (o.padBegin() < 0 || o.padEnd() < 0) {
      AttentionShape.fail("pads: must be >= 0, got [" + o.padBegin() + ", " + o.padEnd() + "]");
    }
    if (w.size(0) % o.groups() != 0) {
      AttentionShape.fail(
          "groups: " + o.groups() + " must divide w's out channels O = " + w.size(0));
    }
    if (w.size(2) < 1)
      AttentionShape.fail("w: kernel size K (dim 2) must be >= 1, got " + w.size(2));
    if (w.size(1) * w.size(2) > Integer.MAX_VALUE / 64 || w.size(0) > Integer.MAX_VALUE / 64) {
      AttentionShape.fail("w: sizes exceed 2^25 (shape " + Arrays.toString(w.shape()) + ")");
    }
    if (bias != null) requireVector("bias", bias, w.size(0));
    where.require("w", w);
    if (bias != null) where.require("bias", bias);
  }

  public static void conv1d(
      Tensor x, Tensor w, Tensor bias, Conv1dOptions o, Tensor y, Placement where) {
    AttentionShape.requireNonNull("x", x);
    AttentionShape.requireNonNull("y", y);
    AttentionShape.requireRank("x", x, 3, "[B, C, L]");
    conv1dWeights(w, bias, o, where);
    long b = x.size(0), c = x.size(1), l = x.size(2);
    long oc = w.size(0), cg = w.size(1), k = w.size(2);
    int g = o.groups();
    if (c % g != 0) AttentionShape.fail("groups: " + g + " must divide x's channels C = " + c);
    if (cg != c / g) {
      AttentionShape.fail(
          "w: dim 1 must be C/groups = "
              + c / g
              + ", got "
              + cg
              + " (shape "
              + Arrays.toString(w.shape())
              + ")");
    }
    long lout = o.outputLength(l, k);
    if (lout < 1) {
      AttentionShape.fail(
          "x: length "
              + l
              + " with pads ["
              + o.padBegin()
              + ", "
              + o.padEnd()
              + "] is shorter than the dilated kernel (dilation·(K - 1) + 1 = "
              + ((long) o.dilation() * (k - 1) + 1)
              + "): no output");
    }
    if (y.rank() != 3 || y.size(0) != b || y.size(1) != oc || y.size(2) != lout) {
      AttentionShape.requireShape("y", y, new long[] {b, oc, lout}, 3); // throws
    }
    if (cg * k > Integer.MAX_VALUE / 64 || l > Integer.MAX_VALUE || lout > Integer.MAX_VALUE) {
      AttentionShape.fail("x: sizes exceed 2^31 (C/groups·K = " + cg * k + ", L = " + l + ")");
    }
    where.require("x", x);
    where.require("y", y);
  }

  /** Requires shape [n], with requireShape's message. */
  static void requireVector(String name, Tensor t, long n) {
    if (t.rank() != 1 || t.size(0) != n) {
      AttentionShape.requireShape(name, t, new long[] {n}, 1); // throws
    }
  }

  /** Elementwise activation: y has x's shape. */
  public static void activation(Tensor x, Activation f, Tensor y, Placement where) {
    AttentionShape.requireNonNull("x", x);
    AttentionShape.requireNonNull("f", f);
    AttentionShape.requireNonNull("y", y);
    AttentionShape.requireSameShape("y", y, x);
    where.require("x", x);
    where.require("y", y);
  }

  /**
   * Elementwise add: y has a's shape, b broadcasts to it by numpy rules. Returns b's strides
   * broadcast to a's shape (0 along a broadcast dim), in bStrides when it holds a's rank, else in a
   * new array.
   */
  public static long[] add(Tensor a, Tensor b, Tensor y, long[] bStrides, Placement where) {
    AttentionShape.requireNonNull("a", a);
    AttentionShape.requireNonNull("b", b);
    AttentionShape.requireNonNull("y", y);
    AttentionShape.requireSameShape("y", y, a);
    long[] out = bStrides != null && bStrides.length >= a.rank() ? bStrides : new long[a.rank()];
    broadcastInto(b, a, out);
    where.require("a", a);
    where.require("b", b);
    where.require("y", y);
    return out;
  }

  /**
   * Strides (in elements) that broadcast b to a's shape by numpy rules, into out (a's rank long),
   * without allocating; on a mismatch, the shared rule's message naming "b".
   */
  public static void broadcastInto(Tensor b, Tensor a, long[] out) {
    int ra = a.rank(), rb = b.rank(), shift = ra - rb;
    boolean ok = rb <= ra;
    for (int d = 0; ok && d < ra; d++) {
      int i = d - shift;
      if (i < 0) {
        out[d] = 0;
        continue;
      }
      long n = b.size(i), t = a.size(d);
      if (n == t) out[d] = t == 1 ? 0 : b.stride(i);
      else if (n == 1) out[d] = 0;
      else ok = false;
    }
    if (!ok) AttentionShape.broadcastStrides("b", b.shape(), b.strides(), a.shape(), out); // throws
  }

  static void requireRankAtLeast1(String name, Tensor t, String layout) {
    if (t.rank() < 1) AttentionShape.fail(name + ": rank must be >= 1 " + layout + ", got 0");
  }
}
