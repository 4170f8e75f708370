package io.github.seqkernels.cpu;

import static io.github.seqkernels.cpu.CpuVectors.LANES;
import static io.github.seqkernels.cpu.CpuVectors.SPECIES;

import io.github.seqkernels.Activation;
import io.github.seqkernels.ElementwiseOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;
import io.github.seqkernels.internal.LayerShape;
import io.github.seqkernels.internal.WorkerPool;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Elementwise activation and broadcasting add on the CPU.
 *
 * <p>Design: the work is cut into rows along the last dim. When every operand is contiguous (and,
 * for add, b has a's shape) the whole tensor is one flat row, cut into pieces of {@link
 * #PIECE_ELEMENTS}; otherwise each row is one unit, with rows grouped into pieces of about that
 * many elements. A row whose operands all have unit stride along it (or stride 0: b broadcast along
 * the row) is read and written in place with vectors; any other row is gathered into a worker-owned
 * line, computed there and scattered back. Tails are masked vectors, not scalar code, so an
 * element's result does not depend on where it falls. Pieces go across the worker pool.
 */
final class CpuElementwise implements ElementwiseOp, WorkerPool.Task {
  private static final int PIECE_ELEMENTS = 1 << 14;
  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
  private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

  private final WorkerPool pool;
  private final float[][] lineA, lineB;

  // The current call, set under the lock; read by the pieces.
  private Tensor a, b, y;
  private Activation f; // null: add
  private long[] bStrides = new long[0];
  private int rank, n;
  private long rows, rowsPerPiece;
  private boolean flat;

  CpuElementwise(WorkerPool pool) {
    this.pool = pool;
    this.lineA = new float[pool.parallelism()][0];
    this.lineB = new float[pool.parallelism()][0];
  }

  @Override
  public synchronized void apply(Tensor x, Activation f, Tensor y) {
    LayerShape.activation(x, f, y, pool.placement());
    boolean flat = dense(x) && dense(y);
    if (!flat) requireRowLength("x", x);
    start(x, null, f, y, flat);
  }

  @Override
  public synchronized void add(Tensor a, Tensor b, Tensor y) {
    bStrides = LayerShape.add(a, b, y, bStrides, pool.placement());
    boolean sameShape = b.rank() == a.rank();
    for (int d = 0; sameShape && d < a.rank(); d++) sameShape = b.size(d) == a.size(d);
    boolean flat = sameShape && dense(a) && dense(b) && dense(y);
    if (!flat) requireRowLength("a", a);
    start(a, b, null, y, flat);
  }

  /**
   * True when t's elements are row-major with no gaps (a dim of size 1 may have any stride), so it
   * can be read as one flat run; unlike Tensor.isContiguous, allocates nothing.
   */
  static boolean dense(Tensor t) {
    long expect = 1;
    for (int d = t.rank() - 1; d >= 0; d--) {
      long n = t.size(d);
      if (n == 0) return true;
      if (n != 1 && t.stride(d) != expect) return false;
      expect *= n;
    }
    return true;
  }

  /** A strided call works row by row through a line of the last dim's length. */
  private static void requireRowLength(String name, Tensor t) {
    if (t.rank() > 0 && t.size(t.rank() - 1) > Integer.MAX_VALUE - 64) {
      AttentionShape.fail(
          name + ": last dim " + t.size(t.rank() - 1) + " exceeds 2^31-65 (strided layout)");
    }
  }

  private void start(Tensor a, Tensor b, Activation f, Tensor y, boolean flat) {
    long total = a.numel();
    if (total == 0) return;
    this.a = a;
    this.b = b;
    this.f = f;
    this.y = y;
    this.rank = a.rank();
    this.flat = flat;
    if (flat) { // one run, cut into pieces of PIECE_ELEMENTS
      this.n = (int) Math.min(total, PIECE_ELEMENTS);
      this.rows = (total + n - 1) / n;
      this.rowsPerPiece = 1;
    } else { // rows along the last dim, grouped into pieces of about PIECE_ELEMENTS
      this.n = rank == 0 ? 1 : (int) a.size(rank - 1);
      this.rows = total / n;
      this.rowsPerPiece = Math.max(1, PIECE_ELEMENTS / n);
    }
    for (int i = 0; i < lineA.length; i++) {
      if (!flat && lineA[i].length < n + LANES) {
        lineA[i] = new float[n + LANES];
        lineB[i] = new float[n + LANES];
      }
    }
    try {
      pool.run((int) Math.min(Integer.MAX_VALUE, (rows + rowsPerPiece - 1) / rowsPerPiece), this);
    } finally {
      this.a = this.b = this.y = null;
      this.f = null;
    }
  }

  @Override
  public void run(int piece, int worker) {
    long first = piece * rowsPerPiece, last = Math.min(rows, first + rowsPerPiece);
    MemorySegment as = a.segment(), ys = y.segment(), bs = b == null ? null : b.segment();
    if (flat) {
      long total = a.numel();
      long lo = first * n, hi = Math.min(total, last * n);
      int len = (int) (hi - lo);
      if (f != null) Activations.applyRun(f, as, a.offset() + lo, ys, y.offset() + lo, len);
      else addRun(as, a.offset() + lo, bs, b.offset() + lo, 1, ys, y.offset() + lo, len);
      return;
    }
    long ast = rank == 0 ? 1 : a.stride(rank - 1), yst = rank == 0 ? 1 : y.stride(rank - 1);
    long bst = b == null || rank == 0 ? 0 : bStrides[rank - 1];
    float[] la = lineA[worker], lb = lineB[worker];
    for (long row = first; row < last; row++) {
      long ao = rowStart(a, null, row), yo = rowStart(y, null, row);
      long bo = b == null ? 0 : rowStart(b, bStrides, row);
      if (ast == 1 && yst == 1 && (b == null || bst == 1 || bst == 0)) {
        if (f != null) Activations.applyRun(f, as, ao, ys, yo, n);
        else addRun(as, ao, bs, bo, bst, ys, yo, n);
        continue;
      }
      // General strides: gather, compute in the line, scatter.
      for (int j = 0; j < n; j++) la[j] = as.getAtIndex(F32, ao + j * ast);
      if (f != null) {
        Activations.applyLine(f, la, 0, n);
      } else {
        for (int j = 0; j < n; j++) lb[j] = bs.getAtIndex(F32, bo + j * bst);
        for (int j = 0; j < n; j++) la[j] += lb[j];
      }
      for (int j = 0; j < n; j++) ys.setAtIndex(F32, yo + j * yst, la[j]);
    }
  }

  /** Element index of the first entry of row {@code row} (rows count the leading dims). */
  private long rowStart(Tensor t, long[] strides, long row) {
    long e = t.offset();
    for (int d = rank - 2; d >= 0; d--) {
      long size = a.size(d);
      e += (row % size) * (strides == null ? t.stride(d) : strides[d]);
      row /= size;
    }
    return e;
  }

  /** y = a + b over len elements; a and y unit stride, b stride 1 or 0 (one value broadcast). */
  private static void addRun(
      MemorySegment as,
      long ao,
      MemorySegment bs,
      long bo,
      long bst,
      MemorySegment ys,
      long yo,
      int len) {
    if (bst == 0) addScalarRun(as, ao, bs.getAtIndex(F32, bo), ys, yo, len);
    else addVectorRun(as, ao, bs, bo, ys, yo, len);
  }

  private static void addVectorRun(
      MemorySegment as, long ao, MemorySegment bs, long bo, MemorySegment ys, long yo, int len) {
    int vn = SPECIES.loopBound(len), i = 0;
    for (; i < vn; i += LANES) {
      load(as, ao + i).add(load(bs, bo + i)).intoMemorySegment(ys, (yo + i) * 4, NATIVE);
    }
    if (i < len) { // masked tail
      VectorMask<Float> m = SPECIES.indexInRange(i, len);
      load(as, ao + i, m).add(load(bs, bo + i, m)).intoMemorySegment(ys, (yo + i) * 4, NATIVE, m);
    }
  }

  private static void addScalarRun(
      MemorySegment as, long ao, float b, MemorySegment ys, long yo, int len) {
    FloatVector bv = FloatVector.broadcast(SPECIES, b);
    int vn = SPECIES.loopBound(len), i = 0;
    for (; i < vn; i += LANES) load(as, ao + i).add(bv).intoMemorySegment(ys, (yo + i) * 4, NATIVE);
    if (i < len) { // masked tail
      VectorMask<Float> m = SPECIES.indexInRange(i, len);
      load(as, ao + i, m).add(bv).intoMemorySegment(ys, (yo + i) * 4, NATIVE, m);
    }
  }

  private static FloatVector load(MemorySegment s, long at) {
    return FloatVector.fromMemorySegment(SPECIES, s, at * 4, NATIVE);
  }

  private static FloatVector load(MemorySegment s, long at, VectorMask<Float> m) {
    return FloatVector.fromMemorySegment(SPECIES, s, at * 4, NATIVE, m);
  }
}
