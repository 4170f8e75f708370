package io.github.seqkernels.cpu;

import io.github.seqkernels.MatMulOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;
import io.github.seqkernels.internal.Placement;
import io.github.seqkernels.internal.Broadcast;
import io.github.seqkernels.internal.WorkerPool;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * numpy / ONNX MatMul on the CPU, on {@link CpuGemm}'s packing and micro-kernel, so every element
 * is the same fused multiply-add chain as there and the result is bit-identical for any thread
 * count.
 *
 * <p>Design: the batch dims broadcast by strides (0 along a broadcast dim), so nothing is copied.
 * Three ways to run, chosen from the shapes alone:
 *
 * <ul>
 *   <li>one product: when b is shared by every batch entry and the batch dims of a and y fold into
 *       their row dim (a linear layer on {@code [B, S, I]}), the whole call is one {@code [B·S, K]
 *       · [K, N]} product, B packed once, parallel inside;
 *   <li>product by product, each parallel inside, when there are few big ones;
 *   <li>otherwise the batch entries are split across the pool, each run serially by a worker (many
 *       small products, as in attention's per-head matrices).
 * </ul>
 */
final class CpuMatMul implements MatMulOp, WorkerPool.Task {
  /** Multiply-adds per product above which a product is worth the whole pool to itself. */
  private static final long BIG_PRODUCT = 1L << 21;

  /** Multiply-adds a batch piece should hold at least, so small products share a piece. */
  private static final long PIECE_WORK = 1L << 16;

  private static final long NO = Long.MIN_VALUE;

  private final WorkerPool pool;
  private final CpuGemm gemm;
  private final CpuGemm.Scratch[] scratch;
  private final CpuGemm.Operand oa = new CpuGemm.Operand(), ob = new CpuGemm.Operand();
  private final CpuGemm.Operand oy = new CpuGemm.Operand();

  // The current call, set under the lock; read by the pieces. Batch arrays grow with the rank.
  private long[] batch = new long[0], aSt = new long[0], bSt = new long[0], ySt = new long[0];
  private int batchRank, m, n, k;
  private long batches, perPiece;
  private MemorySegment aSeg, bSeg, ySeg;
  private long aOff, bOff, yOff, aRs, aCs, bRs, bCs, yRs, yCs;

  CpuMatMul(WorkerPool pool, CpuGemm gemm) {
    this.pool = pool;
    this.gemm = gemm;
    this.scratch = new CpuGemm.Scratch[pool.parallelism()];
    for (int i = 0; i < scratch.length; i++) scratch[i] = new CpuGemm.Scratch();
  }

  @Override
  public synchronized void forward(Tensor a, Tensor b, Tensor y) {
    validate(a, b, y);
    if (batches == 0 || m == 0 || n == 0) return;
    aSeg = a.segment();
    bSeg = b.segment();
    ySeg = y.segment();
    try {
      run();
    } finally {
      aSeg = bSeg = ySeg = null;
      oa.clear();
      ob.clear();
      oy.clear();
    }
  }

  private void run() {
    int threads = pool.parallelism();
    long work = (long) m * n * k;

    // One product: b shared by the whole batch, a's and y's batch dims folding into their rows.
    boolean bShared = true;
    for (int d = 0; d < batchRank; d++) bShared &= batch[d] == 1 || bSt[d] == 0;
    long aFold = bShared ? foldedStride(aSt, aRs) : NO;
    long yFold = aFold == NO ? NO : foldedStride(ySt, yRs);
    if (yFold != NO && batches * m <= Integer.MAX_VALUE) {
      oa.set(null, aSeg, aOff, aFold, aCs);
      ob.set(null, bSeg, bOff, bRs, bCs);
      oy.set(null, ySeg, yOff, yFold, yCs);
      gemm.multiply(oa, ob, oy, (int) (batches * m), n, k);
      return;
    }

    // Few big products: each gets the whole pool.
    if (batches == 1 || (threads > 1 && work >= BIG_PRODUCT && batches < 4L * threads)) {
      for (long g = 0; g < batches; g++) {
        entry(g, oa, ob, oy);
        gemm.multiply(oa, ob, oy, m, n, k);
      }
      return;
    }

    // Many products: batch entries split across the pool, serial inside.
    perPiece = Math.max(1, Math.min(batches, PIECE_WORK / Math.max(1, work)));
    perPiece = Math.max(perPiece, (batches + Integer.MAX_VALUE - 1) / Integer.MAX_VALUE);
    pool.run((int) ((batches + perPiece - 1) / perPiece), this);
  }

  @Override
  public void run(int piece, int worker) {
    CpuGemm.Scratch s = scratch[worker];
    long g0 = piece * perPiece, g1 = Math.min(batches, g0 + perPiece);
    try {
      for (long g = g0; g < g1; g++) {
        entry(g, s.a, s.b, s.y);
        CpuGemm.serial(m, n, k, 1f, 0f, false, s.a, s.b, null, null, s.y, s);
      }
    } finally {
      s.release();
    }
  }

  /** Points the operands at batch entry g (row-major over the broadcast batch shape). */
  private void entry(long g, CpuGemm.Operand a, CpuGemm.Operand b, CpuGemm.Operand y) {
    long ao = aOff, bo = bOff, yo = yOff;
    for (int d = batchRank - 1; d >= 0; d--) {
      long i = g % batch[d];
      g /= batch[d];
      ao += i * aSt[d];
      bo += i * bSt[d];
      yo += i * ySt[d];
    }
    a.set(null, aSeg, ao, aRs, aCs);
    b.set(null, bSeg, bo, bRs, bCs);
    y.set(null, ySeg, yo, yRs, yCs);
  }

  /**
   * The stride of the row index when the batch dims (strides st) and the row dim (m rows, stride
   * rs) are read as one dim of batches·m rows, or NO when they do not fold. Dims of size 1 fold
   * whatever their stride.
   */
  private long foldedStride(long[] st, long rs) {
    long stride = m == 1 ? NO : rs, span = m;
    for (int d = batchRank - 1; d >= 0; d--) {
      if (batch[d] == 1) continue;
      if (stride == NO) stride = st[d];
      else if (st[d] != stride * span) return NO;
      span *= batch[d];
    }
    return stride == NO ? 0 : stride;
  }

  /**
   * Checks the shapes and fills the geometry fields without allocating; on a mismatch, the shared
   * rule's message ({@link Broadcast#matmulShape}).
   */
  private void validate(Tensor a, Tensor b, Tensor y) {
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
      AttentionShape.fail(
          "y: shape must be "
              + Arrays.toString(Broadcast.matmulShape(a.shape(), b.shape()))
              + ", got "
              + Arrays.toString(y.shape()));
    }
    CpuGemm.requireSize("a", "rows M", mm, Integer.MAX_VALUE);
    CpuGemm.requireSize("b", "columns N", nn, Integer.MAX_VALUE);
    CpuGemm.requireSize("a", "inner dim K", kk, CpuGemm.MAX_K);
    Placement where = pool.placement();
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
    aOff = a.offset();
    bOff = b.offset();
    yOff = y.offset();
    aRs = ra == 1 ? 0 : a.stride(ra - 2);
    aCs = a.stride(ra - 1);
    bRs = rb == 1 ? b.stride(0) : b.stride(rb - 2);
    bCs = rb == 1 ? 0 : b.stride(rb - 1);
    yRs = ra == 1 ? 0 : y.stride(r);
    yCs = rb == 1 ? 0 : y.stride(yr - 1);
  }
}
