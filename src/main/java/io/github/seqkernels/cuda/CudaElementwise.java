package io.github.seqkernels.cuda;

import io.github.seqkernels.Activation;
import io.github.seqkernels.ElementwiseOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;
import io.github.seqkernels.internal.LayerShape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Activations and the broadcasting add on the CUDA backend ({@code activation_f32}, {@code add_f32}
 * in kernels/elementwise.cu). Operands are staged as the spans they address and read through their
 * own strides on the device, b's broadcast dims with stride 0. Validation is the shared {@link
 * LayerShape} (plus this backend's rank limit).
 */
final class CudaElementwise implements ElementwiseOp {
  /** The kernels index through at most this many dims (SK_MAX_RANK). */
  static final int MAX_RANK = 8;

  /** sizeof(EwArgs): 3 pointers, n, 4 · 8 longs, 2 ints, 2 floats and padding. */
  static final int ARGS_BYTES = 312;

  private final CudaBackend be;

  CudaElementwise(CudaBackend be) {
    this.be = be;
  }

  @Override
  public synchronized void apply(Tensor x, Activation f, Tensor y) {
    LayerShape.activation(x, f, y, be.placement());
    requireRank("x", x);
    if (x.numel() == 0) return;
    String what = "elementwise " + f + " x" + Arrays.toString(x.shape());
    try (Staging st = new Staging(be)) {
      long px = st.in(x), py = st.out(y);
      launch(
          be.launcher(),
          "activation_f32",
          px,
          x.strides(),
          0,
          null,
          py,
          y.strides(),
          x.shape(),
          f,
          what);
      st.finish();
    }
  }

  @Override
  public synchronized void add(Tensor a, Tensor b, Tensor y) {
    long[] bStrides = LayerShape.add(a, b, y, null, be.placement());
    requireRank("a", a);
    if (a.numel() == 0) return;
    String what = "add a" + Arrays.toString(a.shape()) + " b" + Arrays.toString(b.shape());
    try (Staging st = new Staging(be)) {
      long pa = st.in(a), pb = st.in(b), py = st.out(y);
      launch(
          be.launcher(),
          "add_f32",
          pa,
          a.strides(),
          pb,
          bStrides,
          py,
          y.strides(),
          a.shape(),
          null,
          what);
      st.finish();
    }
  }

  private static void requireRank(String name, Tensor t) {
    if (t.rank() > MAX_RANK) {
      AttentionShape.fail(name + ": rank " + t.rank() + " exceeds " + MAX_RANK + " on CUDA");
    }
  }

  /**
   * {@code y = f(x)} over a {@code [m, n]} strided view (f null: a copy, with x's strides 0 along a
   * dim it broadcasts); x may be y itself. The GEMM engine's epilogue and C term on cuBLAS.
   */
  static void apply2d(
      KernelLauncher l,
      long px,
      long xs0,
      long xs1,
      long py,
      long ys0,
      long ys1,
      int m,
      int n,
      Activation f,
      String what) {
    long[] shape = {m, n};
    launch(
        l,
        "activation_f32",
        px,
        new long[] {xs0, xs1},
        0,
        null,
        py,
        new long[] {ys0, ys1},
        shape,
        f,
        what);
  }

  /** {@code y = x} between device views of one shape, any strides (rank <= MAX_RANK). */
  static void copy(KernelLauncher l, long px, long[] xs, long py, long[] ys, long[] shape) {
    launch(
        l,
        "activation_f32",
        px,
        xs,
        0,
        null,
        py,
        ys,
        shape,
        null,
        "copy " + Arrays.toString(shape));
  }

  private static void launch(
      KernelLauncher l,
      String entry,
      long px,
      long[] xs,
      long pb,
      long[] bs,
      long py,
      long[] ys,
      long[] shape,
      Activation f,
      String what) {
    long n = 1;
    for (long s : shape) n *= s;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment g = arena.allocate(ARGS_BYTES, 8);
      g.set(ValueLayout.JAVA_LONG, 0, px);
      g.set(ValueLayout.JAVA_LONG, 8, pb);
      g.set(ValueLayout.JAVA_LONG, 16, py);
      g.set(ValueLayout.JAVA_LONG, 24, n);
      for (int d = 0; d < shape.length; d++) {
        g.set(ValueLayout.JAVA_LONG, 32 + 8L * d, shape[d]);
        g.set(ValueLayout.JAVA_LONG, 96 + 8L * d, xs[d]);
        g.set(ValueLayout.JAVA_LONG, 160 + 8L * d, bs == null ? 0 : bs[d]);
        g.set(ValueLayout.JAVA_LONG, 224 + 8L * d, ys[d]);
      }
      g.set(ValueLayout.JAVA_INT, 288, shape.length);
      g.set(ValueLayout.JAVA_INT, 292, f == null ? -1 : f.kind().ordinal());
      g.set(ValueLayout.JAVA_FLOAT, 296, f == null ? 0f : f.alpha());
      g.set(ValueLayout.JAVA_FLOAT, 300, f == null ? 0f : f.beta());
      int blocks = (int) Math.min(65535, (n + 255) / 256);
      l.launch(
          l.function("elementwise", entry),
          new int[] {blocks, 1, 1},
          new int[] {256, 1, 1},
          0,
          new KernelArgs().struct(g),
          what);
    }
  }
}
