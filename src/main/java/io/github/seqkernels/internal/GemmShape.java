package io.github.seqkernels.internal;

import static io.github.seqkernels.internal.AttentionShape.fail;

import io.github.seqkernels.GemmOptions;
import io.github.seqkernels.Tensor;
import java.util.Arrays;

/**
 * The validated geometry of one GEMM or MatMul call, shared by every backend so that all of them
 * refuse the same input with the same messages. A call that passes allocates nothing: the geometry
 * goes into this object's fields (the batch arrays grow with the rank only), and arrays are built
 * only for a message.
 *
 * <p>Strides are in elements and name the logical operands: op(A)(i, k) at {@code i·aRs + k·aCs},
 * op(B)(k, j) at {@code k·bRs + j·bCs}, Y(i, j) at {@code i·yRs + j·yCs}, whatever the transposes.
 */
public final class GemmShape {
  /**
   * Longest K on every backend: the CPU packs op(A) and op(B) into panels of K·max(MR, NR) floats
   * (MR, NR <= 32) indexed by an int, and the CUDA backend keeps the same limit so that one input
   * is accepted or refused everywhere.
   */
  public static final int MAX_K = Integer.MAX_VALUE / 64;

  /** Rows of op(A) and Y, columns of op(B) and Y, and the inner dim. */
  public int m, n, k;

  /** The strides of op(A), op(B) and Y in one product (GEMM and MatMul). */
  public long aRs, aCs, bRs, bCs, yRs, yCs;

  /** GEMM: c's strides broadcast to [M, N] (0 along a broadcast dim); both 0 without c. */
  public long cRs, cCs;

  /**
   * MatMul: the broadcast batch shape {@code batch[0..batchRank)} and each operand's stride along
   * it (0 where it broadcasts, and for y along dims of size 1); {@code batches} products in all.
   */
  public long[] batch = new long[0], aSt = new long[0], bSt = new long[0], ySt = new long[0];

  public int batchRank;
  public long batches;

  /**
   * ONNX Gemm: a {@code [M, K]} ({@code [K, M]} with transA), b {@code [K, N]} ({@code [N, K]} with
   * transB), c absent or broadcast to {@code [M, N]}, y {@code [M, N]}; {@code where} the backend's
   * rule for each operand's memory. Returns this, filled.
   */
  public GemmShape gemm(Tensor a, Tensor b, Tensor c, GemmOptions o, Tensor y, Placement where) {
    AttentionShape.requireNonNull("a", a);
    AttentionShape.requireNonNull("b", b);
    AttentionShape.requireNonNull("y", y);
    AttentionShape.requireNonNull("options", o);
    AttentionShape.requireRank("a", a, 2, o.transA() ? "[K, M]" : "[M, K]");
    AttentionShape.requireRank("b", b, 2, o.transB() ? "[N, K]" : "[K, N]");
    int ta = o.transA() ? 1 : 0, tb = o.transB() ? 1 : 0;
    long mm = a.size(ta), ka = a.size(1 - ta), kb = b.size(tb), nn = b.size(1 - tb);
    if (ka != kb) {
      fail(
          "b: inner dim "
              + kb
              + " != a inner dim "
              + ka
              + " (a "
              + Arrays.toString(a.shape())
              + (o.transA() ? " transposed" : "")
              + ", b "
              + Arrays.toString(b.shape())
              + (o.transB() ? " transposed" : "")
              + ")");
    }
    requireSize("a", "rows M", mm, Integer.MAX_VALUE);
    requireSize("b", "columns N", nn, Integer.MAX_VALUE);
    requireSize("a", "inner dim K", ka, MAX_K);
    cRs = cCs = 0;
    if (c != null) broadcastC(c, mm, nn);
    if (y.rank() != 2 || y.size(0) != mm || y.size(1) != nn) {
      fail("y: shape must be [" + mm + ", " + nn + "], got " + Arrays.toString(y.shape()));
    }
    where.require("a", a);
    where.require("b", b);
    if (c != null) where.require("c", c);
    where.require("y", y);

    m = (int) mm;
    n = (int) nn;
    k = (int) ka;
    aRs = a.stride(ta);
    aCs = a.stride(1 - ta);
    bRs = b.stride(tb);
    bCs = b.stride(1 - tb);
    yRs = y.stride(0);
    yCs = y.stride(1);
    batchRank = 0;
    batches = 1;
    return this;
  }

