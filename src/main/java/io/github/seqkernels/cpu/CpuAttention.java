package io.github.seqkernels.cpu;

import static io.github.seqkernels.cpu.CpuVectors.LANES;
import static io.github.seqkernels.cpu.CpuVectors.SPECIES;
import static io.github.seqkernels.cpu.CpuVectors.roundUp;

import io.github.seqkernels.AttentionOp;
import io.github.seqkernels.AttentionOptions;
import io.github.seqkernels.Causal;
import io.github.seqkernels.Mask;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;
import io.github.seqkernels.internal.WorkerPool;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Flash-style attention on the CPU (Vector API).
 *
 * <p>Design: one piece of work is one tile of {@link #BQ} queries of one (batch, head). It walks
 * the keys in tiles of {@link #BK}, keeping per query row a running maximum {@code m}, a running
 * sum {@code l} of {@code exp(score - m)} and an unnormalised output row; when a later tile raises
 * the maximum, what was accumulated is rescaled by {@code exp(m_old - m_new)} (the online softmax).
 * Memory is a few tiles per worker plus one packed copy of K and V, never {@code Sq·Sk}, unless
 * weights are requested, in which case raw scores are parked in the weights output and normalised
 * at the end of the row.
 *
 * <p>Operands are packed first. K and V once per call, in a parallel pass before the query tiles
 * (every query tile of a head reads the same key tiles, so packing them per query tile would repeat
 * the work Sq/BQ times): K transposed to {@code [D][BK]} so that the score micro-kernel broadcasts
 * one q element against a vector of keys, V rows padded to a multiple of two vectors. Q rows,
 * pre-multiplied by the scale, per query tile. Padding is zero and padded score columns are set to
 * -inf, so the vector loops need no tails.
 *
 * <p>Tiles past the causal diagonal or past a batch entry's key length are never visited. Pieces
 * are numbered so that the heaviest (last, under a causal mask) query tiles start first.
 */
final class CpuAttention implements AttentionOp, WorkerPool.Task {
  /** Query rows per piece: small enough that causal tiles waste little past the diagonal. */
  static final int BQ = 64;

  /** Keys per tile: the score tile BQ x BK plus the K and V tiles stay within L2. */
  static final int BK = 64;

  /**
   * Register block of the micro-kernels: 5 query rows by 2 vectors, 10 accumulators. With 12 (6
   * rows) C2 spills one to the stack every step, measured 10-15% slower on AVX2.
   */
  private static final int RB = 5;

  /** Query rows of the packed tiles: BQ rounded up to whole register blocks (padding is zero). */
  private static final int BQP = (BQ + RB - 1) / RB * RB;

  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
  private static final float NEG_INF = Float.NEGATIVE_INFINITY;

  private final WorkerPool pool;
  private final Scratch[] scratch;
  private final AttentionShape shape = new AttentionShape();

  // The current call, set under the lock of forward(); read by the pieces.
  private MemorySegment qSeg, kSeg, vSeg, oSeg, lseSeg, wSeg, biasSeg;
  private final long[] qSt = new long[5], kSt = new long[5], vSt = new long[5];
  private final long[] oSt = new long[5], lseSt = new long[4], wSt = new long[5];
  private long biasOff;
  private int[] keyLengths;
  private Mask mask;
  private Causal causal;
  private boolean hard;
  private int nQt, group, dvp, nKt;
  private boolean packing; // the pool job is the K/V packing pass, not the query tiles

  // K and V of every (batch, kv head), packed once per call and shared by all query tiles:
  // tile t of head bg at kPack[(bg·nKt + t)·D·BK] as [D][BK] (K transposed) and at
  // vPack[(bg·nKt + t)·BK·Dvp] as [BK][Dvp]. vBad[bg·Sk + j]: value row j holds inf or NaN.
  private float[] kPack = new float[0], vPack = new float[0];
  private boolean[] vBad = new boolean[0];

  CpuAttention(WorkerPool pool) {
    this.pool = pool;
    this.scratch = new Scratch[pool.parallelism()];
    for (int i = 0; i < scratch.length; i++) scratch[i] = new Scratch();
  }

  @Override
  public synchronized void forward(
      Tensor q, Tensor k, Tensor v, AttentionOptions o, Tensor out, Tensor lse, Tensor weights) {
    AttentionShape s = shape.validate(q, k, v, o, out, lse, weights, pool.placement());

    qSeg = q.segment();
    kSeg = k.segment();
    vSeg = v.segment();
    oSeg = out.segment();
    lseSeg = lse == null ? null : lse.segment();
    wSeg = weights == null ? null : weights.segment();
    strides(q, qSt);
    strides(k, kSt);
    strides(v, vSt);
    strides(out, oSt);
    if (lse != null) strides(lse, lseSt);
    if (weights != null) strides(weights, wSt);
    Tensor bias = o.bias();
    biasSeg = bias == null ? null : bias.segment();
    biasOff = bias == null ? 0 : bias.offset();
    keyLengths = o.keyLengthsView();
    mask = o.mask();
    causal = o.causal();
    hard = o.hard();
    nQt = (s.sq + BQ - 1) / BQ;
    group = s.hkv == 0 ? 1 : s.hq / s.hkv;
    dvp = roundUp(s.dv, 2 * LANES);
    nKt = (s.sk + BK - 1) / BK;
    for (Scratch sc : scratch) sc.ensure(s.d, dvp);
    int heads = s.b * s.hkv;
    if (kPack.length < heads * nKt * s.d * BK) kPack = new float[heads * nKt * s.d * BK];
    if (vPack.length < heads * nKt * BK * dvp) vPack = new float[heads * nKt * BK * dvp];
    if (vBad.length < heads * s.sk) vBad = new boolean[heads * s.sk];
    try {
      packing = true;
      pool.run(heads * nKt, this);
      packing = false;
      pool.run(s.b * s.hq * nQt, this);
    } finally {
      qSeg = kSeg = vSeg = oSeg = lseSeg = wSeg = biasSeg = null;
      mask = null;
      keyLengths = null;
    }
  }

  /** Copies strides into {@code dst[0..rank)} and the element offset into {@code dst[rank]}. */
  private static void strides(Tensor t, long[] dst) {
    int r = t.rank();
    for (int i = 0; i < r; i++) dst[i] = t.stride(i);
    dst[r] = t.offset();
  }

  /** Keys {@code j < limit(i)} are allowed for query i by the causal rule and the key length. */
  private int limit(int i, int kLen) {
    AttentionShape s = shape;
    long lim =
        switch (causal) {
          case NONE -> s.sk;
          case TOP_LEFT -> (long) i + 1;
          case BOTTOM_RIGHT -> (long) i + 1 + s.sk - s.sq;
        };
    return (int) Math.max(0, Math.min(kLen, lim));
  }

  @Override
  public void run(int piece, int worker) {
    if (packing) packKv(piece, scratch[worker]);
    else queryTile(piece, worker);
  }

  /**
   * Packs key tile {@code piece % nKt} of (batch, kv head) {@code piece / nKt}: K transposed to
   * [D][BK] and V to [BK][Dvp], zero padded. A V row holding inf or NaN is packed as zeros and
   * flagged; it is added back only where its weight is nonzero, so a blocked key's value cannot
   * reach the output.
   */
  private void packKv(int piece, Scratch w) {
    AttentionShape s = shape;
    int bg = piece / nKt, t = piece % nKt, b = bg / s.hkv, g = bg % s.hkv;
    int d = s.d, dv = s.dv, k0 = t * BK, nk = Math.min(BK, s.sk - k0);
    long kBase = kSt[4] + b * kSt[0] + g * kSt[1] + (long) k0 * kSt[2];
    long vBase = vSt[4] + b * vSt[0] + g * vSt[1] + (long) k0 * vSt[2];
    int kt = piece * d * BK, vt = piece * BK * dvp;

    loadTile(kSeg, kBase, kSt[2], kSt[3], nk, d, w.raw, 0, d);
    // Transpose with the writes in order (the K tile being read sits in L1 either way).
    for (int e = 0; e < d; e++) {
      for (int c = 0; c < nk; c++) kPack[kt + e * BK + c] = w.raw[c * d + e];
    }
    for (int e = 0; e < d; e++)
      java.util.Arrays.fill(kPack, kt + e * BK + nk, kt + (e + 1) * BK, 0f);

    loadTile(vSeg, vBase, vSt[2], vSt[3], nk, dv, vPack, vt, dvp);
    for (int c = 0; c < nk; c++) {
      int row = vt + c * dvp;
      java.util.Arrays.fill(vPack, row + dv, row + dvp, 0f);
      // x * 0 is 0 for finite x and NaN for inf or NaN; the row is padded to dvp with zeros.
      FloatVector probe = FloatVector.zero(SPECIES);
      for (int e = 0; e < dvp; e += LANES) {
        probe = probe.add(FloatVector.fromArray(SPECIES, vPack, row + e).mul(0f));
      }
      boolean bad = probe.test(VectorOperators.IS_NAN).anyTrue();
      if (bad) java.util.Arrays.fill(vPack, row, row + dvp, 0f);
      vBad[bg * s.sk + k0 + c] = bad;
    }
    java.util.Arrays.fill(vPack, vt + nk * dvp, vt + BK * dvp, 0f);
  }

  /** One tile of BQ queries of one (batch, head) against all the keys it may see. */
  private void queryTile(int piece, int worker) {
    AttentionShape s = shape;
    Scratch w = scratch[worker];
    int bh = piece % (s.b * s.hq);
    int qt = nQt - 1 - piece / (s.b * s.hq);
    int b = bh / s.hq, h = bh % s.hq, g = h / group;
    int i0 = qt * BQ, nq = Math.min(BQ, s.sq - i0), nqp = roundUp(nq, RB);
    int kLen = keyLengths == null ? s.sk : keyLengths[b];
    int jEnd = limit(i0 + nq - 1, kLen); // keys at or past jEnd are blocked for every row
    int jFull = limit(i0, kLen); // keys before jFull are allowed for every row (mask aside)
    int d = s.d, dv = s.dv, dvp = this.dvp;

    float[] qs = w.qs, sc = w.s, o = w.o, m = w.m, l = w.l;
    long qBase = qSt[4] + b * qSt[0] + h * qSt[1];
    long kBase = kSt[4] + b * kSt[0] + g * kSt[1];
    long vBase = vSt[4] + b * vSt[0] + g * vSt[1];
    long wBase = wSeg == null ? 0 : wSt[4] + b * wSt[0] + h * wSt[1];

    // Load the query tile, pre-scaled; padded rows are zero.
    loadTile(qSeg, qBase + i0 * qSt[2], qSt[2], qSt[3], nq, d, qs, 0, d);
    for (int x = 0; x < nq * d; x++) qs[x] *= s.scale;
    java.util.Arrays.fill(qs, nq * d, nqp * d, 0f);
    java.util.Arrays.fill(m, NEG_INF);
    java.util.Arrays.fill(l, 0f);
    java.util.Arrays.fill(o, 0, nqp * dvp, 0f);
    if (hard) {
      java.util.Arrays.fill(w.bestScore, NEG_INF);
      java.util.Arrays.fill(w.best, -1);
    }

    for (int k0 = 0; k0 < jEnd; k0 += BK) {
      int nk = Math.min(BK, jEnd - k0), nkp = roundUp(nk, 2 * LANES);

      // The packed K and V tiles of this head, and the value rows that hold inf or NaN.
      int tile = (b * s.hkv + g) * nKt + k0 / BK;
      int ktOff = tile * d * BK, vtOff = tile * BK * dvp, flags = (b * s.hkv + g) * s.sk + k0;
      int bad = 0;
      for (int c = 0; c < nk; c++) if (vBad[flags + c]) w.badRows[bad++] = c;

      // Rows before r0 see none of this tile's keys (they lie past the causal diagonal or the
      // key length), so the products skip them from the register block that holds r0 on.
      int r0 = 0;
      while (r0 < nq && limit(i0 + r0, kLen) <= k0) r0++;
      int rb0 = r0 / RB * RB;
      if (wSeg != null) {
        for (int r = 0; r < rb0; r++) {
          for (int c = 0; c < nk; c++) {
            wSeg.setAtIndex(F32, wBase + (i0 + r) * wSt[2] + (k0 + c) * wSt[3], NEG_INF);
          }
        }
      }

      // Scores for the tile, then per row: bias, blocking, online softmax.
      // On the diagonal a row block sees only the keys before its last row's limit: the
      // products stop there (the rest would be masked to -inf, or multiplied by weight 0).
      for (int r = rb0; r < nqp; r += RB) {
        int seen = Math.min(nk, limit(i0 + Math.min(r + RB, nq) - 1, kLen) - k0);
        w.cols[r / RB] = Math.max(0, seen);
        scores(qs, kPack, ktOff, sc, r, Math.min(nkp, roundUp(w.cols[r / RB], 2 * LANES)), d);
      }
      boolean partial = k0 + nk > jFull || mask != null || biasSeg != null;
      for (int r = rb0; r < nq; r++) {
        int i = i0 + r, base = r * BK;
        int allow = Math.max(0, Math.min(nk, limit(i, kLen) - k0));
        if (partial) applyBiasAndMask(sc, base, b, h, i, k0, allow);
        java.util.Arrays.fill(sc, base + allow, base + nkp, NEG_INF);
        if (wSeg != null) {
          for (int c = 0; c < nk; c++) {
            wSeg.setAtIndex(F32, wBase + i * wSt[2] + (k0 + c) * wSt[3], sc[base + c]);
          }
        }
        if (hard) {
          for (int c = 0; c < allow; c++) {
            if (sc[base + c] > w.bestScore[r]) {
              w.bestScore[r] = sc[base + c];
              w.best[r] = k0 + c;
            }
          }
        }
        onlineSoftmax(sc, base, nkp, o, r * dvp, dvp, m, l, r);
      }
      if (hard) continue;

      for (int r = rb0; r < nqp; r += RB) accumulate(sc, vPack, vtOff, o, r, w.cols[r / RB]);
      for (int x = 0; x < bad; x++) {
        int c = w.badRows[x];
        long vRow = vBase + (long) (k0 + c) * vSt[2];
        for (int r = rb0; r < nq; r++) {
          float p = sc[r * BK + c];
          if (p == 0f) continue;
          for (int e = 0; e < dv; e++) {
            o[r * dvp + e] += p * vSeg.getAtIndex(F32, vRow + e * vSt[3]);
          }
        }
      }
    }

    // Write back: normalise, lse, weights.
    for (int r = 0; r < nq; r++) {
      int i = i0 + r;
      long outRow = oSt[4] + b * oSt[0] + h * oSt[1] + i * oSt[2];
      float mr = m[r], lr = l[r];
      boolean empty = !(lr > 0f);
      if (hard) {
        int j = w.best[r];
        if (j < 0) java.util.Arrays.fill(w.row, 0, dv, 0f);
        else loadRow(vSeg, vBase + (long) j * vSt[2], vSt[3], w.row, 0, dv);
      } else {
        float inv = empty ? 0f : 1f / lr;
        for (int e = 0; e < dv; e++) w.row[e] = empty ? 0f : o[r * dvp + e] * inv;
      }
      storeRow(w.row, 0, dv, oSeg, outRow, oSt[3]);
      if (lseSeg != null) {
        long at = lseSt[3] + b * lseSt[0] + h * lseSt[1] + i * lseSt[2];
        lseSeg.setAtIndex(F32, at, empty ? NEG_INF : mr + (float) Math.log(lr));
      }
      if (wSeg != null) writeWeights(wBase + i * wSt[2], r, jEnd, mr, lr, empty, w);
    }
  }

  /** Adds the bias and sets blocked keys to -inf for columns [0, allow) of one score row. */
  private void applyBiasAndMask(float[] sc, int base, int b, int h, int i, int k0, int allow) {
    AttentionShape s = shape;
    if (biasSeg != null) {
      long[] bs = s.biasStrides;
      long row = biasOff + b * bs[0] + h * bs[1] + i * bs[2];
      for (int c = 0; c < allow; c++) {
        sc[base + c] += biasSeg.getAtIndex(F32, row + (k0 + c) * bs[3]);
      }
    }
    if (mask != null) {
      long[] ms = s.maskStrides;
      long row = b * ms[0] + h * ms[1] + i * ms[2];
      for (int c = 0; c < allow; c++) {
        if (mask.blocks(row + (k0 + c) * ms[3])) sc[base + c] = NEG_INF;
      }
    }
  }

  /**
   * One row of the online softmax over a tile: raise the running max, rescale what was accumulated,
   * and turn the scores into {@code exp(score - m)} in place. A row with no allowed key so far
   * keeps m = -inf and gets zero weights (exp(-inf - -inf) would be NaN).
   */
  private static void onlineSoftmax(
      float[] sc, int base, int nkp, float[] o, int oBase, int dvp, float[] m, float[] l, int r) {
    FloatVector mx = FloatVector.broadcast(SPECIES, NEG_INF);
    for (int c = 0; c < nkp; c += LANES) mx = mx.max(FloatVector.fromArray(SPECIES, sc, base + c));
    float mOld = m[r];
    float mNew = Math.max(mOld, mx.reduceLanes(VectorOperators.MAX));
    if (mNew == NEG_INF) {
      java.util.Arrays.fill(sc, base, base + nkp, 0f);
      return;
    }
    // The max is subtracted before exp, so huge scores cannot overflow and a row of
    // -Float.MAX_VALUE scores becomes a row of exp(0) = 1: the uniform average.
    float alpha = VectorMath.exp(mOld - mNew); // mOld = -inf gives 0
    if (alpha != 1f) {
      l[r] *= alpha;
      FloatVector a = FloatVector.broadcast(SPECIES, alpha);
      for (int c = 0; c < dvp; c += LANES) {
        FloatVector.fromArray(SPECIES, o, oBase + c).mul(a).intoArray(o, oBase + c);
      }
    }
    l[r] += VectorMath.expShiftedSum(sc, base, nkp, mNew, true);
    m[r] = mNew;
  }

  /**
   * Score micro-kernel: {@code sc[r][c] = sum_e qs[r][e] · kt[e][c]} for the RB rows from r and c
   * in [0, nkp) (a multiple of two vectors). Each q element is broadcast against two key vectors,
   * with a 5 x 2 block of accumulators kept in registers over the whole head dim: 2 loads and 5
   * broadcasts feed 10 FMAs per step.
   */
  private static void scores(float[] qs, float[] kt, int ktOff, float[] sc, int r, int nkp, int d) {
    int q0 = r * d, q1 = q0 + d, q2 = q1 + d, q3 = q2 + d, q4 = q3 + d;
    for (int c = 0; c < nkp; c += 2 * LANES) {
      FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a10 = a00, a11 = a00;
      FloatVector a20 = a00, a21 = a00, a30 = a00, a31 = a00, a40 = a00, a41 = a00;
      for (int e = 0; e < d; e++) {
        FloatVector k0 = FloatVector.fromArray(SPECIES, kt, ktOff + e * BK + c);
        FloatVector k1 = FloatVector.fromArray(SPECIES, kt, ktOff + e * BK + c + LANES);
        FloatVector x = FloatVector.broadcast(SPECIES, qs[q0 + e]);
        a00 = x.fma(k0, a00);
        a01 = x.fma(k1, a01);
        x = FloatVector.broadcast(SPECIES, qs[q1 + e]);
        a10 = x.fma(k0, a10);
        a11 = x.fma(k1, a11);
        x = FloatVector.broadcast(SPECIES, qs[q2 + e]);
        a20 = x.fma(k0, a20);
        a21 = x.fma(k1, a21);
        x = FloatVector.broadcast(SPECIES, qs[q3 + e]);
        a30 = x.fma(k0, a30);
        a31 = x.fma(k1, a31);
        x = FloatVector.broadcast(SPECIES, qs[q4 + e]);
        a40 = x.fma(k0, a40);
        a41 = x.fma(k1, a41);
      }
      int s0 = r * BK + c;
      a00.intoArray(sc, s0);
      a01.intoArray(sc, s0 + LANES);
      a10.intoArray(sc, s0 + BK);
      a11.intoArray(sc, s0 + BK + LANES);
      a20.intoArray(sc, s0 + 2 * BK);
      a21.intoArray(sc, s0 + 2 * BK + LANES);
      a30.intoArray(sc, s0 + 3 * BK);
      a31.intoArray(sc, s0 + 3 * BK + LANES);
      a40.intoArray(sc, s0 + 4 * BK);
      a41.intoArray(sc, s0 + 4 * BK + LANES);
    }
  }

  /**
   * Output micro-kernel: {@code o[r][:] += sum_j p[r][j] · vt[j][:]} for the RB rows from r and the
   * first nk keys of the tile, with a 5-row by 2-vector block of o held in registers across the key
   * loop.
   */
  private void accumulate(float[] p, float[] vt, int vtOff, float[] o, int r, int nk) {
    int dvp = this.dvp;
    int p0 = r * BK, p1 = p0 + BK, p2 = p1 + BK, p3 = p2 + BK, p4 = p3 + BK;
    for (int c = 0; c < dvp; c += 2 * LANES) {
      int o0 = r * dvp + c, o1 = o0 + dvp, o2 = o1 + dvp, o3 = o2 + dvp, o4 = o3 + dvp;
      FloatVector a00 = FloatVector.fromArray(SPECIES, o, o0);
      FloatVector a01 = FloatVector.fromArray(SPECIES, o, o0 + LANES);
      FloatVector a10 = FloatVector.fromArray(SPECIES, o, o1);
      FloatVector a11 = FloatVector.fromArray(SPECIES, o, o1 + LANES);
      FloatVector a20 = FloatVector.fromArray(SPECIES, o, o2);
      FloatVector a21 = FloatVector.fromArray(SPECIES, o, o2 + LANES);
      FloatVector a30 = FloatVector.fromArray(SPECIES, o, o3);
      FloatVector a31 = FloatVector.fromArray(SPECIES, o, o3 + LANES);
      FloatVector a40 = FloatVector.fromArray(SPECIES, o, o4);
      FloatVector a41 = FloatVector.fromArray(SPECIES, o, o4 + LANES);
      for (int j = 0; j < nk; j++) {
        FloatVector v0 = FloatVector.fromArray(SPECIES, vt, vtOff + j * dvp + c);
        FloatVector v1 = FloatVector.fromArray(SPECIES, vt, vtOff + j * dvp + c + LANES);
        FloatVector x = FloatVector.broadcast(SPECIES, p[p0 + j]);
        a00 = x.fma(v0, a00);
        a01 = x.fma(v1, a01);
        x = FloatVector.broadcast(SPECIES, p[p1 + j]);
        a10 = x.fma(v0, a10);
        a11 = x.fma(v1, a11);
        x = FloatVector.broadcast(SPECIES, p[p2 + j]);
        a20 = x.fma(v0, a20);
        a21 = x.fma(v1, a21);
        x = FloatVector.broadcast(SPECIES, p[p3 + j]);
        a30 = x.fma(v0, a30);
        a31 = x.fma(v1, a31);
        x = FloatVector.broadcast(SPECIES, p[p4 + j]);
        a40 = x.fma(v0, a40);
        a41 = x.fma(v1, a41);
      }
      a00.intoArray(o, o0);
      a01.intoArray(o, o0 + LANES);
      a10.intoArray(o, o1);
      a11.intoArray(o, o1 + LANES);
      a20.intoArray(o, o2);
      a21.intoArray(o, o2 + LANES);
      a30.intoArray(o, o3);
      a31.intoArray(o, o3 + LANES);
      a40.intoArray(o, o4);
      a41.intoArray(o, o4 + LANES);
    }
  }

  /**
   * Turns the raw scores parked in the weights row into probabilities exp(s - m) / l, zero past
   * jEnd and for an empty row; in hard mode, a one-hot row at the chosen key.
   */
  private void writeWeights(
      long row, int r, int jEnd, float mr, float lr, boolean empty, Scratch w) {
    int sk = shape.sk;
    long st = wSt[3];
    if (hard) {
      for (int j = 0; j < sk; j++) wSeg.setAtIndex(F32, row + j * st, j == w.best[r] ? 1f : 0f);
      return;
    }
    float inv = empty ? 0f : 1f / lr;
    for (int j = 0; j < sk; j++) {
      float p = 0f;
      if (!empty && j < jEnd) p = VectorMath.exp(wSeg.getAtIndex(F32, row + j * st) - mr) * inv;
      wSeg.setAtIndex(F32, row + j * st, p);
    }
  }

  /**
   * Reads a rows x cols block (element strides rowSt, colSt) into dst, row r at off + r·dstRowSt. A
   * block that is contiguous in memory and in dst is one bulk copy: per-row copies cost a bounds
   * and liveness check each, which shows at 64-float rows of native memory.
   */
  private static void loadTile(
      MemorySegment seg,
      long at,
      long rowSt,
      long colSt,
      int rows,
      int cols,
      float[] dst,
      int off,
      int dstRowSt) {
    if (colSt == 1 && rowSt == cols && dstRowSt == cols) {
      MemorySegment.copy(seg, F32, at * Float.BYTES, dst, off, rows * cols);
    } else {
      for (int r = 0; r < rows; r++) {
        loadRow(seg, at + r * rowSt, colSt, dst, off + r * dstRowSt, cols);
      }
    }
  }

  /** Reads n floats at element {@code at} with element stride {@code st} into dst[off..]. */
  static void loadRow(MemorySegment seg, long at, long st, float[] dst, int off, int n) {
    if (st == 1) {
      MemorySegment.copy(seg, F32, at * Float.BYTES, dst, off, n);
    } else {
      for (int e = 0; e < n; e++) dst[off + e] = seg.getAtIndex(F32, at + e * st);
    }
  }

  /** Writes src[off..off+n) to element {@code at} with element stride {@code st}. */
  static void storeRow(float[] src, int off, int n, MemorySegment seg, long at, long st) {
    if (st == 1) {
      MemorySegment.copy(src, off, seg, F32, at * Float.BYTES, n);
    } else {
      for (int e = 0; e < n; e++) seg.setAtIndex(F32, at + e * st, src[off + e]);
    }
  }

  /** Per-worker tiles, grown when a call needs more and then reused. */
  static final class Scratch {
    float[] qs = new float[0], o = new float[0];
    float[] raw = new float[0]; // a K tile as loaded, before the transpose
    final float[] s = new float[BQP * BK];
    final float[] m = new float[BQ], l = new float[BQ], bestScore = new float[BQ];
    final int[] best = new int[BQ], badRows = new int[BK];
    final int[] cols = new int[BQP / RB]; // keys a row block sees in the current key tile
    float[] row = new float[0];
    int d = -1, dvp = -1;

    void ensure(int d, int dvp) {
      if (d > this.d) {
        qs = new float[BQP * d];
        raw = new float[BK * d];
        this.d = d;
      }
      if (dvp > this.dvp) {
        o = new float[BQP * dvp];
        this.dvp = dvp;
      }
      int need = Math.max(d, dvp);
      if (row.length < need) row = new float[need];
    }
  }
}
