package io.github.seqkernels.cpu;

import static io.github.seqkernels.cpu.CpuVectors.LANES;
import static io.github.seqkernels.cpu.CpuVectors.SPECIES;

import io.github.seqkernels.LayerNormOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.LayerShape;
import io.github.seqkernels.internal.WorkerPool;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * LayerNorm over the last axis on the CPU, rows split across the worker pool in pieces of about
 * {@link #PIECE_ELEMENTS} elements.
 *
 * <p>Per row of length E: (1) r = x + residual into a worker-owned line (vectors straight from the
 * tensors when the row has unit stride, a gather otherwise), summing r; (2) with m that float32
 * mean, the deviations d = r - m: their sum s and sum of squares q over the line, still in L1; the
 * mean is then m + s/E and the variance q/E - (s/E)², the corrected two-pass form: the second pass
 * repairs the rounding of m, so a constant row gives exactly 0 deviations (with BERT's epsilon
 * 1e-12, a mean one ulp off would otherwise show up as ~1e-2 in y); (3) y = (r - mean)·inv·scale +
 * bias, with scale and bias copied once per call into arrays. Tails are masked vectors, so an
 * element's result does not depend on where it falls.
 *
 * <p>TODO(perf): measured with the thread allocation counter, a call allocates nothing after
 * warm-up in a fresh JVM, but in a test JVM that first ran LayerNormTest's grid (every row length,
 * tails) the row loop kept boxing vectors (5 to 330 KB per call at [37, 48]); GELU and Conv1d
 * showed the same now and then, and so did the attention steady-state test, on main too, on the
 * loaded machine. Worth a look with the JIT's logs; no steady-state test covers these pieces until
 * then.
 */
final class CpuLayerNorm implements LayerNormOp, WorkerPool.Task {
  private static final int PIECE_ELEMENTS = 1 << 14;
  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
  private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

  private final WorkerPool pool;
  private final float[][] lines;
  private float[] scaleLine = new float[0], biasLine = new float[0];

  // The current call, set under the lock; read by the pieces.
  private Tensor x, res, y;
  private float epsilon;
  private int rank, e;
  private long rows, rowsPerPiece;

  CpuLayerNorm(WorkerPool pool) {
    this.pool = pool;
    this.lines = new float[pool.parallelism()][0];
  }

  @Override
  public synchronized void forward(
      Tensor x, Tensor residual, Tensor scale, Tensor bias, float epsilon, Tensor y) {
    LayerShape.layerNorm(x, residual, scale, bias, epsilon, y, pool.placement());
    int e = (int) x.size(x.rank() - 1);
    long rows = e == 0 ? 0 : x.numel() / e;
    if (rows == 0) return;
    int padded = e + LANES; // room for whole vectors over the tail
    if (scaleLine.length < padded) {
      scaleLine = new float[padded];
      biasLine = new float[padded];
    }
    copy(scale, scaleLine, e);
    if (bias == null) Arrays.fill(biasLine, 0, e, 0f);
    else copy(bias, biasLine, e);
    for (int i = 0; i < lines.length; i++)
      if (lines[i].length < padded) lines[i] = new float[padded];

    this.x = x;
    this.res = residual;
    this.y = y;
    this.epsilon = epsilon;
    this.rank = x.rank();
    this.e = e;
    this.rows = rows;
    this.rowsPerPiece = Math.max(1, PIECE_ELEMENTS / e);
    try {
      pool.run((int) Math.min(Integer.MAX_VALUE, (rows + rowsPerPiece - 1) / rowsPerPiece), this);
    } finally {
      this.x = this.res = this.y = null;
    }
  }

  @Override
  public void run(int piece, int worker) {
    float[] r = lines[worker];
    long first = piece * rowsPerPiece, last = Math.min(rows, first + rowsPerPiece);
    for (long row = first; row < last; row++) normalizeRow(row, r);
  }

