package io.github.seqkernels.cpu;

import static io.github.seqkernels.cpu.CpuVectors.LANES;
import static io.github.seqkernels.cpu.CpuVectors.SPECIES;
import static io.github.seqkernels.cpu.CpuVectors.roundUp;
import static io.github.seqkernels.internal.RecurrentShape.unsqueeze;

import io.github.seqkernels.Activation;
import io.github.seqkernels.Direction;
import io.github.seqkernels.RecurrentCell;
import io.github.seqkernels.RecurrentInputs;
import io.github.seqkernels.RecurrentOp;
import io.github.seqkernels.RecurrentOptions;
import io.github.seqkernels.RecurrentOutputs;
import io.github.seqkernels.RecurrentState;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.RecurrentShape;
import io.github.seqkernels.internal.RecurrentShape.Kind;
import io.github.seqkernels.internal.WorkerPool;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * ONNX LSTM, GRU and RNN layers on the CPU (Vector API).
 *
 * <p>Design, per direction: R is packed once per call (once per cell) into panels of {@link #U}
 * columns, {@code [column block][k][U]}, and the gate columns of each chunk of U hidden units sit
 * side by side ({@code col(g, j) = (j / U)·G·U + g·U + j % U}), so one worker owns whole hidden
 * units: it computes all their gate pre-activations and then their state update, with no barrier
 * between. A panel (K x U floats) stays in L1 while it serves every row block, so the weights
 * stream from memory once per step rather than once per row block. The input projection {@code x·Wᵀ
 * + biases} of every step is one product up front on the library's GEMM (W packed row-major in the
 * same column order); each step then adds {@code h·Rᵀ} and applies the gate math, one pool job (one
 * barrier) per step (two for GRU with linear_before_reset = 0, whose h block needs the whole reset
 * gate first).
 *
 * <p>Determinism: every output element is an FMA chain over k in a fixed order, started from the
 * same value, whatever batch row block, thread or piece computes it, and batch rows never mix. So
 * one sequence gives bit-identical results in any batch and on any thread count.
 *
 * <p>Steps past a sequence's length still run through the products (rows of a batch share them) but
 * leave that row's state alone and write 0 to Y.
 */
final class CpuRecurrent implements RecurrentOp, WorkerPool.Task {
  /** Hidden units per chunk: two vectors, the width of the micro-kernel. */
  private static final int U = 2 * LANES;

  /** Multiply-adds per step below which a step runs on the calling thread alone (~50 µs). */
  private static final long PARALLEL_STEP_WORK = 1L << 20;

  /** Batch rows per register block of the micro-kernel. */
  private static final int RB = 4;

  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

  private final WorkerPool pool;
  private final CpuGemm gemm;
  // wt packed for the GEMM (op(B) panels), made by the first small projection after pack(): a
  // cell projects one row per step, and packing wt on every step cost as much as the product.
  private CpuGemm.PackedB wtPacked;
  private boolean wtPackedValid;
  private final CpuGemm.Scratch projectScratch = new CpuGemm.Scratch();
  private final RecurrentShape shape;
  private final Kind kind;

  // Buffers grown on demand and reused. Row counts are padded to RB with zero rows; hidden
  // units to Hp, a multiple of U.
  private float[] wt = new float[0]; // [I][cols], row-major: the B operand of the projection
  private float[] rt = new float[0]; // [H][cols]
  private float[] xw = new float[0]; // [S][Bp][cols]: biases + x·Wᵀ, per step
  private float[] pre = new float[0]; // [Bp][cols]: this step's pre-activations
  private float[] hCur = new float[0], hNext = new float[0]; // [Bp][Hp]: h, read and written
  private float[] cs = new float[0]; // [Bp][Hp]: LSTM cell state (each unit owns its column)
  private float[] zr = new float[0]; // [Bp][Hp]: GRU update gate, kept for the second phase
  private float[] rh = new float[0]; // [Bp][Hp]: GRU r ⊙ h_prev, the h block's left operand
  private float[] biasCols = new float[0], rbh = new float[0], peep = new float[0];
  private float[] xp = new float[0]; // [S·Bp][I]: x packed row-major, padded rows zero

