package io.github.seqkernels.internal;

import java.util.Arrays;

/** Numpy broadcasting rules shared by the operators. */
public final class Broadcast {
  private Broadcast() {}

  /**
   * The result shape of numpy {@code matmul(a, b)}: rank-1 operands are promoted (a to {@code [1,
   * K]}, b to {@code [K, 1]}) and the promoted unit dim is dropped from the result; batch dims
   * broadcast.
   */
  public static long[] matmulShape(long[] a, long[] b) {
    if (a.length == 0) AttentionShape.fail("a: rank must be >= 1, got 0");
    if (b.length == 0) AttentionShape.fail("b: rank must be >= 1, got 0");
    long[] pa = a.length == 1 ? new long[] {1, a[0]} : a;
    long[] pb = b.length == 1 ? new long[] {b[0], 1} : b;
    long m = pa[pa.length - 2], k = pa[pa.length - 1];
    long kb = pb[pb.length - 2], n = pb[pb.length - 1];
    if (k != kb) {
      AttentionShape.fail(
          "b: inner dim "
              + kb
              + " != a inner dim "
              + k
              + " (a "
              + Arrays.toString(a)
              + ", b "
              + Arrays.toString(b)
              + ")");
    }
    long[] batch =
        broadcastShapes(
            "a", Arrays.copyOf(pa, pa.length - 2), "b", Arrays.copyOf(pb, pb.length - 2));
    int extra = (a.length == 1 ? 0 : 1) + (b.length == 1 ? 0 : 1);
    long[] out = Arrays.copyOf(batch, batch.length + extra);
    int i = batch.length;
    if (a.length != 1) out[i++] = m;
    if (b.length != 1) out[i] = n;
    return out;
  }

  /** The numpy broadcast of two shapes, or IllegalArgumentException naming the dim. */
  public static long[] broadcastShapes(String an, long[] a, String bn, long[] b) {
    int r = Math.max(a.length, b.length);
    long[] out = new long[r];
    for (int i = 0; i < r; i++) {
      long x = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
      long y = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
      if (x != y && x != 1 && y != 1) {
        AttentionShape.fail(
            bn
                + ": batch dim "
                + i
                + " is "
                + y
                + ", "
                + an
                + "'s is "
                + x
                + "; they must be equal or 1 to broadcast");
      }
      out[i] = x == 1 ? y : x;
    }
    return out;
  }
}
