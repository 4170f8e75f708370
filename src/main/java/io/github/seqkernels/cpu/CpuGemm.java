package io.github.seqkernels.cpu;

import static io.github.seqkernels.cpu.CpuVectors.LANES;
import static io.github.seqkernels.cpu.CpuVectors.SPECIES;
import static io.github.seqkernels.cpu.CpuVectors.roundUp;

import io.github.seqkernels.Activation;
import io.github.seqkernels.GemmOp;
import io.github.seqkernels.GemmOptions;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.GemmShape;
import io.github.seqkernels.internal.WorkerPool;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * General matrix product on the CPU (Vector API): {@code Y = alpha · op(A) · op(B) + beta · C}.
 *
 * <p>Design (the GotoBLAS / BLIS scheme): op(B) is packed into panels of {@link #NR} columns (two
 * vectors), each panel k-major, and op(A) into panels of {@link #MR} rows, each k-major, so the
 * micro-kernel reads both with unit stride whatever the caller's strides and transposes. The
 * micro-kernel keeps a 5-row by 2-vector block of C in 10 registers across a slice of {@link #KC}
 * values of k: per step 2 vector loads and 5 broadcasts feed 10 FMAs. Around it, the k loop is cut
 * into slices of KC (the A and B micro-panels of one slice stay in L1), the rows into blocks of at
 * most {@link #MC} (a row block's A slice stays in L2) and the columns into blocks of {@link #NB}
 * (the accumulators of a block stay in L2 next to it). Products are summed into a worker-owned
 * float32 buffer and written to Y once, at the end, as {@code alpha·acc + beta·c}; that write also
 * handles Y's strides and C's broadcasting.
 *
 * <p>Parallel calls first pack op(B) once, shared, split across the pool, then give each worker
 * pieces that are blocks of C (row blocks, split by columns too when there are few rows); each
 * piece packs its own rows of op(A). Packed buffers are grown on demand and reused, so a call
 * allocates nothing in steady state.
 *
 * <p>Reduction order: every element of {@code op(A)·op(B)} is one chain of fused multiply-adds over
 * k = 0, 1, ..., K-1, started from 0, whatever the blocking, thread count, number of rows, position
 * of the element in a register block or entry point. Results are therefore bit-identical for any
 * thread count, a row's result does not depend on which other rows share the product (the batch
 * independence that recurrent layers promise), and the entry points below agree bit for bit.
 *
 * <p>Entry points, all row-major: element (i, j) of a matrix with leading dimension ld sits at
 * {@code off + i·ld + j}; with transA, a holds op(A) transposed, {@code [K, M]} with lda >= M (and
 * likewise b {@code [N, K]} with transB).
 *
 * <ul>
 *   <li>{@link #forward}: the {@link GemmOp} on tensors, parallel over the pool.
 *   <li>{@link #gemm(boolean, boolean, int, int, int, float, float[], int, int, float[], int, int,
 *       float, float[], int, int)}: the same on float arrays, in place on C (BLAS-like {@code C =
 *       alpha·op(A)·op(B) + beta·C}), parallel over the pool; for big products such as a recurrent
 *       layer's input projection {@code X·Wᵀ} for all time steps at once. Takes the operator's lock
 *       and runs the pool, so it must not be called from inside a worker piece.
 *   <li>{@link #gemm(boolean, boolean, int, int, int, float, float[], int, int, float[], int, int,
 *       float, float[], int, int, Scratch)}: the same, serial on the calling thread, with the
 *       caller's {@link Scratch}: for CPU operators to call from inside their own worker pieces
 *       (WorkerPool.run is not reentrant). One Scratch per worker.
 *   <li>{@link #pack} and {@link #gemm(boolean, int, float, float[], int, int, PackedB, float,
 *       float[], int, int, Scratch)}: serial, with op(B) packed once and reused across calls (a
 *       recurrent layer's {@code h·Rᵀ} at every step), so a product with few rows does not pay for
 *       packing B each time.
 * </ul>
 *
 * In the array entry points beta = 0 means C is not read (BLAS), so it may hold garbage; in the
 * tensor entry point a given C is always read and {@code beta·C} is plain arithmetic, and c may be
 * y itself (each element of C is read before that element of Y is written). Y must not overlap A or
 * B.
 */
final class CpuGemm implements GemmOp {
  /**
   * Rows of the register block. 5 rows x 2 vectors = 10 accumulators, which leaves the 16 AVX
   * registers room for the two B vectors and the broadcasts. With 6 rows (12 accumulators) C2 keeps
   * up to three broadcasts live, runs out of registers and spills an accumulator to the stack on
   * every step: a store-to-load chain on the critical path (seen in the disassembly; 37 against 66
   * GFLOP/s for the kernel alone, in L1, on the 2-core AVX2 machine; 4 x 3 spills too, 4 x 2 and 3
   * x 3 do not but feed fewer FMAs per load).
   */
  static final int MR = 5;

  /** Columns of the register block: two vectors. */
  static final int NR = 2 * LANES;

  /**
   * k values per slice: the A micro-panel (5 x 256 floats, 5 KB) and the B micro-panel (256 x 16
   * floats, 16 KB at 8 lanes) fit a 32 KB L1 data cache together, so the B micro-panel stays there
   * while the kernel walks every A micro-panel of the row block.
   */
  static final int KC = 256;

  /**
   * Most rows per row block: the block's A slice (140 x 256 floats, 140 KB) and its accumulators
   * (140 x {@link #NB} floats, 140 KB) fit a 512 KB L2 together. A multiple of MR.
   */
  static final int MC = 140;

  /** Columns per accumulator block; a multiple of NR for every vector width. */
  static final int NB = 256;

  /**
   * Most floats of packed op(A) per worker (all k of a row block) and of packed op(B) (all k of a
   * column chunk): rows per block and columns per chunk shrink when K is so long that a full block
   * would exceed these, so memory stays bounded (4 and 8 MB) whatever the shapes.
   */
  private static final int A_FLOATS = 1 << 20, B_FLOATS = 1 << 21;

  /** Longest K: a packed panel of op(A) or op(B) (K·max(MR, NR) floats) fits an int index. */
  static final int MAX_K = GemmShape.MAX_K;

  /**
   * Pieces per thread in a parallel call. Pieces are claimed as threads come free, so when the
   * (shared) machine delays one thread the others take over its share: the finer the pieces, the
   * less time is lost waiting for the last one.
   */
  private static final int PIECES_PER_THREAD = 8;

  /** Fewest rows per row block that the parallel split makes (the B micro-panel is reused less). */
  private static final int MIN_ROWS = 8 * MR;

  /**
   * Below this many multiply-adds (about 20 µs of one core) a parallel call runs on the calling
   * thread alone: waking the pool and waiting for its last piece costs more than it saves, by an
   * order of magnitude when the machine is shared (Silero VAD's 258×4×256 STFT product took 1.5 ms
   * on two threads of a loaded machine, 0.14 ms on one).
   */
  static final long SMALL = 1 << 20;

  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

  private final WorkerPool pool;
  private final Scratch[] scratch;
  private float[] shared = new float[0]; // op(B) of the current column chunk, packed

  // The current parallel call, set under the lock; read by the pieces.
  private Operand opA = new Operand(), opB = new Operand(); // swapped by a transposed problem
  private final Operand opC = new Operand(), opY = new Operand();
  private final GemmShape shape = new GemmShape();
  private int m, n, k, rowsPerBlock, rowBlocks, colGroups, packGroups, jc0, nc, panels;
  private float alpha, beta;
  private boolean useC;
  private Activation epilogue; // applied to every element of Y as it is written; null for none
  private final WorkerPool.Task packTask = this::packPiece, blockTask = this::blockPiece;

  CpuGemm(WorkerPool pool) {
    this.pool = pool;
    this.scratch = new Scratch[pool.parallelism()];
    for (int i = 0; i < scratch.length; i++) scratch[i] = new Scratch();
  }

  // ---------------------------------------------------------------------------------------------
  // Entry points

  @Override
  public synchronized void forward(Tensor a, Tensor b, Tensor c, GemmOptions o, Tensor y) {
    GemmShape g = shape.gemm(a, b, c, o, y, pool.placement());
    opA.tensor(a, o.transA() ? 1 : 0);
    opB.tensor(b, o.transB() ? 1 : 0);
    opY.tensor(y, 0);
    if (c != null) opC.set(null, c.segment(), c.offset(), g.cRs, g.cCs);
    runParallel(g.m, g.n, g.k, o.alpha(), o.beta(), c != null, null);
  }

  /**
   * {@code C = alpha·op(A)·op(B) + beta·C} on float arrays, row-major (see the class comment),
   * parallel over the pool. Must not be called from inside a worker piece.
   */
  synchronized void gemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      float[] a,
      int aOff,
      int lda,
      float[] b,
      int bOff,
      int ldb,
      float beta,
      float[] c,
      int cOff,
      int ldc) {
    checkArrays(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
    opA.array(a, aOff, lda, transA);
    opB.array(b, bOff, ldb, transB);
    opY.array(c, cOff, ldc, false);
    opC.set(c, null, cOff, ldc, 1);
    runParallel(m, n, k, alpha, beta, beta != 0f, null);
  }

  /**
   * {@code C = alpha·op(A)·op(B) + beta·C} on float arrays, row-major (see the class comment),
   * serial on the calling thread with the caller's scratch; for use inside worker pieces. Bit-
   * identical to the parallel entry points.
   */
  static void gemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      float[] a,
      int aOff,
      int lda,
      float[] b,
      int bOff,
      int ldb,
      float beta,
      float[] c,
      int cOff,
      int ldc,
      Scratch s) {
    checkArrays(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
    try {
      s.a.array(a, aOff, lda, transA);
      s.b.array(b, bOff, ldb, transB);
      s.y.array(c, cOff, ldc, false);
      serial(m, n, k, alpha, beta, beta != 0f, s.a, s.b, null, s.y, s.y, s);
    } finally {
      s.release();
    }
  }

  /**
   * Packs op(B) {@code [K, N]} (b {@code [K, N]} with leading dimension ldb, or {@code [N, K]} with
   * transB) for {@link #gemm(boolean, int, float, float[], int, int, PackedB, float, float[], int,
   * int, Scratch)}; reuses {@code dst} when given (its array grows on demand) and returns it.
   */
  static PackedB pack(
      boolean transB, int k, int n, float[] b, int bOff, int ldb, PackedB dst, Scratch s) {
    if (k < 0 || n < 0) {
      throw new IllegalArgumentException("k, n: must be >= 0, got k = " + k + ", n = " + n);
    }
    if (k > MAX_K) throw new IllegalArgumentException("k: " + k + " exceeds " + MAX_K);
    checkMatrix("b", b, bOff, transB ? n : k, transB ? k : n, ldb);
    PackedB p = dst == null ? new PackedB() : dst;
    int len = Math.multiplyExact(roundUp(n, NR), k);
    if (p.data.length < len) p.data = new float[len];
    p.k = k;
    p.n = n;
    try {
      s.b.array(b, bOff, ldb, transB);
      s.ensureLine(Math.max(k, n));
      packB(s.b, k, 0, n, p.data, 0, s.line);
    } finally {
      s.release();
    }
    return p;
  }

  /**
   * {@code C = alpha·op(A)·B + beta·C} with B packed by {@link #pack}: serial, like the serial
   * gemm, and bit-identical to it.
   */
  static void gemm(
      boolean transA,
      int m,
      float alpha,
      float[] a,
      int aOff,
      int lda,
      PackedB b,
      float beta,
      float[] c,
      int cOff,
      int ldc,
      Scratch s) {
    int n = b.n, k = b.k;
    if (m < 0) throw new IllegalArgumentException("m: must be >= 0, got " + m);
    checkMatrix("a", a, aOff, transA ? k : m, transA ? m : k, lda);
    checkMatrix("c", c, cOff, m, n, ldc);
    try {
      s.a.array(a, aOff, lda, transA);
      s.y.array(c, cOff, ldc, false);
      serial(m, n, k, alpha, beta, beta != 0f, s.a, null, b, s.y, s.y, s);
    } finally {
      s.release();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Drivers

  /** The parallel driver: per column chunk, pack op(B) across the pool, then the blocks of C. */
  private void runParallel(
      int m, int n, int k, float alpha, float beta, boolean useC, Activation f) {
    if (m == 0 || n == 0) {
      releaseOperands();
      return;
    }
    if (n < NR && m > n) { // a thin product: solve Yᵀ = op(B)ᵀ·op(A)ᵀ, which fills the vectors
      transposeProblem(opA, opB, useC ? opC : null, opY);
      Operand o = opA;
      opA = opB;
      opB = o;
      int t = m;
      m = n;
      n = t;
    }
    this.m = m;
    this.n = n;
    this.k = k;
    this.alpha = alpha;
    this.beta = beta;
    this.useC = useC;
    this.epilogue = f;
    int threads = pool.parallelism();
    boolean small = (long) m * n * k < SMALL;
    int target = small || threads == 1 ? 1 : PIECES_PER_THREAD * threads;

    // Row blocks of equal size (a multiple of MR): as many as the block limit needs, more (down
    // to MIN_ROWS rows) to reach the target piece count; columns are split only past that, since
    // every column group packs its rows of op(A) again.
    int maxRows = maxRowsPerBlock(k);
    int blocks = (m + maxRows - 1) / maxRows;
    blocks = Math.max(blocks, Math.min(target, (m + MIN_ROWS - 1) / MIN_ROWS));
    rowsPerBlock = Math.min(maxRows, roundUp((m + blocks - 1) / blocks, MR));
    rowBlocks = (m + rowsPerBlock - 1) / rowsPerBlock;
    int chunk = maxColsPerChunk(k);
    int sharedLen = Math.multiplyExact(roundUp(Math.min(n, chunk), NR), k);
    if (shared.length < sharedLen) shared = new float[sharedLen];
    for (Scratch s : scratch) s.ensure(rowsPerBlock, k, 0, Math.min(n, chunk));
    try {
      for (jc0 = 0; jc0 < n; jc0 += chunk) {
        nc = Math.min(chunk, n - jc0);
        panels = (nc + NR - 1) / NR;
        packGroups = Math.min(panels, target);
        pool.run(packGroups, packTask);
        colGroups = Math.max(1, Math.min(panels, (target + rowBlocks - 1) / rowBlocks));
        pool.run(rowBlocks * colGroups, blockTask);
      }
    } finally {
      releaseOperands();
    }
  }

  /** Phase 1 of a chunk: piece g packs its share of the chunk's panels of op(B). */
  private void packPiece(int g, int worker) {
    int q0 = g * panels / packGroups, q1 = (g + 1) * panels / packGroups;
    int cols = Math.min(nc, q1 * NR) - q0 * NR;
    packB(opB, k, jc0 + q0 * NR, cols, shared, q0 * NR * k, scratch[worker].line);
  }

  /** Phase 2 of a chunk: one block of C, its rows' op(A) packed by the piece itself. */
  private void blockPiece(int piece, int worker) {
    int rb = piece / colGroups, cg = piece % colGroups;
    int i0 = rb * rowsPerBlock, rows = Math.min(rowsPerBlock, m - i0);
    int q0 = cg * panels / colGroups, q1 = (cg + 1) * panels / colGroups;
    int j0 = jc0 + q0 * NR, j1 = Math.min(jc0 + nc, jc0 + q1 * NR);
    rowBlock(
        opA,
        useC ? opC : null,
        opY,
        alpha,
        beta,
        k,
        i0,
        rows,
        shared,
        q0 * NR * k,
        j0,
        j1,
        epilogue,
        scratch[worker]);
  }

  /**
   * {@code Y = op(A)·op(B)} on operands, parallel over the pool: {@link CpuMatMul}'s path for big
   * products. The operands are copied, so the caller may reuse them.
   */
  synchronized void multiply(Operand a, Operand b, Operand y, int m, int n, int k) {
    multiply(a, b, null, y, m, n, k, null);
  }

  /**
   * {@code Y = f(op(A)·op(B) + C)} on operands, parallel over the pool: the Linear and Conv1d
   * layers' path, with C a bias broadcast by its strides (0 along the broadcast dim) or null, and
   * the activation f (or none) applied as each element is written. The operands are copied.
   */
  synchronized void multiply(
      Operand a, Operand b, Operand c, Operand y, int m, int n, int k, Activation f) {
    opA.set(a.arr, a.seg, a.off, a.rs, a.cs);
    opB.set(b.arr, b.seg, b.off, b.rs, b.cs);
    opY.set(y.arr, y.seg, y.off, y.rs, y.cs);
    if (c != null) opC.set(c.arr, c.seg, c.off, c.rs, c.cs);
    runParallel(m, n, k, 1f, 1f, c != null, f);
  }

  /**
   * The serial driver; b is null when {@code packed} holds op(B). May transpose the problem, which
   * changes the operands' strides: callers set them afresh for every call.
   */
  static void serial(
      int m,
      int n,
      int k,
      float alpha,
      float beta,
      boolean useC,
      Operand a,
      Operand b,
      PackedB packed,
      Operand c,
      Operand y,
      Scratch s) {
    if (m == 0 || n == 0) return;
    if (packed == null && n < NR && m > n) {
      transposeProblem(a, b, useC ? c : null, y);
      Operand t = a;
      a = b;
      b = t;
      int u = m;
      m = n;
      n = u;
    }
    int rows = maxRowsPerBlock(k);
    int chunk = packed == null ? maxColsPerChunk(k) : n;
    int cols0 = Math.min(n, chunk);
    s.ensure(rows, k, packed == null ? roundUp(cols0, NR) * k : 0, cols0);
    for (int j0 = 0; j0 < n; j0 += chunk) {
      int cols = Math.min(chunk, n - j0);
      float[] bp = packed == null ? s.bp : packed.data;
      if (packed == null) packB(b, k, j0, cols, bp, 0, s.line);
      for (int i0 = 0; i0 < m; i0 += rows) {
        int mb = Math.min(rows, m - i0);
        rowBlock(a, useC ? c : null, y, alpha, beta, k, i0, mb, bp, 0, j0, j0 + cols, null, s);
      }
    }
  }

  /**
   * Rows [i0, i0 + mb) by columns [j0, j1) of Y, with op(B)'s columns from j0 on packed at {@code
   * bp[bOff..]}: pack the rows of op(A), then per column block multiply and write back.
   */
  private static void rowBlock(
      Operand a,
      Operand c,
      Operand y,
      float alpha,
      float beta,
      int k,
      int i0,
      int mb,
      float[] bp,
      int bOff,
      int j0,
      int j1,
      Activation f,
      Scratch s) {
    packA(a, k, i0, mb, s.ap, s.line);
    for (int jb = j0; jb < j1; jb += NB) {
      int nb = Math.min(NB, j1 - jb), ldc = roundUp(nb, NR);
      Arrays.fill(s.acc, 0, mb * ldc, 0f);
      macro(s.ap, mb, bp, bOff + (jb - j0) * k, nb, k, s.acc, ldc);
      writeBack(y, c, alpha, beta, i0, mb, jb, nb, s.acc, ldc, f, s.line);
    }
  }

  /** Turns the problem into its transpose: op(A) and op(B) swap places, Y and C transpose. */
  private static void transposeProblem(Operand a, Operand b, Operand c, Operand y) {
    a.transpose();
    b.transpose();
    y.transpose();
    if (c != null && c != y) c.transpose();
  }

  private static int maxRowsPerBlock(int k) {
    return Math.max(MR, Math.min(MC, A_FLOATS / Math.max(1, k) / MR * MR));
  }

  private static int maxColsPerChunk(int k) {
    return Math.max(NR, B_FLOATS / Math.max(1, k) / NR * NR);
  }

  private void releaseOperands() {
    opA.clear();
    opB.clear();
    opC.clear();
    opY.clear();
  }

  // ---------------------------------------------------------------------------------------------
  // Packing, kernels, write-back

  /**
   * Packs rows [i0, i0 + mb) of op(A), all k columns, into panels of MR rows: row r, column p at
   * {@code (r / MR)·MR·k + p·MR + r % MR}. Rows past mb in the last panel are left as they are: the
   * kernels never read them.
   */
  static void packA(Operand a, int k, int i0, int mb, float[] dst, float[] line) {
    if (a.cs == 1 || a.rs != 1) { // lines along k, each scattered to stride MR
      for (int r = 0; r < mb; r++) {
        load(a, a.off + (i0 + r) * a.rs, a.cs, k, line);
        int d = (r / MR) * MR * k + r % MR;
        for (int p = 0; p < k; p++) dst[d + p * MR] = line[p];
      }
    } else { // op(A) is A transposed: lines along the rows
      for (int p = 0; p < k; p++) {
        load(a, a.off + i0 + p * a.cs, 1, mb, line);
        for (int r = 0; r < mb; r++) dst[(r / MR) * MR * k + p * MR + r % MR] = line[r];
      }
    }
  }

  /**
   * Packs columns [j0, j0 + nb) of op(B), all k rows, into panels of NR columns at {@code
   * dst[off..]}: column c, row p at {@code off + (c / NR)·NR·k + p·NR + c % NR}. Columns past nb in
   * the last panel are zero, so the kernels may run on them (their results are never written).
   */
  static void packB(Operand b, int k, int j0, int nb, float[] dst, int off, float[] line) {
    int full = nb / NR, tail = nb - full * NR;
    if (b.cs == 1) { // rows of op(B) contiguous: whole panels vector to vector, no staging
      for (int p = 0; p < k; p++) {
        long at = b.off + p * b.rs + j0;
        int d = off + p * NR;
        for (int q = 0; q < full; q++, d += NR * k, at += NR) {
          vector(b, at).intoArray(dst, d);
          vector(b, at + LANES).intoArray(dst, d + LANES);
        }
        if (tail > 0) {
          load(b, at, 1, tail, line);
          System.arraycopy(line, 0, dst, d, tail);
          Arrays.fill(dst, d + tail, d + NR, 0f);
        }
      }
    } else if (b.rs != 1) { // lines along a row of op(B), split into panels
      for (int p = 0; p < k; p++) {
        load(b, b.off + p * b.rs + j0 * b.cs, b.cs, nb, line);
        int d = off + p * NR;
        for (int q = 0; q < full; q++, d += NR * k) {
          FloatVector.fromArray(SPECIES, line, q * NR).intoArray(dst, d);
          FloatVector.fromArray(SPECIES, line, q * NR + LANES).intoArray(dst, d + LANES);
        }
        if (tail > 0) {
          System.arraycopy(line, full * NR, dst, d, tail);
          Arrays.fill(dst, d + tail, d + NR, 0f);
        }
      }
    } else { // op(B) is B transposed: lines along k, each scattered to stride NR
      for (int cc = 0; cc < nb; cc++) {
        load(b, b.off + (j0 + cc) * b.cs, 1, k, line);
        int d = off + (cc / NR) * NR * k + cc % NR;
        for (int p = 0; p < k; p++) dst[d + p * NR] = line[p];
      }
      if (tail > 0) {
        int d = off + full * NR * k;
        for (int p = 0; p < k; p++) Arrays.fill(dst, d + p * NR + tail, d + (p + 1) * NR, 0f);
      }
    }
  }

  /**
   * {@code acc[r·ldc + c] += sum_p ap(r, p) · bp(p, c)} for rows [0, mb) and columns [0, nb)
   * rounded up to whole panels, in slices of KC values of k: per slice, per B micro-panel, every A
   * micro-panel of the block (the B micro-panel stays in L1). Rows that do not fill a register
   * block go through the one-row kernel: no work is wasted on padding rows.
   */
  static void macro(float[] ap, int mb, float[] bp, int bOff, int nb, int k, float[] acc, int ldc) {
    int nPanels = (nb + NR - 1) / NR, fullRows = mb / MR * MR;
    for (int p0 = 0; p0 < k; p0 += KC) {
      int kc = Math.min(KC, k - p0);
      for (int q = 0; q < nPanels; q++) {
        int bo = bOff + q * NR * k + p0 * NR;
        int r = 0;
        for (; r < fullRows; r += MR) {
          kernel5(ap, r * k + p0 * MR, bp, bo, kc, acc, r * ldc + q * NR, ldc);
        }
        for (; r < mb; r++) {
          kernel1(ap, (r / MR) * MR * k + p0 * MR + r % MR, bp, bo, kc, acc, r * ldc + q * NR);
        }
      }
    }
  }

  /**
   * The micro-kernel: a 5 x NR block of acc (rows ldc apart) += the 5-row A micro-panel at ao times
   * the B micro-panel at bo, over kc values of k. Each a element is broadcast against the two B
   * vectors: 2 loads and 5 broadcasts feed 10 FMAs per step, with the 10 accumulators in registers.
   */
  private static void kernel5(
      float[] a, int ao, float[] b, int bo, int kc, float[] acc, int co, int ldc) {
    int c1 = co + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc;
    FloatVector x00 = FloatVector.fromArray(SPECIES, acc, co);
    FloatVector x01 = FloatVector.fromArray(SPECIES, acc, co + LANES);
    FloatVector x10 = FloatVector.fromArray(SPECIES, acc, c1);
    FloatVector x11 = FloatVector.fromArray(SPECIES, acc, c1 + LANES);
    FloatVector x20 = FloatVector.fromArray(SPECIES, acc, c2);
    FloatVector x21 = FloatVector.fromArray(SPECIES, acc, c2 + LANES);
    FloatVector x30 = FloatVector.fromArray(SPECIES, acc, c3);
    FloatVector x31 = FloatVector.fromArray(SPECIES, acc, c3 + LANES);
    FloatVector x40 = FloatVector.fromArray(SPECIES, acc, c4);
    FloatVector x41 = FloatVector.fromArray(SPECIES, acc, c4 + LANES);
    for (int p = 0; p < kc; p++) {
      int ai = ao + p * MR, bi = bo + p * NR;
      FloatVector b0 = FloatVector.fromArray(SPECIES, b, bi);
      FloatVector b1 = FloatVector.fromArray(SPECIES, b, bi + LANES);
      FloatVector v = FloatVector.broadcast(SPECIES, a[ai]);
      x00 = v.fma(b0, x00);
      x01 = v.fma(b1, x01);
      v = FloatVector.broadcast(SPECIES, a[ai + 1]);
      x10 = v.fma(b0, x10);
      x11 = v.fma(b1, x11);
      v = FloatVector.broadcast(SPECIES, a[ai + 2]);
      x20 = v.fma(b0, x20);
      x21 = v.fma(b1, x21);
      v = FloatVector.broadcast(SPECIES, a[ai + 3]);
      x30 = v.fma(b0, x30);
      x31 = v.fma(b1, x31);
      v = FloatVector.broadcast(SPECIES, a[ai + 4]);
      x40 = v.fma(b0, x40);
      x41 = v.fma(b1, x41);
    }
    x00.intoArray(acc, co);
    x01.intoArray(acc, co + LANES);
    x10.intoArray(acc, c1);
    x11.intoArray(acc, c1 + LANES);
    x20.intoArray(acc, c2);
    x21.intoArray(acc, c2 + LANES);
    x30.intoArray(acc, c3);
    x31.intoArray(acc, c3 + LANES);
    x40.intoArray(acc, c4);
    x41.intoArray(acc, c4 + LANES);
  }

  /**
   * One row of the micro-kernel, for the rows that do not fill a register block.
   *
   * <p>TODO(perf): products of 2 to 4 rows (a recurrent step with a small batch) run this once per
   * row, loading each B micro-panel again for every row; a 2- or 3-row kernel would share them.
   */
  private static void kernel1(float[] a, int ao, float[] b, int bo, int kc, float[] acc, int co) {
    FloatVector x0 = FloatVector.fromArray(SPECIES, acc, co);
    FloatVector x1 = FloatVector.fromArray(SPECIES, acc, co + LANES);
    for (int p = 0; p < kc; p++) {
      int bi = bo + p * NR;
      FloatVector v = FloatVector.broadcast(SPECIES, a[ao + p * MR]);
      x0 = v.fma(FloatVector.fromArray(SPECIES, b, bi), x0);
      x1 = v.fma(FloatVector.fromArray(SPECIES, b, bi + LANES), x1);
    }
    x0.intoArray(acc, co);
    x1.intoArray(acc, co + LANES);
  }

  /**
   * Writes rows [i0, i0 + mb) by columns [j0, j0 + nb) of Y from the accumulators: {@code
   * alpha·acc}, or with C {@code fma(beta, c, alpha·acc)}, the same expression in the vector loop
   * and the scalar tail so that a column's result does not depend on where it falls.
   */
  private static void writeBack(
      Operand y,
      Operand c,
      float alpha,
      float beta,
      int i0,
      int mb,
      int j0,
      int nb,
      float[] acc,
      int ldc,
      Activation f,
      float[] line) {
    int vn = SPECIES.loopBound(nb);
    FloatVector av = FloatVector.broadcast(SPECIES, alpha);
    FloatVector bv = FloatVector.broadcast(SPECIES, beta);
    for (int r = 0; r < mb; r++) {
      long i = i0 + r;
      int o = r * ldc;
      if (c == null) {
        if (alpha != 1f) {
          int j = 0;
          for (; j < vn; j += LANES) {
            FloatVector.fromArray(SPECIES, acc, o + j).mul(av).intoArray(acc, o + j);
          }
          for (; j < nb; j++) acc[o + j] = alpha * acc[o + j]; // scalar tail
        }
      } else if (c.cs == 0) { // C constant along the row: a scalar, [M, 1]
        float cv = get(c, c.off + i * c.rs);
        FloatVector cvv = FloatVector.broadcast(SPECIES, cv);
        int j = 0;
        for (; j < vn; j += LANES) {
          FloatVector x = FloatVector.fromArray(SPECIES, acc, o + j).mul(av);
          bv.fma(cvv, x).intoArray(acc, o + j);
        }
        for (; j < nb; j++) acc[o + j] = Math.fma(beta, cv, alpha * acc[o + j]); // scalar tail
      } else {
        load(c, c.off + i * c.rs + j0 * c.cs, c.cs, nb, line);
        int j = 0;
        for (; j < vn; j += LANES) {
          FloatVector x = FloatVector.fromArray(SPECIES, acc, o + j).mul(av);
          bv.fma(FloatVector.fromArray(SPECIES, line, j), x).intoArray(acc, o + j);
        }
        for (; j < nb; j++) acc[o + j] = Math.fma(beta, line[j], alpha * acc[o + j]);
      }
      // The epilogue, on whole vectors: the row holds ldc >= nb rounded up to a vector.
      if (f != null) Activations.applyLine(f, acc, o, nb);
      store(acc, o, nb, y, y.off + i * y.rs + j0 * y.cs, y.cs);
    }
  }

  /** Reads n elements of o from element {@code at}, stride st, into line[0..n). */
  private static void load(Operand o, long at, long st, int n, float[] line) {
    if (n == 0) return; // at may lie past an empty operand's memory
    if (o.arr != null) {
      if (st == 1) System.arraycopy(o.arr, (int) at, line, 0, n);
      else for (int e = 0; e < n; e++) line[e] = o.arr[(int) (at + e * st)];
    } else if (st == 1) {
      MemorySegment.copy(o.seg, F32, at * Float.BYTES, line, 0, n);
    } else {
      for (int e = 0; e < n; e++) line[e] = o.seg.getAtIndex(F32, at + e * st);
    }
  }

  /** Writes src[off..off + n) to n elements of o from element {@code at}, stride st. */
  private static void store(float[] src, int off, int n, Operand o, long at, long st) {
    if (o.arr != null) {
      if (st == 1) System.arraycopy(src, off, o.arr, (int) at, n);
      else for (int e = 0; e < n; e++) o.arr[(int) (at + e * st)] = src[off + e];
    } else if (st == 1) {
      MemorySegment.copy(src, off, o.seg, F32, at * Float.BYTES, n);
    } else {
      for (int e = 0; e < n; e++) o.seg.setAtIndex(F32, at + e * st, src[off + e]);
    }
  }

  /** The vector of o's elements at [at, at + LANES). */
  private static FloatVector vector(Operand o, long at) {
    return o.arr != null
        ? FloatVector.fromArray(SPECIES, o.arr, (int) at)
        : FloatVector.fromMemorySegment(SPECIES, o.seg, at * Float.BYTES, ByteOrder.nativeOrder());
  }

  private static float get(Operand o, long at) {
    return o.arr != null ? o.arr[(int) at] : o.seg.getAtIndex(F32, at);
  }

  // ---------------------------------------------------------------------------------------------
  // Validation of the array entry points

  private static void checkArrays(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float[] a,
      int aOff,
      int lda,
      float[] b,
      int bOff,
      int ldb,
      float[] c,
      int cOff,
      int ldc) {
    if (m < 0 || n < 0 || k < 0) {
      throw new IllegalArgumentException(
          "m, n, k: must be >= 0, got m = " + m + ", n = " + n + ", k = " + k);
    }
    if (k > MAX_K) throw new IllegalArgumentException("k: " + k + " exceeds " + MAX_K);
    checkMatrix("a", a, aOff, transA ? k : m, transA ? m : k, lda);
    checkMatrix("b", b, bOff, transB ? n : k, transB ? k : n, ldb);
    checkMatrix("c", c, cOff, m, n, ldc);
  }

  /** A rows x cols row-major matrix at x[off..] with leading dimension ld must fit in x. */
  private static void checkMatrix(String name, float[] x, int off, int rows, int cols, int ld) {
    if (x == null) throw new IllegalArgumentException(name + ": must not be null");
    if (rows == 0 || cols == 0) return;
    if (ld < cols) {
      throw new IllegalArgumentException(
          "ld" + name + ": must be >= " + cols + " (the row length of " + name + "), got " + ld);
    }
    long end = off + (long) (rows - 1) * ld + cols;
    if (off < 0 || end > x.length) {
      throw new IllegalArgumentException(
          name
              + ": a "
              + rows
              + " x "
              + cols
              + " matrix at offset "
              + off
              + " with ld "
              + ld
              + " needs "
              + end
              + " floats, got "
              + x.length);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // State

  /** A matrix operand: element (i, j) at {@code off + i·rs + j·cs} of arr, or of seg. */
  static final class Operand {
    float[] arr;
    MemorySegment seg;
    long off, rs, cs;

    void set(float[] arr, MemorySegment seg, long off, long rs, long cs) {
      this.arr = arr;
      this.seg = seg;
      this.off = off;
      this.rs = rs;
      this.cs = cs;
    }

    /** Row-major x with leading dimension ld, read transposed when {@code trans}. */
    void array(float[] x, int off, int ld, boolean trans) {
      set(x, null, off, trans ? 1 : ld, trans ? ld : 1);
    }

    /** A rank-2 tensor, read transposed when {@code first} is 1 (its dim 1 indexes rows). */
    void tensor(Tensor t, int first) {
      set(null, t.segment(), t.offset(), t.stride(first), t.stride(1 - first));
    }

    void transpose() {
      long t = rs;
      rs = cs;
      cs = t;
    }

    void clear() {
      arr = null;
      seg = null;
    }
  }

  /**
   * Per-thread buffers for the serial entry points: packed op(A) and op(B), accumulators and a line
   * of staging. Grown on demand, then reused: calls of a steady shape allocate nothing. One per
   * thread; not thread safe.
   */
  static final class Scratch {
    float[] ap = new float[0], bp = new float[0], acc = new float[0], line = new float[0];
    final Operand a = new Operand(), b = new Operand(), y = new Operand();

    /** Room for row blocks of {@code rows} over k, bpLen packed B floats and chunks of cols. */
    void ensure(int rows, int k, int bpLen, int cols) {
      int apLen = Math.multiplyExact(roundUp(rows, MR), k);
      if (ap.length < apLen) ap = new float[apLen];
      if (bp.length < bpLen) bp = new float[bpLen];
      if (acc.length < rows * NB) acc = new float[rows * NB];
      ensureLine(Math.max(Math.max(k, cols), Math.max(rows, NB)));
    }

    void ensureLine(int n) {
      if (line.length < n) line = new float[n];
    }

    /** Drops the references to the caller's arrays. */
    void release() {
      a.clear();
      b.clear();
      y.clear();
    }
  }

  /** op(B) packed by {@link #pack}: {@code [K, N]} in panels of NR columns. */
  static final class PackedB {
    float[] data = new float[0];
    int k, n;

    int k() {
      return k;
    }

    int n() {
      return n;
    }
  }
}