  // The current call, set under the lock of forward().
  private int s, b, bp, isz, h, hp, cols, chunks, g, phase, t;
  private boolean reverse, linearBeforeReset, inputForget, clipOn;
  private float clip;
  private Activation fAct, gAct, hAct;
  private int[] lens;
  private MemorySegment xSeg, ySeg;
  private final long[] xSt = new long[4], ySt = new long[5];
  private int dir;

  CpuRecurrent(WorkerPool pool, CpuGemm gemm, Kind kind) {
    this.pool = pool;
    this.gemm = gemm;
    this.kind = kind;
    this.shape = new RecurrentShape(kind);
  }

  @Override
  public synchronized void forward(RecurrentInputs in, RecurrentOptions o, RecurrentOutputs out) {
    run(in, o, out, false);
  }

  /** The layer; {@code packed}: the weights are already packed (a cell's steps). */
  private void run(RecurrentInputs in, RecurrentOptions o, RecurrentOutputs out, boolean packed) {
    RecurrentShape sh = shape.validate(in, o, out, pool.placement());
    s = sh.s;
    b = sh.b;
    bp = roundUp(Math.max(b, 1), RB);
    isz = sh.i;
    h = sh.h;
    hp = roundUp(h, U);
    g = kind.gates;
    chunks = hp / U;
    cols = g * hp;
    clip = sh.clip;
    clipOn = !Float.isInfinite(clip);
    linearBeforeReset = o.linearBeforeReset();
    inputForget = o.inputForget();
    lens = in.sequenceLens();
    Tensor x = in.x();
    xSeg = x.segment();
    // x as [S, B, I] strides whatever the layout.
    xSt[0] = x.stride(sh.layout == 0 ? 0 : 1);
    xSt[1] = x.stride(sh.layout == 0 ? 1 : 0);
    xSt[2] = x.stride(2);
    xSt[3] = x.offset();
    Tensor y = out.y();
    ySeg = y == null ? null : y.segment();
    if (y != null) {
      // y as [S, dirs, B, H] strides whatever the layout.
      int[] order = sh.layout == 0 ? new int[] {0, 1, 2, 3} : new int[] {1, 2, 0, 3};
      for (int k = 0; k < 4; k++) ySt[k] = y.stride(order[k]);
      ySt[4] = y.offset();
    }
    grow();
    packX();
    try {
      for (int d = 0; d < sh.dirs; d++) {
        dir = d;
        reverse = o.direction() == Direction.REVERSE || d == 1;
        int na = kind.activations;
        fAct = sh.acts[d * na];
        gAct = na > 1 ? sh.acts[d * na + 1] : null;
        hAct = na > 2 ? sh.acts[d * na + 2] : null;
        if (!packed) {
          pack(in, d);
          wtPackedValid = false;
        }
        loadState(in.initialH(), hCur, d);
        loadState(in.initialC(), cs, d);

        project();
        for (int step = 0; step < s; step++) {
          t = reverse ? s - 1 - step : step;
          phase = 0;
          steps(chunks);
          if (kind == Kind.GRU && !linearBeforeReset) {
            phase = 1;
            steps(chunks);
          }
          float[] tmp = hCur;
          hCur = hNext;
          hNext = tmp;
        }
        storeState(out.yH(), hCur, d);
        storeState(out.yC(), cs, d);
      }
    } finally {
      xSeg = ySeg = null;
      lens = null;
    }
  }

