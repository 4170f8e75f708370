package io.github.seqkernels.cpu;

import io.github.seqkernels.Conv1dOp;
import io.github.seqkernels.Conv1dOptions;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.LayerShape;
import io.github.seqkernels.internal.WorkerPool;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Conv1d on the CPU as im2col plus the library's GEMM, per (batch, group):
 *
 * <pre>
 * y[b, g·O/G + o, t] = bias + sum_{c, j} w[g·O/G + o, c, j] · col[(c, j), t]
 * col[(c, j), t]     = x[b, g·C/G + c, t·stride + j·dilation - padBegin]  (0 outside the signal)
 * </pre>
 *
 * so each product is {@code [O/G, C/G·K] · [C/G·K, T]} with the bias as C broadcast along the
 * columns, written straight into y through its strides. w is read in place when its (c, j) dims
 * fold into one (any contiguous w), else packed once per call. The output columns are cut into
 * chunks so that a chunk's col buffer stays within {@link #COL_FLOATS}. One (batch, group) pair
 * runs the GEMM parallel inside; several pairs (a batch, groups, depthwise) are split across the
 * pool, each (pair, chunk) piece building its col in a worker-owned buffer and running the serial
 * GEMM with that worker's scratch. Buffers grow on demand and are reused.
 *
 * <p>{@link #forward} packs w (its op(B) once the thin product is transposed) on every call, which
 * dominates convs with few output columns (Silero VAD's: ~85 us for the [258, 1, 256] STFT conv on
 * 4 columns, ~70 us for the [128, 129, 3] encoder conv). {@link #prepare} packs it once.
 */
final class CpuConv1d implements Conv1dOp, WorkerPool.Task {
  /** Most floats of one col buffer (4 MB): long signals are processed in column chunks. */
  private static final int COL_FLOATS = 1 << 20;

  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

  private final WorkerPool pool;
  private final CpuGemm gemm;
  private final float[][] cols;
  private final CpuGemm.Scratch[] scratch;
  private final CpuGemm.Operand[][] ops; // per worker: a, b, c, y
  private float[] wPacked = new float[0];
  private final float[][] prods; // per worker: a prepared product [tc, O/G]

  // The current call, set under the lock; read by the pieces.
  private Tensor x, w, bias, y;
  private int groups, cg, opg, k, kk, l, lout, stride, dilation, padBegin, chunk, chunks;
  private boolean packed;
  private PreparedConv prepared;

  CpuConv1d(WorkerPool pool, CpuGemm gemm) {
    this.pool = pool;
    this.gemm = gemm;
    int p = pool.parallelism();
    this.cols = new float[p][0];
    this.prods = new float[p][0];
    this.scratch = new CpuGemm.Scratch[p];
    this.ops = new CpuGemm.Operand[p][4];
    for (int i = 0; i < p; i++) {
      scratch[i] = new CpuGemm.Scratch();
      for (int j = 0; j < 4; j++) ops[i][j] = new CpuGemm.Operand();
    }
  }

  @Override
  public synchronized void forward(Tensor x, Tensor w, Tensor bias, Conv1dOptions o, Tensor y) {
    LayerShape.conv1d(x, w, bias, o, y, pool.placement());
    execute(x, w, bias, o, y, null);
  }

  @Override
  public Prepared prepare(Tensor w, Tensor bias, Conv1dOptions o) {
    LayerShape.conv1dWeights(w, bias, o, pool.placement());
    return new PreparedConv(w, bias, o);
  }

  /**
   * Copies of w (row-major [O, C/G·K]) and bias, and per group w's rows packed as op(B) of the
   * transposed product {@code y[t, o] = col[(c, j), t]ᵀ · w[o, (c, j)]ᵀ}: the form the serial GEMM
   * runs thin products in, so a call with few output columns (Silero VAD's) packs nothing.
   */
  private final class PreparedConv implements Prepared {
    private final Tensor w, bias;
    private final float[] biasRow;
    private final CpuGemm.PackedB[] packs;
    private final Conv1dOptions o;
    private volatile boolean closed;

    PreparedConv(Tensor w, Tensor bias, Conv1dOptions o) {
      int oc = (int) w.size(0), cg = (int) w.size(1), k = (int) w.size(2), kk = cg * k;
      float[] row = new float[Math.multiplyExact(oc, kk)];
      rowMajor(w, row);
      this.w = Tensor.wrap(row, oc, cg, k);
      this.biasRow = bias == null ? null : bias.toArray();
      this.bias = bias == null ? null : Tensor.wrap(biasRow, oc);
      this.o = o;
      int g = o.groups(), per = oc / g;
      this.packs = new CpuGemm.PackedB[g];
      CpuGemm.Scratch s = new CpuGemm.Scratch();
      for (int i = 0; i < g; i++) {
        packs[i] = CpuGemm.pack(true, kk, per, row, i * per * kk, kk, null, s);
      }
    }

    @Override
    public void forward(Tensor x, Tensor y) {
      if (closed) throw new IllegalStateException("conv1d: this prepared convolution is closed");
      synchronized (CpuConv1d.this) {
        LayerShape.conv1d(x, w, bias, o, y, pool.placement());
        execute(x, w, bias, o, y, this);
      }
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  /** The convolution after validation; {@code pre} is the prepared form of w, or null. */
  private void execute(
      Tensor x, Tensor w, Tensor bias, Conv1dOptions o, Tensor y, PreparedConv pre) {
    long batch = x.size(0), oc = w.size(0);
    if (batch == 0 || oc == 0) return;
    this.groups = o.groups();
    this.cg = (int) w.size(1);
    this.k = (int) w.size(2);
    this.kk = cg * k;
    this.opg = (int) (oc / groups);
    this.l = (int) x.size(2);
    this.lout = (int) o.outputLength(l, k);
    this.stride = o.stride();
    this.dilation = o.dilation();
    this.padBegin = o.padBegin();
    this.chunk = Math.max(1, Math.min(lout, COL_FLOATS / Math.max(1, kk)));
    this.chunks = (lout + chunk - 1) / chunk;

    // A single product big enough for the parallel GEMM keeps it (packing w is then a small part
    // of the call); the pieces of everything else run the serial GEMM on the prepared w.
    boolean bigOne =
        batch * groups * chunks == 1
            && pool.parallelism() > 1
            && (long) opg * lout * kk >= CpuGemm.SMALL;
    this.prepared = bigOne ? null : pre;
    // w as op(A) [O, C/G·K]: in place when (c, j) fold into one dim, else packed row-major.
    packed = prepared == null && !(cg == 1 || k == 1 || w.stride(1) == (long) k * w.stride(2));
    if (packed) {
      int len = Math.multiplyExact((int) oc, kk);
      if (wPacked.length < len) wPacked = new float[len];
      rowMajor(w, wPacked);
    }
    int colLen = Math.multiplyExact(kk, chunk);
    this.x = x;
    this.w = w;
    this.bias = bias;
    this.y = y;
    try {
      long pairs = batch * groups;
      if (pairs == 1 || pool.parallelism() == 1) {
        if (cols[0].length < colLen) cols[0] = new float[colLen];
        CpuGemm.Operand[] op = ops[0];
        for (long pair = 0; pair < pairs; pair++) {
          for (int q = 0; q < chunks; q++) {
            int t0 = q * chunk, tc = Math.min(chunk, lout - t0);
            int b = (int) (pair / groups), g = (int) (pair % groups);
            im2col(b, g, t0, tc, cols[0]);
            if (prepared != null) {
              preparedProduct(b, g, t0, tc, 0);
              continue;
            }
            operands(op, b, g, t0, tc, cols[0]);
            gemm.multiply(op[0], op[1], bias == null ? null : op[2], op[3], opg, tc, kk, null);
          }
        }
      } else {
        for (int i = 0; i < cols.length; i++)
          if (cols[i].length < colLen) cols[i] = new float[colLen];
        pool.run(Math.toIntExact(pairs * chunks), this);
      }
    } finally {
      this.x = this.w = this.bias = this.y = null;
      this.prepared = null;
      for (CpuGemm.Operand[] op : ops) for (CpuGemm.Operand e : op) e.clear();
    }
  }

  /** One (pair, chunk): its col in the worker's buffer, then the serial GEMM. */
  @Override
  public void run(int piece, int worker) {
    int pair = piece / chunks, q = piece % chunks;
    int b = pair / groups, g = pair % groups;
    int t0 = q * chunk, tc = Math.min(chunk, lout - t0);
    float[] col = cols[worker];
    CpuGemm.Operand[] op = ops[worker];
    CpuGemm.Scratch s = scratch[worker];
    im2col(b, g, t0, tc, col);
    if (prepared != null) {
      preparedProduct(b, g, t0, tc, worker);
      return;
    }
    operands(op, b, g, t0, tc, col);
    try {
      CpuGemm.serial(opg, tc, kk, 1f, 1f, bias != null, op[0], op[1], null, op[2], op[3], s);
    } finally {
      s.release();
    }
  }

  /**
   * Pair (b, g), output columns [t0, t0 + tc) on the prepared w: {@code prod[t, o] = bias[o] +
   * col[(c, j), t]ᵀ · w[o, (c, j)]ᵀ} in the worker's buffer (the same FMA chain over (c, j) and the
   * same bias add as the product forward runs, so the same bits), then written into y.
   */
  private void preparedProduct(int b, int g, int t0, int tc, int worker) {
    int n = tc * opg;
    if (prods[worker].length < n) prods[worker] = new float[n];
    float[] prod = prods[worker];
    boolean withBias = prepared.biasRow != null;
    if (withBias) {
      for (int t = 0; t < tc; t++) System.arraycopy(prepared.biasRow, g * opg, prod, t * opg, opg);
    }
    CpuGemm.gemm(
        true,
        tc,
        1f,
        cols[worker],
        0,
        tc,
        prepared.packs[g],
        withBias ? 1f : 0f,
        prod,
        0,
        opg,
        scratch[worker]);
    MemorySegment ys = y.segment();
    long base = y.offset() + b * y.stride(0) + (long) g * opg * y.stride(1) + t0 * y.stride(2);
    long so = y.stride(1), st = y.stride(2);
    for (int t = 0; t < tc; t++) {
      for (int oi = 0; oi < opg; oi++)
        ys.setAtIndex(F32, base + oi * so + t * st, prod[t * opg + oi]);
    }
  }

  /** Points a (w), b (col), c (bias) and y at pair (b, g), output columns [t0, t0 + tc). */
  private void operands(CpuGemm.Operand[] op, int b, int g, int t0, int tc, float[] col) {
    long row0 = (long) g * opg;
    if (packed) {
      op[0].set(wPacked, null, row0 * kk, kk, 1);
    } else {
      long cs = k == 1 ? w.stride(1) : w.stride(2);
      op[0].set(null, w.segment(), w.offset() + row0 * w.stride(0), w.stride(0), cs);
    }
    op[1].set(col, null, 0, tc, 1);
    if (bias != null) {
      op[2].set(null, bias.segment(), bias.offset() + row0 * bias.stride(0), bias.stride(0), 0);
    }
    long yo = y.offset() + b * y.stride(0) + row0 * y.stride(1) + t0 * y.stride(2);
    op[3].set(null, y.segment(), yo, y.stride(1), y.stride(2));
  }

  /**
   * col[(c·K + j)·tc + t] = x[b, g·C/G + c, (t0 + t)·stride + j·dilation - padBegin], 0 where that
   * falls in the padding.
   */
  private void im2col(int b, int g, int t0, int tc, float[] col) {
    MemorySegment xs = x.segment();
    long xst = x.stride(2);
    for (int c = 0; c < cg; c++) {
      long base = x.offset() + b * x.stride(0) + ((long) g * cg + c) * x.stride(1);
      for (int j = 0; j < k; j++) {
        int at = (c * k + j) * tc;
        long shift = (long) j * dilation - padBegin; // pos = (t0 + t)·stride + shift
        // Outputs t whose position lies in [0, L): t >= lo and t < hi.
        long lo = Math.min(tc, Math.max(0, ceilDiv(-shift, stride) - t0));
        long hi = Math.min(tc, Math.max(lo, ceilDiv(l - shift, stride) - t0));
        Arrays.fill(col, at, at + (int) lo, 0f);
        if (stride == 1 && xst == 1 && hi > lo) {
          MemorySegment.copy(
              xs, F32, (base + t0 + lo + shift) * Float.BYTES, col, at + (int) lo, (int) (hi - lo));
        } else {
          for (long t = lo; t < hi; t++) {
            col[at + (int) t] = xs.getAtIndex(F32, base + ((t0 + t) * stride + shift) * xst);
          }
        }
        Arrays.fill(col, at + (int) hi, at + tc, 0f);
      }
    }
  }

  /** w [O, C/G, K] into dst as row-major [O, C/G·K], any strides. */
  private static void rowMajor(Tensor w, float[] dst) {
    MemorySegment ws = w.segment();
    long oc = w.size(0), cg = w.size(1), k = w.size(2);
    int at = 0;
    for (long oi = 0; oi < oc; oi++) {
      for (long c = 0; c < cg; c++) {
        long base = w.offset() + oi * w.stride(0) + c * w.stride(1);
        for (long j = 0; j < k; j++) dst[at++] = ws.getAtIndex(F32, base + j * w.stride(2));
      }
    }
  }

  private static long ceilDiv(long a, long b) {
    return -Math.floorDiv(-a, b);
  }
}
