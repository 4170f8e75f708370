package io.github.seqkernels.cuda;

/**
 * The library's strided products in cuBLAS's column-major terms: a pure function from a layout to
 * the arguments of {@code cublasSgemm} / {@code cublasSgemmStridedBatched}, or the reason there are
 * none. Tested exhaustively without a GPU (CublasLayoutTest evaluates each call it makes with a
 * scalar column-major SGEMM and compares with the row-major product).
 *
 * <p>Our side: {@code Y = op(A)·op(B)}, op(A) {@code [M, K]} with element (i, k) at {@code i·as0 +
 * k·as1}, op(B) {@code [K, N]} at {@code k·bs0 + j·bs1}, Y {@code [M, N]} at {@code i·ys0 + j·ys1};
 * batch entry e adds {@code e·aBatch}, {@code e·bBatch}, {@code e·yBatch}. Transposes are already
 * in the strides.
 *
 * <p>cuBLAS's side: every matrix is column-major with unit stride down a column and a leading
 * dimension {@code ld >= max(1, rows)} between columns, read as is (N) or transposed (T). So:
 *
 * <ul>
 *   <li>a matrix {@code [r, c]} with strides (s0, s1) is column-major [r, c] with ld = s1 when s0
 *       is 1 (N), or the transpose of column-major [c, r] with ld = s0 when s1 is 1 (T); a dim of
 *       size 1 may have any stride, an empty matrix any layout; with neither stride 1 (a non-unit
 *       inner stride, a stride-0 broadcast) or an ld below the extent (overlapping rows) the layout
 *       is not expressible;
 *   <li>Y column-major (ys0 = 1): Y = op(A)·op(B) as is: cuBLAS's A is ours, m = M, n = N;
 *   <li>Y row-major (ys1 = 1, the usual case): Yᵀ is column-major, and Yᵀ = op(B)ᵀ·op(A)ᵀ: cuBLAS's
 *       A is our op(B)ᵀ, its B our op(A)ᵀ, m = N, n = M (swapped), each transposed view read with
 *       its strides exchanged;
 *   <li>a batch is one strided-batched call when its strides are non-negative (A's and B's may be
 *       0: one matrix shared by the batch) and the count fits an int.
 * </ul>
 */
final class CublasLayout {
  private CublasLayout() {}

  /** What {@link #map} returns: a call, or why there is none. */
  sealed interface Plan permits Call, NotExpressible {}

  /**
   * cuBLAS's arguments, column-major. {@code swapped}: its A operand is our B and its B our A (the
   * row-major form Yᵀ = op(B)ᵀ·op(A)ᵀ); {@code batch} 1 means one cublasSgemm, strides then 0.
   */
  record Call(
      boolean swapped,
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      int lda,
      int ldb,
      int ldc,
      long strideA,
      long strideB,
      long strideC,
      int batch)
      implements Plan {
    /** The device pointer cuBLAS takes as its A, given ours. */
    long operandA(long ourA, long ourB) {
      return swapped ? ourB : ourA;
    }

    /** The device pointer cuBLAS takes as its B, given ours. */
    long operandB(long ourA, long ourB) {
      return swapped ? ourA : ourB;
    }
  }

  /** A layout cuBLAS cannot take; the reason names the operand and its strides. */
  record NotExpressible(String reason) implements Plan {}

  /** One matrix read column-major: transposed or not, and its leading dimension. */
  private record ColumnMajor(boolean trans, int ld) {}

  /** One product (batch 1). */
  static Plan map(int m, int n, int k, long as0, long as1, long bs0, long bs1, long ys0, long ys1) {
    return map(m, n, k, as0, as1, bs0, bs1, ys0, ys1, 1, 0, 0, 0);
  }

  /** {@code batch} products whose operands step by aBatch, bBatch and yBatch elements. */
  static Plan map(
      int m,
      int n,
      int k,
      long as0,
      long as1,
      long bs0,
      long bs1,
      long ys0,
      long ys1,
      long batch,
      long aBatch,
      long bBatch,
      long yBatch) {
    if (m < 0 || n < 0 || k < 0 || batch < 1) {
      return new NotExpressible("sizes must be >= 0 and batch >= 1");
    }
    if (batch > Integer.MAX_VALUE) {
      return new NotExpressible("batch " + batch + " exceeds cuBLAS's int batch count");
    }
    if (batch > 1 && (aBatch < 0 || bBatch < 0 || yBatch < 0)) {
      return new NotExpressible(
          "negative batch strides (a " + aBatch + ", b " + bBatch + ", y " + yBatch + ")");
    }
    ColumnMajor y = columnMajor(m, n, ys0, ys1);
    if (y == null) return notExpressible("y", m, n, ys0, ys1);
    long sa = batch > 1 ? aBatch : 0, sb = batch > 1 ? bBatch : 0, sy = batch > 1 ? yBatch : 0;
    if (!y.trans) {
      // Y column-major: Y = op(A)·op(B) with cuBLAS's operands ours.
      ColumnMajor a = columnMajor(m, k, as0, as1), b = columnMajor(k, n, bs0, bs1);
      if (a == null) return notExpressible("a", m, k, as0, as1);
      if (b == null) return notExpressible("b", k, n, bs0, bs1);
      return new Call(false, a.trans, b.trans, m, n, k, a.ld, b.ld, y.ld, sa, sb, sy, (int) batch);
    }
    // Y row-major: Yᵀ [N, M] column-major = op(B)ᵀ [N, K] · op(A)ᵀ [K, M].
    ColumnMajor bt = columnMajor(n, k, bs1, bs0), at = columnMajor(k, m, as1, as0);
    if (bt == null) return notExpressible("b", k, n, bs0, bs1);
    if (at == null) return notExpressible("a", m, k, as0, as1);
    return new Call(true, bt.trans, at.trans, n, m, k, bt.ld, at.ld, y.ld, sb, sa, sy, (int) batch);
  }

  /**
   * A {@code [rows, cols]} matrix with strides (s0, s1) as cuBLAS reads it, or null: column-major
   * as is (N, ld = s1) when s0 is 1, else the transpose of a column-major {@code [cols, rows]} (T,
   * ld = s0) when s1 is 1; the stride of a dim of size 1 is free, and so is everything of an empty
   * matrix.
   */
  private static ColumnMajor columnMajor(long rows, long cols, long s0, long s1) {
    if (rows == 0 || cols == 0) return new ColumnMajor(false, (int) Math.max(1, rows));
    if (s0 == 1 || rows == 1) {
      long ld = cols == 1 ? Math.max(1, rows) : s1;
      if (ld >= rows && ld <= Integer.MAX_VALUE) return new ColumnMajor(false, (int) ld);
    }
    if (s1 == 1 || cols == 1) {
      long ld = rows == 1 ? Math.max(1, cols) : s0;
      if (ld >= cols && ld <= Integer.MAX_VALUE) return new ColumnMajor(true, (int) ld);
    }
    return null;
  }

  private static NotExpressible notExpressible(
      String name, long rows, long cols, long s0, long s1) {
    return new NotExpressible(
        name
            + ": ["
            + rows
            + ", "
            + cols
            + "] with strides ["
            + s0
            + ", "
            + s1
            + "] has no unit stride with the other at least its extent");
  }
}
