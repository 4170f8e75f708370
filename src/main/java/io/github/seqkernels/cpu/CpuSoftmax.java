package io.github.seqkernels.cpu;

import static io.github.seqkernels.cpu.CpuVectors.LANES;
import static io.github.seqkernels.cpu.CpuVectors.SPECIES;

import io.github.seqkernels.SoftmaxOp;
import io.github.seqkernels.SoftmaxOptions;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.SoftmaxShape;
import io.github.seqkernels.internal.WorkerPool;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Softmax along any axis on the CPU. A "row" is the 1-D slice along the axis; each is gathered into
 * a worker-owned array (a bulk copy when the axis is contiguous), normalised there with vector
 * loops plus a scalar tail, and scattered back, so any strides and in-place use work. Rows are
 * split across the worker pool in pieces of about {@link #PIECE_ELEMENTS} elements.
 */
final class CpuSoftmax implements SoftmaxOp, WorkerPool.Task {
  private static final int PIECE_ELEMENTS = 1 << 14;

  private final WorkerPool pool;
  private final float[][] rows;

  // The current call, set under the lock of forward().
  private Tensor x, y;
  private int axis, n, rank, rowsPerPiece;
  private long nRows;
  private float scale;
  private boolean log;

  CpuSoftmax(WorkerPool pool) {
    this.pool = pool;
    this.rows = new float[pool.parallelism()][0];
  }

  @Override
  public synchronized void forward(Tensor x, Tensor y, SoftmaxOptions o) {
    int ax = SoftmaxShape.validate(x, y, o, pool.placement());

    this.x = x;
    this.y = y;
    this.axis = ax;
    this.rank = x.rank();
    this.n = (int) x.size(ax);
    this.scale = o.scale();
    this.log = o.log();
    this.nRows = n == 0 ? 0 : x.numel() / n;
    if (nRows == 0) return;
    this.rowsPerPiece = Math.max(1, PIECE_ELEMENTS / Math.max(1, n));
    long pieces = (nRows + rowsPerPiece - 1) / rowsPerPiece;
    for (int i = 0; i < rows.length; i++) {
      if (rows[i].length < n + LANES) rows[i] = new float[n + LANES]; // room for a padded tail
    }
    try {
      pool.run((int) Math.min(pieces, Integer.MAX_VALUE), this);
    } finally {
      this.x = this.y = null;
    }
  }

  @Override
  public void run(int piece, int worker) {
    float[] buf = rows[worker];
    long first = (long) piece * rowsPerPiece;
    long last = Math.min(nRows, first + rowsPerPiece);
    MemorySegment xs = x.segment(), ys = y.segment();
    long xst = x.stride(axis), yst = y.stride(axis);
    for (long row = first; row < last; row++) {
      CpuAttention.loadRow(xs, rowStart(x, row), xst, buf, 0, n);
      normalize(buf, n, scale, log);
      CpuAttention.storeRow(buf, 0, n, ys, rowStart(y, row), yst);
    }
  }

  /** Element index of the first entry of row {@code row} (rows count the non-axis dims). */
  private long rowStart(Tensor t, long row) {
    long e = t.offset();
    for (int d = rank - 1; d >= 0; d--) {
      if (d == axis) continue;
      long size = t.size(d);
      e += (row % size) * t.stride(d);
      row /= size;
    }
    return e;
  }

  /**
   * Softmax (or log-softmax) of {@code scale · a[0..n)} in place. The max is subtracted before exp
   * so that no term overflows; a row of all -inf has no mass to normalise and becomes 0 (log: -inf)
   * rather than NaN.
   */
  static void normalize(float[] a, int n, float scale, boolean log) {
    int vn = SPECIES.loopBound(n);
    FloatVector sv = FloatVector.broadcast(SPECIES, scale);
    FloatVector mx = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
    int i = 0;
    if (scale == 1f) { // the common case: no pass to write scaled logits
      for (; i < vn; i += LANES) mx = mx.max(FloatVector.fromArray(SPECIES, a, i));
    } else {
      for (; i < vn; i += LANES) {
        FloatVector t = FloatVector.fromArray(SPECIES, a, i).mul(sv);
        t.intoArray(a, i);
        mx = mx.max(t);
      }
    }
    float max = mx.reduceLanes(VectorOperators.MAX);
    for (; i < n; i++) { // scalar tail
      a[i] *= scale;
      max = Math.max(max, a[i]);
    }
    if (max == Float.NEGATIVE_INFINITY) {
      Arrays.fill(a, 0, n, log ? Float.NEGATIVE_INFINITY : 0f);
      return;
    }

    FloatVector mv = FloatVector.broadcast(SPECIES, max);
    float sum;
    if (vn < n && a.length >= vn + LANES) {
      // The tail as one more vector, padded with -inf: exp gives 0 there, which adds nothing.
      Arrays.fill(a, n, vn + LANES, Float.NEGATIVE_INFINITY);
      sum = VectorMath.expShiftedSum(a, 0, vn + LANES, max, !log);
    } else {
      sum = VectorMath.expShiftedSum(a, 0, vn, max, !log);
      for (i = vn; i < n; i++) { // scalar tail, the same exp
        float e = VectorMath.exp(a[i] - max);
        if (!log) a[i] = e;
        sum += e;
      }
    }

    if (log) {
      // (x - max) - log(sum), in that order: max + log(sum) would round away the small part.
      float ls = (float) Math.log(sum);
      FloatVector lv = FloatVector.broadcast(SPECIES, ls);
      for (i = 0; i < vn; i += LANES) {
        FloatVector.fromArray(SPECIES, a, i).sub(mv).sub(lv).intoArray(a, i);
      }
      for (; i < n; i++) a[i] = (a[i] - max) - ls;
    } else {
      float inv = 1f / sum;
      FloatVector iv = FloatVector.broadcast(SPECIES, inv);
      for (i = 0; i < vn; i += LANES) FloatVector.fromArray(SPECIES, a, i).mul(iv).intoArray(a, i);
      for (; i < n; i++) a[i] *= inv;
    }
  }
}
