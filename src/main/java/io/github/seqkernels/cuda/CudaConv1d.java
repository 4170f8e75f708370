package io.github.seqkernels.cuda;

import io.github.seqkernels.Conv1dOp;
import io.github.seqkernels.Conv1dOptions;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.LayerShape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Conv1d on the CUDA backend with the direct kernel {@code conv1d_f32} (kernels/elementwise.cu):
 * one thread per output, every option (stride, pads, dilation, groups) and every layout through
 * strides. Its reduction order is the CPU's im2col + GEMM, so both backends give the same bits.
 * Validation is the shared {@link LayerShape#conv1d}.
 *
 * <p>TODO(perf): one thread walks C/G·K products for its output; im2col + GEMM tiles (or cuDNN)
 * reuse x and w through shared memory for wide channels.
 */
final class CudaConv1d implements Conv1dOp {
  /** sizeof(ConvArgs): 4 pointers, 10 strides, 10 ints. */
  static final int ARGS_BYTES = 152;

  private final CudaBackend be;

  CudaConv1d(CudaBackend be) {
    this.be = be;
  }

  /**
   * Copies of w and bias in this backend's device memory; each call is {@link #forward} on them, so
   * the copies never travel again.
   */
  @Override
  public Prepared prepare(Tensor w, Tensor bias, Conv1dOptions o) {
    LayerShape.conv1dWeights(w, bias, o, be.placement());
    Tensor wd = be.upload(w);
    Tensor bd;
    try {
      bd = bias == null ? null : be.upload(bias);
    } catch (RuntimeException e) {
      wd.close();
      throw e;
    }
    return new Prepared() {
      private boolean closed;

      @Override
      public void forward(Tensor x, Tensor y) {
        synchronized (CudaConv1d.this) {
          if (closed) {
            throw new IllegalStateException("conv1d: this prepared convolution is closed");
          }
          CudaConv1d.this.forward(x, wd, bd, o, y);
        }
      }

      @Override
      public void close() {
        synchronized (CudaConv1d.this) {
          if (closed) return;
          closed = true;
          wd.close();
          if (bd != null) bd.close();
        }
      }
    };
  }

  @Override
  public synchronized void forward(Tensor x, Tensor w, Tensor bias, Conv1dOptions o, Tensor y) {
    LayerShape.conv1d(x, w, bias, o, y, be.placement());
    long batch = x.size(0), oc = w.size(0);
    int lout = (int) o.outputLength(x.size(2), w.size(2));
    if (batch == 0 || oc == 0) return;
    String what =
        "conv1d x" + Arrays.toString(x.shape()) + " w" + Arrays.toString(w.shape()) + " " + o;
    try (Staging st = new Staging(be);
        Arena arena = Arena.ofConfined()) {
      long px = st.in(x), pw = st.in(w), pb = bias == null ? 0 : st.in(bias), py = st.out(y);
      MemorySegment g = arena.allocate(ARGS_BYTES, 8);
      long[] longs = {
        px,
        pw,
        pb,
        py,
        x.stride(0),
        x.stride(1),
        x.stride(2),
        w.stride(0),
        w.stride(1),
        w.stride(2),
        bias == null ? 0 : bias.stride(0),
        y.stride(0),
        y.stride(1),
        y.stride(2)
      };
      for (int i = 0; i < longs.length; i++) g.set(ValueLayout.JAVA_LONG, 8L * i, longs[i]);
      int[] ints = {
        (int) batch,
        (int) oc,
        lout,
        (int) x.size(2),
        (int) w.size(1),
        (int) (oc / o.groups()),
        (int) w.size(2),
        o.stride(),
        o.dilation(),
        o.padBegin()
      };
      for (int i = 0; i < ints.length; i++) g.set(ValueLayout.JAVA_INT, 112 + 4L * i, ints[i]);
      long n = batch * oc * lout;
      KernelLauncher l = be.launcher();
      l.launch(
          l.function("elementwise", "conv1d_f32"),
          new int[] {(int) Math.min(65535, (n + 127) / 128), 1, 1},
          new int[] {128, 1, 1},
          0,
          new KernelArgs().struct(g),
          what);
      st.finish();
    }
  }
}
