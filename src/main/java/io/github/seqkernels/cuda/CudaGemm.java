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
 * ONNX Gemm on the CUDA backend with the library's own kernel, {@code gemm_f32} (kernels/gemm.cu),
 * whose reduction order is the CPU GEMM's, so both backends give the same bits. Transposes and
 * broadcasting are strides. Validation is the shared {@link GemmShape}.
 *
 * <p>TODO(perf): cuBLAS through JCublas on a real GPU; JCublas 12.6 needs libcublas.so.12, and this
 * kernel is the fallback where that cannot load.
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
    GemmShape g = shape.gemm(a, b, c, o, y, CudaBackend.OTHER_THREAD);
    if (g.m == 0 || g.n == 0) return;

    String what =
        "gemm a"
            + Arrays.toString(a.shape())
            + " b"
            + Arrays.toString(b.shape())
            + (c == null ? "" : " c" + Arrays.toString(c.shape()))
            + " "
            + o;
    try (Staging st = new Staging(be.launcher(), be.pool())) {
      long pa = st.in(a), pb = st.in(b), pc = c == null ? 0 : st.in(c), py = st.out(y);
      run(
          be, what, pa, g.aRs, g.aCs, pb, g.bRs, g.bCs, pc, g.cRs, g.cCs, py, g.yRs, g.yCs, g.m,
          g.n, g.k, o.alpha(), o.beta(), null);
      st.finish();
    }
  }

  /**
   * One launch of gemm_f32; op(A)(i, k) at pa + i·as0 + k·as1, likewise for B, C and Y; f (or null)
   * applied to each result as it is written.
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
}