  /**
   * A cell over these weights: w {@code [G·H, I]}, r {@code [G·H, H]}, b {@code [2·G·H]} or null, p
   * {@code [3·H]} or null. Packs them now; each step is a one-step forward with packing skipped.
   */
  RecurrentCell cell(Tensor w, Tensor r, Tensor b, Tensor p, RecurrentOptions o) {
    RecurrentShape.requireCell(kind, w, r, b, p, o);
    Tensor w3 = unsqueeze(w), r3 = unsqueeze(r), b2 = unsqueeze(b), p2 = unsqueeze(p);
    int isz = (int) w.size(1), hs = o.hiddenSize();
    RecurrentOptions opts = o.withLayout(0);
    Tensor probe = Tensor.wrap(new float[isz], 1, 1, isz);
    RecurrentInputs in = new RecurrentInputs(probe, w3, r3, b2, null, null, null, p2);
    synchronized (this) {
      run(in, opts, new RecurrentOutputs(null, null, null), false); // validates and packs
    }
    return new RecurrentCell() {
      @Override
      public void step(Tensor x, RecurrentState state, RecurrentState next) {
        RecurrentShape.requireStep(kind, x, state, next);
        RecurrentInputs step = RecurrentShape.stepInputs(kind, x, w3, r3, b2, p2, state);
        RecurrentOutputs out = RecurrentShape.stepOutputs(kind, next);
        synchronized (CpuRecurrent.this) {
          run(step, opts, out, true);
        }
      }

      @Override
      public int hiddenSize() {
        return hs;
      }

      @Override
      public RecurrentState newState(int batch) {
        return RecurrentState.zeros(batch, hs, kind == Kind.LSTM);
      }
    };
  }

  /**
   * Runs one step's pieces: on the pool when the step is big enough to pay for waking the other
   * threads (a few microseconds each, far more when the machine is oversubscribed), else here.
   */
  private void steps(int pieces) {
    long work = (long) bp * cols * h; // multiply-adds of h·Rᵀ
    if (work >= PARALLEL_STEP_WORK) {
      pool.run(pieces, this);
    } else {
      for (int p = 0; p < pieces; p++) run(p, 0);
    }
  }

  private void grow() {
    wt = ensure(wt, isz * cols);
    rt = ensure(rt, h * cols);
    xw = ensure(xw, s * bp * cols);
    pre = ensure(pre, bp * cols);
    hCur = ensure(hCur, bp * hp);
    hNext = ensure(hNext, bp * hp);
    cs = ensure(cs, bp * hp);
    zr = ensure(zr, bp * hp);
    rh = ensure(rh, bp * hp);
    biasCols = ensure(biasCols, cols);
    rbh = ensure(rbh, hp);
    peep = ensure(peep, 3 * hp);
    xp = ensure(xp, s * bp * isz);
  }

  private static float[] ensure(float[] a, int n) {
    return a.length >= n ? a : new float[n];
  }

  /** Packed column of gate {@code gate}, hidden unit j. */
  private int col(int gate, int j) {
    return (j / U) * g * U + gate * U + j % U;
  }

  /**
   * Packs W[d] and R[d] transposed into the chunked column order, and the per-column bias of the
   * input projection: Wb + Rb, except for the GRU h block with linear_before_reset, whose Rb is
   * added inside the reset product (kept apart in rbh).
   */
  private void pack(RecurrentInputs in, int d) {
    Arrays.fill(wt, 0, isz * cols, 0f);
    Arrays.fill(rt, 0, h * cols, 0f);
    Arrays.fill(biasCols, 0, cols, 0f);
    Arrays.fill(rbh, 0f);
    Arrays.fill(peep, 0f);
    Tensor w = in.w(), r = in.r(), bias = in.b(), p = in.p();
    MemorySegment ws = w.segment(), rs = r.segment();
    long wBase = w.offset() + d * w.stride(0), rBase = r.offset() + d * r.stride(0);
    for (int gate = 0; gate < g; gate++) {
      for (int j = 0; j < h; j++) {
        int c = col(gate, j), row = gate * h + j;
        long wRow = wBase + row * w.stride(1), rRow = rBase + row * r.stride(1);
        int rp = (c / U) * h * U + c % U;
        for (int k = 0; k < isz; k++) wt[k * cols + c] = ws.getAtIndex(F32, wRow + k * w.stride(2));
        for (int k = 0; k < h; k++) rt[rp + k * U] = rs.getAtIndex(F32, rRow + k * r.stride(2));
        if (bias != null) {
          float wb = bias.get(d, row), rb = bias.get(d, g * h + row);
          boolean apart = kind == Kind.GRU && gate == 2 && linearBeforeReset;
          biasCols[c] = apart ? wb : wb + rb;
          if (apart) rbh[j] = rb;
        }
      }
    }
    if (p != null) {
      for (int blk = 0; blk < 3; blk++) {
        for (int j = 0; j < h; j++) peep[blk * hp + j] = p.get(d, blk * h + j);
      }
    }
  }

