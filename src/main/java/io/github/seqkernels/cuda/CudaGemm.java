package io.github.seqkernels.cuda;

import io.github.seqkernels.Activation;
import io.github.seqkernels.GemmOp;
import io.github.seqkernels.GemmOptions;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * ONNX Gemm on the CUDA backend with the library's own kernel, {@code gemm_f32} (kernels/gemm.cu),
 * whose reduction order is the CPU GEMM's, so both backends give the same bits. Transposes and
 * broadcasting are strides. Validation and its messages are the CPU operator's.
 *
 * <p>TODO(perf): cuBLAS through JCublas on a real GPU; JCublas 12.6 needs libcublas.so.12, and this
 * kernel is the fallback where that cannot load.
 */
final class CudaGemm implements GemmOp {
  /** As the CPU GEMM: K fits its packed panels. */
  static final long MAX_K = Integer.MAX_VALUE / 64;

  /** sizeof(GemmArgs): 4 pointers, 8 strides, 3 ints, 2 floats, the epilogue's int and 2 floats. */
  static final int ARGS_BYTES = 128;

  private final CudaBackend be;
  private final long[] cStrides = new long[2];

  CudaGemm(CudaBackend be) {
    this.be = be;
  }

  @Override
  public synchronized void forward(Tensor a, Tensor b, Tensor c, GemmOptions o, Tensor y) {
    AttentionShape.requireNonNull("a", a);
    AttentionShape.requireNonNull("b", b);
    AttentionShape.requireNonNull("y", y);
    AttentionShape.requireNonNull("options", o);
    AttentionShape.requireRank("a", a, 2, o.transA() ? "[K, M]" : "[M, K]");
    AttentionShape.requireRank("b", b, 2, o.transB() ? "[N, K]" : "[K, N]");
    long mm = a.size(o.transA() ? 1 : 0), ka = a.size(o.transA() ? 0 : 1);
    long kb = b.size(o.transB() ? 1 : 0), nn = b.size(o.transB() ? 0 : 1);
    if (ka != kb) {
      AttentionShape.fail(
          "b: inner dim "
              + kb
              + " != a inner dim "
              + ka
              + " (a "
              + Arrays.toString(a.shape())
              + (o.transA() ? " transposed" : "")
              + ", b "
              + Arrays.toString(b.shape())
              + (o.transB() ? " transposed" : "")
              + ")");
    }
    requireSize("a", "rows M", mm, Integer.MAX_VALUE);
    requireSize("b", "columns N", nn, Integer.MAX_VALUE);
    requireSize("a", "inner dim K", ka, MAX_K);
    if (c != null) broadcastStrides(c, mm, nn, cStrides);
    if (y.rank() != 2 || y.size(0) != mm || y.size(1) != nn) {
      AttentionShape.fail(
          "y: shape must be [" + mm + ", " + nn + "], got " + Arrays.toString(y.shape()));
    }
    Thread other = CudaBackend.OTHER_THREAD;
    AttentionShape.requireAccessible("a", a, other);
    AttentionShape.requireAccessible("b", b, other);
    if (c != null) AttentionShape.requireAccessible("c", c, other);
    AttentionShape.requireAccessible("y", y, other);
    if (mm == 0 || nn == 0) return;

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
      int ta = o.transA() ? 1 : 0, tb = o.transB() ? 1 : 0;
      run(
          be,
          what,
          pa,
          a.stride(ta),
          a.stride(1 - ta),
          pb,
          b.stride(tb),
          b.stride(1 - tb),
          pc,
          cStrides[0],
          cStrides[1],
          py,
          y.stride(0),
          y.stride(1),
          (int) mm,
          (int) nn,
          (int) ka,
          o.alpha(),
          o.beta(),
          null);
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

  private static void broadcastStrides(Tensor c, long m, long n, long[] out) {
    int r = c.rank();
    long s0 = r == 2 ? c.size(0) : 1, s1 = r >= 1 ? c.size(r - 1) : 1;
    if (r > 2 || (s0 != m && s0 != 1) || (s1 != n && s1 != 1)) {
      AttentionShape.broadcastStrides(
          "c", c.shape(), c.strides(), new long[] {m, n}, new long[2]); // throws
    }
    out[0] = r == 2 && s0 != 1 ? c.stride(0) : 0;
    out[1] = r >= 1 && s1 != 1 ? c.stride(r - 1) : 0;
  }

  static void requireSize(String name, String what, long size, long max) {
    if (size > max) AttentionShape.fail(name + ": " + what + " " + size + " exceeds " + max);
  }
}
