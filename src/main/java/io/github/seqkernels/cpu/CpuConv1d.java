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
 * <p>TODO(perf): the GEMM packs w (its op(B) once the thin product is transposed) on every call;
 * Silero VAD's convs have a few output columns, so that packing dominates (measured after warm-up:
 * ~85 us for the [258, 1, 256] STFT conv on 4 columns, ~70 us for the [128, 129, 3] encoder conv,
 * about 6 GFLOP/s). Keeping w packed across calls (CpuGemm.pack) when w is unchanged would cut it.
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

  // The current call, set under the lock; read by the pieces.
  private Tensor x, w, bias, y;
  private int groups, cg, opg, k, kk, l, lout, stride, dilation, padBegin, chunk, chunks;
  private boolean packed;

  CpuConv1d(WorkerPool pool, CpuGemm gemm) {
    this.pool = pool;
    this.gemm = gemm;
    int p = pool.parallelism();
    this.cols = new float[p][0];
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

    // w as op(A) [O, C/G·K]: in place when (c, j) fold into one dim, else packed row-major.
    packed = !(cg == 1 || k == 1 || w.stride(1) == (long) k * w.stride(2));
    if (packed) {
      int len = Math.multiplyExact((int) oc, kk);
      if (wPacked.length < len) wPacked = new float[len];
      MemorySegment ws = w.segment();
      for (int oi = 0, at = 0; oi < oc; oi++) {
        for (int c = 0; c < cg; c++) {
          for (int j = 0; j < k; j++) {
            wPacked[at++] =
                ws.getAtIndex(
                    F32, w.offset() + oi * w.stride(0) + c * w.stride(1) + j * w.stride(2));
          }
        }
      }
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
    operands(op, b, g, t0, tc, col);
    try {
      CpuGemm.serial(opg, tc, kk, 1f, 1f, bias != null, op[0], op[1], null, op[2], op[3], s);
    } finally {
      s.release();
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

  private static long ceilDiv(long a, long b) {
    return -Math.floorDiv(-a, b);
  }
}