  /**
   * numpy / ONNX MatMul: rank-1 operands promoted (a to a row, b to a column, the promoted dim
   * dropped from y), batch dims broadcast; on a mismatch, the shared rule's message ({@link
   * Broadcast#matmulShape}). Returns this, filled.
   */
  public GemmShape matmul(Tensor a, Tensor b, Tensor y, Placement where) {
    AttentionShape.requireNonNull("a", a);
    AttentionShape.requireNonNull("b", b);
    AttentionShape.requireNonNull("y", y);
    int ra = a.rank(), rb = b.rank();
    if (ra == 0 || rb == 0) Broadcast.matmulShape(a.shape(), b.shape()); // throws
    long mm = ra == 1 ? 1 : a.size(ra - 2), kk = a.size(ra - 1);
    long kb = rb == 1 ? b.size(0) : b.size(rb - 2), nn = rb == 1 ? 1 : b.size(rb - 1);
    int na = Math.max(0, ra - 2), nb = Math.max(0, rb - 2), r = Math.max(na, nb);
    if (batch.length < r) {
      batch = new long[r];
      aSt = new long[r];
      bSt = new long[r];
      ySt = new long[r];
    }
    boolean ok = kk == kb;
    for (int d = 0; d < r; d++) {
      int da = d - (r - na), db = d - (r - nb);
      long x = da >= 0 ? a.size(da) : 1, w = db >= 0 ? b.size(db) : 1;
      if (x != w && x != 1 && w != 1) ok = false;
      batch[d] = x == 1 ? w : x;
      aSt[d] = x == 1 ? 0 : a.stride(da);
      bSt[d] = w == 1 ? 0 : b.stride(db);
    }
    if (!ok) Broadcast.matmulShape(a.shape(), b.shape()); // throws
    int yr = r + (ra == 1 ? 0 : 1) + (rb == 1 ? 0 : 1);
    boolean same = y.rank() == yr;
    for (int d = 0; same && d < r; d++) same = y.size(d) == batch[d];
    if (same && ra != 1) same = y.size(r) == mm;
    if (same && rb != 1) same = y.size(yr - 1) == nn;
    if (!same) {
      fail(
          "y: shape must be "
              + Arrays.toString(Broadcast.matmulShape(a.shape(), b.shape()))
              + ", got "
              + Arrays.toString(y.shape()));
    }
    requireSize("a", "rows M", mm, Integer.MAX_VALUE);
    requireSize("b", "columns N", nn, Integer.MAX_VALUE);
    requireSize("a", "inner dim K", kk, MAX_K);
    where.require("a", a);
    where.require("b", b);
    where.require("y", y);

    long count = 1;
    for (int d = 0; d < r; d++) {
      ySt[d] = batch[d] == 1 ? 0 : y.stride(d);
      count = Math.multiplyExact(count, batch[d]); // y's shape, which a tensor could hold
    }
    batchRank = r;
    batches = count;
    m = (int) mm;
    n = (int) nn;
    k = (int) kk;
    aRs = ra == 1 ? 0 : a.stride(ra - 2);
    aCs = a.stride(ra - 1);
    bRs = rb == 1 ? b.stride(0) : b.stride(rb - 2);
    bCs = rb == 1 ? 0 : b.stride(rb - 1);
    yRs = ra == 1 ? 0 : y.stride(r);
    yCs = rb == 1 ? 0 : y.stride(yr - 1);
    cRs = cCs = 0;
    return this;
  }

  /**
   * The offset (elements, along strides st: {@link #aSt}, {@link #bSt} or {@link #ySt}) of batch
   * entry e counted row-major over the batch dims {@code [0, dims)}.
   */
  public long batchOffset(long e, int dims, long[] st) {
    long offset = 0;
    for (int d = dims - 1; d >= 0; d--) {
      offset += e % batch[d] * st[d];
      e /= batch[d];
    }
    return offset;
  }

  /** Sizes must fit int indexing (and K the CPU's packed panels, {@link #MAX_K}). */
  public static void requireSize(String name, String what, long size, long max) {
    if (size > max) fail(name + ": " + what + " " + size + " exceeds " + max);
  }

  /** c's strides broadcast to [m, n] by numpy rules, without allocating when they match. */
  private void broadcastC(Tensor c, long m, long n) {
    int r = c.rank();
    long s0 = r == 2 ? c.size(0) : 1, s1 = r >= 1 ? c.size(r - 1) : 1;
    if (r > 2 || (s0 != m && s0 != 1) || (s1 != n && s1 != 1)) {
      AttentionShape.broadcastStrides(
          "c", c.shape(), c.strides(), new long[] {m, n}, new long[2]); // throws
    }
    cRs = r == 2 && s0 != 1 ? c.stride(0) : 0;
    cCs = r >= 1 && s1 != 1 ? c.stride(r - 1) : 0;
  }
}