  private void normalizeRow(long row, float[] r) {
    int n = e, vn = SPECIES.loopBound(n);
    // Tail masks are made inside the tail branches only: a mask made for every row escaped to
    // the heap in some JIT states (a row of a multiple of the vector length has no tail).
    MemorySegment xs = x.segment();
    long xo = rowStart(x, row), xst = x.stride(rank - 1);

    // (1) r = x + residual, and its sum.
    FloatVector acc = FloatVector.zero(SPECIES);
    if (xst == 1 && (res == null || res.stride(rank - 1) == 1)) {
      MemorySegment rs = res == null ? null : res.segment();
      long ro = res == null ? 0 : rowStart(res, row);
      int i = 0;
      for (; i < vn; i += LANES) {
        FloatVector v = FloatVector.fromMemorySegment(SPECIES, xs, (xo + i) * 4, NATIVE);
        if (rs != null) v = v.add(FloatVector.fromMemorySegment(SPECIES, rs, (ro + i) * 4, NATIVE));
        v.intoArray(r, i);
        acc = acc.add(v);
      }
      if (i < n) { // masked tail: lanes past n load 0
        VectorMask<Float> tail = SPECIES.indexInRange(i, n);
        FloatVector v = FloatVector.fromMemorySegment(SPECIES, xs, (xo + i) * 4, NATIVE, tail);
        if (rs != null) {
          v = v.add(FloatVector.fromMemorySegment(SPECIES, rs, (ro + i) * 4, NATIVE, tail));
        }
        v.intoArray(r, i);
        acc = acc.add(v);
      }
    } else { // general strides: gather, then the same sums over the line
      for (int j = 0; j < n; j++) r[j] = xs.getAtIndex(F32, xo + j * xst);
      if (res != null) {
        MemorySegment rs = res.segment();
        long ro = rowStart(res, row), rst = res.stride(rank - 1);
        for (int j = 0; j < n; j++) r[j] += rs.getAtIndex(F32, ro + j * rst);
      }
      Arrays.fill(r, n, vn + (vn < n ? LANES : 0), 0f);
      for (int i = 0; i < n; i += LANES) acc = acc.add(FloatVector.fromArray(SPECIES, r, i));
    }
    float m = acc.reduceLanes(VectorOperators.ADD) / n;

    // (2) Deviations from m: their sum repairs m, their squares give the variance.
    FloatVector mv = FloatVector.broadcast(SPECIES, m);
    FloatVector sv = FloatVector.zero(SPECIES), qv = FloatVector.zero(SPECIES);
    int i = 0;
    for (; i < vn; i += LANES) {
      FloatVector d = FloatVector.fromArray(SPECIES, r, i).sub(mv);
      sv = sv.add(d);
      qv = d.fma(d, qv);
    }
    if (i < n) {
      VectorMask<Float> tail = SPECIES.indexInRange(i, n);
      FloatVector d = FloatVector.fromArray(SPECIES, r, i).sub(mv).blend(0f, tail.not());
      sv = sv.add(d);
      qv = d.fma(d, qv);
    }
    float s = sv.reduceLanes(VectorOperators.ADD) / n;
    float var = Math.max(0f, qv.reduceLanes(VectorOperators.ADD) / n - s * s);
    float mean = m + s;
    // A row with no spread and epsilon 0 is 0/0: defined as 0, so y = bias (as the control).
    float inv = var + epsilon > 0 ? (float) (1 / Math.sqrt((double) var + epsilon)) : 0f;

    // (3) y = (r - mean)·inv·scale + bias.
    FloatVector meanV = FloatVector.broadcast(SPECIES, mean);
    FloatVector invV = FloatVector.broadcast(SPECIES, inv);
    MemorySegment ys = y.segment();
    long yo = rowStart(y, row), yst = y.stride(rank - 1);
    if (yst == 1) {
      for (i = 0; i < vn; i += LANES) {
        out(r, i, meanV, invV).intoMemorySegment(ys, (yo + i) * 4, NATIVE);
      }
      if (i < n) {
        VectorMask<Float> tail = SPECIES.indexInRange(i, n);
        out(r, i, meanV, invV).intoMemorySegment(ys, (yo + i) * 4, NATIVE, tail);
      }
    } else {
      for (i = 0; i < n; i += LANES) out(r, i, meanV, invV).intoArray(r, i);
      for (int j = 0; j < n; j++) ys.setAtIndex(F32, yo + j * yst, r[j]);
    }
  }

  private FloatVector out(float[] r, int i, FloatVector mean, FloatVector inv) {
    FloatVector norm = FloatVector.fromArray(SPECIES, r, i).sub(mean).mul(inv);
    return norm.fma(
        FloatVector.fromArray(SPECIES, scaleLine, i), FloatVector.fromArray(SPECIES, biasLine, i));
  }

  /** The n elements of a rank-1 tensor into dst[0..n). */
  static void copy(Tensor t, float[] dst, int n) {
    if (t.stride(0) == 1) {
      MemorySegment.copy(t.segment(), F32, t.offset() * Float.BYTES, dst, 0, n);
    } else {
      for (int j = 0; j < n; j++)
        dst[j] = t.segment().getAtIndex(F32, t.offset() + j * t.stride(0));
    }
  }

  /** Element index of the first entry of row {@code row} (rows count the leading dims). */
  private long rowStart(Tensor t, long row) {
    long at = t.offset();
    for (int d = rank - 2; d >= 0; d--) {
      long size = t.size(d);
      at += (row % size) * t.stride(d);
      row /= size;
    }
    return at;
  }
}
