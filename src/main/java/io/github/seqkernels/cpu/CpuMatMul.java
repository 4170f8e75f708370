package io.github.seqkernels.cpu;

import io.github.seqkernels.MatMulOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.GemmShape;
import io.github.seqkernels.internal.WorkerPool;
import java.lang.foreign.MemorySegment;

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

  // The current call, set under the lock; read by the pieces.
  private final GemmShape sh = new GemmShape();
  private long perPiece;
  private MemorySegment aSeg, bSeg, ySeg;
  private long aOff, bOff, yOff;

  CpuMatMul(WorkerPool pool, CpuGemm gemm) {
    this.pool = pool;
    this.gemm = gemm;
    this.scratch = new CpuGemm.Scratch[pool.parallelism()];
    for (int i = 0; i < scratch.length; i++) scratch[i] = new CpuGemm.Scratch();
  }

  @Override
  public synchronized void forward(Tensor a, Tensor b, Tensor y) {
    sh.matmul(a, b, y, pool.placement());
    aOff = a.offset();
    bOff = b.offset();
    yOff = y.offset();
    if (sh.batches == 0 || sh.m == 0 || sh.n == 0) return;
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
    long work = (long) sh.m * sh.n * sh.k;

    // One product: b shared by the whole batch, a's and y's batch dims folding into their rows.
    boolean bShared = true;
    for (int d = 0; d < sh.batchRank; d++) bShared &= sh.batch[d] == 1 || sh.bSt[d] == 0;
    long aFold = bShared ? foldedStride(sh.aSt, sh.aRs) : NO;
    long yFold = aFold == NO ? NO : foldedStride(sh.ySt, sh.yRs);
    if (yFold != NO && sh.batches * sh.m <= Integer.MAX_VALUE) {
      oa.set(null, aSeg, aOff, aFold, sh.aCs);
      ob.set(null, bSeg, bOff, sh.bRs, sh.bCs);
      oy.set(null, ySeg, yOff, yFold, sh.yCs);
      gemm.multiply(oa, ob, oy, (int) (sh.batches * sh.m), sh.n, sh.k);
      return;
    }

    // Few big products: each gets the whole pool.
    if (sh.batches == 1 || (threads > 1 && work >= BIG_PRODUCT && sh.batches < 4L * threads)) {
      for (long g = 0; g < sh.batches; g++) {
        entry(g, oa, ob, oy);
        gemm.multiply(oa, ob, oy, sh.m, sh.n, sh.k);
      }
      return;
    }

    // Many products: batch entries split across the pool, serial inside.
    perPiece = Math.max(1, Math.min(sh.batches, PIECE_WORK / Math.max(1, work)));
    perPiece = Math.max(perPiece, (sh.batches + Integer.MAX_VALUE - 1) / Integer.MAX_VALUE);
    pool.run((int) ((sh.batches + perPiece - 1) / perPiece), this);
  }

  @Override
  public void run(int piece, int worker) {
    CpuGemm.Scratch s = scratch[worker];
    long g0 = piece * perPiece, g1 = Math.min(sh.batches, g0 + perPiece);
    try {
      for (long g = g0; g < g1; g++) {
        entry(g, s.a, s.b, s.y);
        CpuGemm.serial(sh.m, sh.n, sh.k, 1f, 0f, false, s.a, s.b, null, null, s.y, s);
      }
    } finally {
      s.release();
    }
  }

  /** Points the operands at batch entry g (row-major over the broadcast batch shape). */
  private void entry(long g, CpuGemm.Operand a, CpuGemm.Operand b, CpuGemm.Operand y) {
    int r = sh.batchRank;
    a.set(null, aSeg, aOff + sh.batchOffset(g, r, sh.aSt), sh.aRs, sh.aCs);
    b.set(null, bSeg, bOff + sh.batchOffset(g, r, sh.bSt), sh.bRs, sh.bCs);
    y.set(null, ySeg, yOff + sh.batchOffset(g, r, sh.ySt), sh.yRs, sh.yCs);
  }

  /**
   * The stride of the row index when the batch dims (strides st) and the row dim (m rows, stride
   * rs) are read as one dim of batches·m rows, or NO when they do not fold. Dims of size 1 fold
   * whatever their stride.
   */
  private long foldedStride(long[] st, long rs) {
    long stride = sh.m == 1 ? NO : rs, span = sh.m;
    for (int d = sh.batchRank - 1; d >= 0; d--) {
      if (sh.batch[d] == 1) continue;
      if (stride == NO) stride = st[d];
      else if (st[d] != stride * span) return NO;
      span *= sh.batch[d];
    }
    return stride == NO ? 0 : stride;
  }
}