  private void loadState(Tensor init, float[] st, int d) {
    Arrays.fill(st, 0, bp * hp, 0f);
    if (init == null) return;
    for (int bi = 0; bi < b; bi++) {
      for (int j = 0; j < h; j++) {
        st[bi * hp + j] = shape.layout == 0 ? init.get(d, bi, j) : init.get(bi, d, j);
      }
    }
  }

  private void storeState(Tensor out, float[] st, int d) {
    if (out == null) return;
    for (int bi = 0; bi < b; bi++) {
      for (int j = 0; j < h; j++) {
        if (shape.layout == 0) out.set(st[bi * hp + j], d, bi, j);
        else out.set(st[bi * hp + j], bi, d, j);
      }
    }
  }

  @Override
  public void run(int piece, int worker) {
    if (phase == 0) step(piece);
    else gruHiddenBlock(piece);
  }

  /** x as [S·Bp][I] rows, zero for padded batch rows (which then keep the bias only). */
  private void packX() {
    for (int tt = 0; tt < s; tt++) {
      for (int bi = 0; bi < bp; bi++) {
        int at = (tt * bp + bi) * isz;
        if (bi >= b) {
          Arrays.fill(xp, at, at + isz, 0f);
          continue;
        }
        long row = xSt[3] + tt * xSt[0] + bi * xSt[1];
        for (int k = 0; k < isz; k++) xp[at + k] = xSeg.getAtIndex(F32, row + k * xSt[2]);
      }
    }
  }

  /**
   * The input projection of every step and row at once, on the library's GEMM: xw = biases + x_rows
   * · Wᵀ, [S·Bp, I] x [I, cols]. Each row is one FMA chain per column whatever the thread split
   * (CpuGemm's promise), which keeps the determinism promise above.
   */
  private void project() {
    int rows = s * bp;
    for (int rr = 0; rr < rows; rr++) System.arraycopy(biasCols, 0, xw, rr * cols, cols);
    if (rows <= 0 || isz <= 0) return;
    if ((long) rows * cols * isz < CpuGemm.SMALL) { // serial anyway: on wt packed once
      if (!wtPackedValid) {
        wtPacked = CpuGemm.pack(false, isz, cols, wt, 0, cols, wtPacked, projectScratch);
        wtPackedValid = true;
      }
      CpuGemm.gemm(false, rows, 1f, xp, 0, isz, wtPacked, 1f, xw, 0, cols, projectScratch);
    } else {
      gemm.gemm(false, false, rows, cols, isz, 1f, xp, 0, isz, wt, 0, cols, 1f, xw, 0, cols);
    }
  }

  /** Whether batch row bi takes part in step t (t is before its length). */
  private boolean valid(int bi) {
    return bi < b && (lens == null || t < lens[bi]);
  }

  /**
   * One step for the hidden units of chunk {@code u}, all batch rows: each gate's R panel (H x U
   * floats) serves every row block while it sits in L1, then the gate math runs per row.
   */
  private void step(int u) {
    int stepRow = t * bp * cols;
    boolean lbr0 = kind == Kind.GRU && !linearBeforeReset; // h block waits for phase 1
    for (int gate = 0; gate < g; gate++) {
      if (lbr0 && gate == 2) continue;
      int cb = u * g + gate, c = cb * U;
      boolean lbrH = kind == Kind.GRU && gate == 2; // linear_before_reset: h·Rhᵀ + Rbh apart
      for (int r0 = 0; r0 < bp; r0 += RB) {
        for (int rr = r0; rr < r0 + RB; rr++) {
          if (lbrH) System.arraycopy(rbh, u * U, pre, rr * cols + c, U);
          else System.arraycopy(xw, stepRow + rr * cols + c, pre, rr * cols + c, U);
        }
        block(hCur, r0 * hp, hp, h, rt, cb * h * U, pre, r0 * cols + c, cols);
      }
    }
    for (int rr = 0; rr < bp; rr++) {
      for (int v = 0; v < U; v += LANES) {
        switch (kind) {
          case LSTM -> lstmGates(u, rr, v);
          case GRU -> gruGates(u, rr, v, stepRow);
          case RNN -> rnnGate(u, rr, v);
        }
      }
    }
  }

