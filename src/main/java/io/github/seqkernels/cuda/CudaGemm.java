package io.github.seqkernels.cuda;

import io.github.seqkernels.Activation;
import io.github.seqkernels.GemmOp;
import io.github.seqkernels.GemmOptions;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;
import io.github.seqkernels.internal.GemmShape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * ONNX Gemm on the CUDA backend, and the product every CUDA operator runs ({@link #run}, {@link
 * #runBatched}): on cuBLAS when the backend has it ({@link CudaBackend#gemmEngine}) and {@link
 * CublasLayout} can express the layout, else on the library's own kernel, {@code gemm_f32}
 * (kernels/gemm.cu), whose reduction order is the CPU GEMM's, so that the two backends give the
 * same bits there. Transposes and broadcasting are strides. Validation is the shared {@link
 * GemmShape}.
 *
 * <p>On cuBLAS, C is copied (broadcast) into Y first and the product accumulates onto it with beta,
 * and an activation runs as a separate elementwise launch. Like BLAS, cuBLAS does not read C when
 * beta is 0 nor A and B when alpha is 0, so a non-finite value there does not turn the result into
 * NaN as it does on gemm_f32. K = 0 (Y = beta·C) stays on gemm_f32.
 */
final class CudaGemm implements GemmOp {
  /** sizeof(GemmArgs): 4 pointers, 8 strides, 3 ints, 2 floats, the epilogue's int and 2 floats. */
  static final int ARGS_BYTES = 128;

  private final CudaBackend be;
  private final GemmShape shape = new GemmShape();

  CudaGemm(CudaBackend be) {
    this.be = be;
  }

  @Override
  public synchronized void forward(Tensor a, Tensor b, Tensor c, GemmOptions o, Tensor y) {
    GemmShape g = shape.gemm(a, b, c, o, y, be.placement());
    if (g.m == 0 || g.n == 0) return;

    String what =
        "gemm a"
            + Arrays.toString(a.shape())
            + " b"
            + Arrays.toString(b.shape())
            + (c == null ? "" : " c" + Arrays.toString(c.shape()))
            + " "
            + o;
    try (Staging st = new Staging(be)) {
      long pa = st.in(a), pb = st.in(b), pc = c == null ? 0 : st.in(c), py = st.out(y);
      run(
          be, what, pa, g.aRs, g.aCs, pb, g.bRs, g.bCs, pc, g.cRs, g.cCs, py, g.yRs, g.yCs, g.m,
          g.n, g.k, o.alpha(), o.beta(), null);
      st.finish();
    }
  }

  /**
   * One product {@code Y = f(alpha·op(A)·op(B) + beta·C)} on the backend's engine: op(A)(i, k) is
   * the float at device address pa + 4·(i·as0 + k·as1) (strides in elements), likewise for B, C and
   * Y; pc 0 for no C (its strides 0 along broadcast dims), f null for no activation.
   */
  static void run(
      CudaBackend be,
      String what,
      long pa,
      long as0,
      long as1,
      long pb,
      long bs0,
      long bs1,
      long pc,
      long cs0,
      long cs1,
      long py,
      long ys0,
      long ys1,
      int m,
      int n,
      int k,
      float alpha,
      float beta,
      Activation f) {
    Blas blas = be.blas();
    if (blas != null
        && k > 0
        && CublasLayout.map(m, n, k, as0, as1, bs0, bs1, ys0, ys1)
            instanceof CublasLayout.Call call) {
      // C into Y (unless C is Y), then Y = alpha·op(A)·op(B) + beta·Y, then f in place.
      boolean withC = pc != 0 && beta != 0f;
      if (withC && !(pc == py && cs0 == ys0 && cs1 == ys1)) {
        CudaElementwise.apply2d(be.launcher(), pc, cs0, cs1, py, ys0, ys1, m, n, null, what);
      }
      blas.sgemm(
          call, call.operandA(pa, pb), call.operandB(pa, pb), py, alpha, withC ? beta : 0f, what);
      if (f != null) {
        CudaElementwise.apply2d(be.launcher(), py, ys0, ys1, py, ys0, ys1, m, n, f, what);
      }
      return;
    }

    // gemm_f32: f applied as each result is written.
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment g = arena.allocate(ARGS_BYTES, 8);
      long[] longs = {pa, pb, pc, py, as0, as1, bs0, bs1, cs0, cs1, ys0, ys1};
      for (int i = 0; i < longs.length; i++) g.set(ValueLayout.JAVA_LONG, 8L * i, longs[i]);
      g.set(ValueLayout.JAVA_INT, 96, m);
      g.set(ValueLayout.JAVA_INT, 100, n);
      g.set(ValueLayout.JAVA_INT, 104, k);
      g.set(ValueLayout.JAVA_FLOAT, 108, alpha);
      g.set(ValueLayout.JAVA_FLOAT, 112, beta);
      g.set(ValueLayout.JAVA_INT, 116, f == null ? -1 : f.kind().ordinal());
      g.set(ValueLayout.JAVA_FLOAT, 120, f == null ? 0f : f.alpha());
      g.set(ValueLayout.JAVA_FLOAT, 124, f == null ? 0f : f.beta());
      KernelLauncher l = be.launcher();
      Kernel kernel = l.function("gemm", "gemm_f32");
      int[] grid = {(n + 63) / 64, (m + 63) / 64, 1};
      if (grid[1] > 65535) AttentionShape.fail("a: rows M " + m + " exceed 65535·64 on CUDA");
      l.launch(kernel, grid, new int[] {16, 16, 1}, 0, new KernelArgs().struct(g), what);
    }
  }

  /**
   * {@code count} products {@code Y = op(A)·op(B)} (MatMul's batch) whose operands step by sa, sb
   * and sy elements: one cublasSgemmStridedBatched where the layout allows it, else product by
   * product through {@link #run}.
   */
  static void runBatched(
      CudaBackend be,
      String what,
      long count,
      long pa,
      long sa,
      long as0,
      long as1,
      long pb,
      long sb,
      long bs0,
      long bs1,
      long py,
      long sy,
      long ys0,
      long ys1,
      int m,
      int n,
      int k) {
    Blas blas = be.blas();
    if (blas != null
        && k > 0
        && count > 1
        && CublasLayout.map(m, n, k, as0, as1, bs0, bs1, ys0, ys1, count, sa, sb, sy)
            instanceof CublasLayout.Call call) {
      blas.sgemm(call, call.operandA(pa, pb), call.operandB(pa, pb), py, 1f, 0f, what);
      return;
    }
    for (long e = 0; e < count; e++) {
      long at = Float.BYTES * e; // entry e lies 4·e·stride bytes on
      run(
          be,
          what,
          pa + at * sa,
          as0,
          as1,
          pb + at * sb,
          bs0,
          bs1,
          0,
          0,
          0,
          py + at * sy,
          ys0,
          ys1,
          m,
          n,
          k,
          1f,
          0f,
          null);
    }
  }
}