  private FloatVector load(float[] a, int at) {
    return FloatVector.fromArray(SPECIES, a, at);
  }

  private FloatVector clipped(FloatVector v) {
    return clipOn ? v.max(-clip).min(clip) : v;
  }

  /** Writes h_new (or keeps h and writes 0 to y for an invalid row) for LANES units at j0. */
  private void finish(int rr, int j0, FloatVector hNew) {
    boolean ok = valid(rr);
    if (ok) hNew.intoArray(hNext, rr * hp + j0);
    else if (rr < b) load(hCur, rr * hp + j0).intoArray(hNext, rr * hp + j0);
    if (ySeg == null || rr >= b) return;
    long at = ySt[4] + t * ySt[0] + dir * ySt[1] + rr * ySt[2];
    int n = Math.min(LANES, h - j0);
    for (int e = 0; e < n; e++) {
      ySeg.setAtIndex(F32, at + (j0 + e) * ySt[3], ok ? hNext[rr * hp + j0 + e] : 0f);
    }
  }

  // ONNX LSTM blocks: i, o, f, c (gates 0..3).
  private void lstmGates(int u, int rr, int v) {
    int j0 = u * U + v, base = rr * cols + u * g * U + v, st = rr * hp + j0;
    FloatVector cPrev = load(cs, st);
    FloatVector pi = load(pre, base).add(load(peep, j0).mul(cPrev));
    FloatVector ig = Activations.apply(fAct, clipped(pi));
    FloatVector fg;
    if (inputForget) {
      fg = FloatVector.broadcast(SPECIES, 1f).sub(ig); // ONNX Runtime couples as f = 1 - i
    } else {
      FloatVector pf = load(pre, base + 2 * U).add(load(peep, 2 * hp + j0).mul(cPrev));
      fg = Activations.apply(fAct, clipped(pf));
    }
    FloatVector cg = Activations.apply(gAct, clipped(load(pre, base + 3 * U)));
    FloatVector cNew = fg.mul(cPrev).add(ig.mul(cg));
    FloatVector po = load(pre, base + U).add(load(peep, hp + j0).mul(cNew));
    FloatVector og = Activations.apply(fAct, clipped(po));
    FloatVector hNew = og.mul(Activations.apply(hAct, cNew));
    if (valid(rr)) cNew.intoArray(cs, st);
    finish(rr, j0, hNew);
  }

  private void rnnGate(int u, int rr, int v) {
    int j0 = u * U + v;
    FloatVector hNew = Activations.apply(fAct, clipped(load(pre, rr * cols + u * U + v)));
    finish(rr, j0, hNew);
  }

  // ONNX GRU blocks: z, r, h (gates 0..2).
  private void gruGates(int u, int rr, int v, int stepRow) {
    int j0 = u * U + v, base = rr * cols + u * g * U + v, st = rr * hp + j0;
    FloatVector z = Activations.apply(fAct, clipped(load(pre, base)));
    FloatVector r = Activations.apply(fAct, clipped(load(pre, base + U)));
    if (!linearBeforeReset) {
      z.intoArray(zr, st);
      r.mul(load(hCur, st)).intoArray(rh, st);
      return;
    }
    // h̃ = g(x·Whᵀ + Wbh + r ⊙ (h·Rhᵀ + Rbh)); pre holds h·Rhᵀ + Rbh, xw the rest.
    FloatVector hPre = load(xw, stepRow + base + 2 * U).add(r.mul(load(pre, base + 2 * U)));
    update(rr, j0, z, Activations.apply(gAct, clipped(hPre)));
  }

  /** h_new = (1 - z) ⊙ h̃ + z ⊙ h_prev. */
  private void update(int rr, int j0, FloatVector z, FloatVector hTilde) {
    FloatVector hPrev = load(hCur, rr * hp + j0);
    FloatVector one = FloatVector.broadcast(SPECIES, 1f);
    finish(rr, j0, one.sub(z).mul(hTilde).add(z.mul(hPrev)));
  }

  /** GRU, linear_before_reset = 0: h̃ = g(x·Whᵀ + Wbh + Rbh + (r ⊙ h_prev)·Rhᵀ), then update. */
  private void gruHiddenBlock(int u) {
    int stepRow = t * bp * cols, cb = u * g + 2, c = cb * U;
    for (int r0 = 0; r0 < bp; r0 += RB) {
      for (int rr = r0; rr < r0 + RB; rr++) {
        System.arraycopy(xw, stepRow + rr * cols + c, pre, rr * cols + c, U);
      }
      block(rh, r0 * hp, hp, h, rt, cb * h * U, pre, r0 * cols + c, cols);
      for (int rr = r0; rr < r0 + RB; rr++) {
        for (int v = 0; v < U; v += LANES) {
          int j0 = u * U + v;
          FloatVector hPre = clipped(load(pre, rr * cols + c + v));
          update(rr, j0, load(zr, rr * hp + j0), Activations.apply(gAct, hPre));
        }
      }
    }
  }

  /**
   * The micro-kernel: {@code acc[r][c..c+U) += sum_k left[r][k] · packed[k][c..c+U)} for the RB
   * rows of left at leftOff and of acc at {@code at} (row strides leftStride, accStride), k in [0,
   * n). Each element is one FMA chain over k in order, so a row's result does not depend on the
   * other rows of its block.
   */
  private static void block(
      float[] left,
      int leftOff,
      int leftStride,
      int n,
      float[] packed,
      int panel,
      float[] acc,
      int at,
      int accStride) {
    int a0 = at, a1 = at + accStride, a2 = a1 + accStride, a3 = a2 + accStride;
    FloatVector s00 = FloatVector.fromArray(SPECIES, acc, a0);
    FloatVector s01 = FloatVector.fromArray(SPECIES, acc, a0 + LANES);
    FloatVector s10 = FloatVector.fromArray(SPECIES, acc, a1);
    FloatVector s11 = FloatVector.fromArray(SPECIES, acc, a1 + LANES);
    FloatVector s20 = FloatVector.fromArray(SPECIES, acc, a2);
    FloatVector s21 = FloatVector.fromArray(SPECIES, acc, a2 + LANES);
    FloatVector s30 = FloatVector.fromArray(SPECIES, acc, a3);
    FloatVector s31 = FloatVector.fromArray(SPECIES, acc, a3 + LANES);
    int l0 = leftOff, l1 = l0 + leftStride, l2 = l1 + leftStride, l3 = l2 + leftStride;
    for (int k = 0; k < n; k++) {
      FloatVector p0 = FloatVector.fromArray(SPECIES, packed, panel + k * U);
      FloatVector p1 = FloatVector.fromArray(SPECIES, packed, panel + k * U + LANES);
      FloatVector x0 = FloatVector.broadcast(SPECIES, left[l0 + k]);
      s00 = x0.fma(p0, s00);
      s01 = x0.fma(p1, s01);
      FloatVector x1 = FloatVector.broadcast(SPECIES, left[l1 + k]);
      s10 = x1.fma(p0, s10);
      s11 = x1.fma(p1, s11);
      FloatVector x2 = FloatVector.broadcast(SPECIES, left[l2 + k]);
      s20 = x2.fma(p0, s20);
      s21 = x2.fma(p1, s21);
      FloatVector x3 = FloatVector.broadcast(SPECIES, left[l3 + k]);
      s30 = x3.fma(p0, s30);
      s31 = x3.fma(p1, s31);
    }
    s00.intoArray(acc, a0);
    s01.intoArray(acc, a0 + LANES);
    s10.intoArray(acc, a1);
    s11.intoArray(acc, a1 + LANES);
    s20.intoArray(acc, a2);
    s21.intoArray(acc, a2 + LANES);
    s30.intoArray(acc, a3);
    s31.intoArray(acc, a3 + LANES);
  }
}
