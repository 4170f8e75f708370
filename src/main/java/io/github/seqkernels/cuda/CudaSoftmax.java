package io.github.seqkernels.cuda;

import io.github.seqkernels.SoftmaxOp;
import io.github.seqkernels.SoftmaxOptions;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;
import io.github.seqkernels.internal.SoftmaxShape;
import java.util.Arrays;

/**
 * Softmax on the CUDA backend: {@code softmax_rows_f32} over a contiguous {@code [outer, n, inner]}
 * copy of x (kernels/softmax.cu), one block per row. Validation is the shared {@link SoftmaxShape}.
 */
final class CudaSoftmax implements SoftmaxOp {
  private final CudaBackend be;

  CudaSoftmax(CudaBackend be) {
    this.be = be;
  }

  @Override
  public synchronized void forward(Tensor x, Tensor y, SoftmaxOptions o) {
    int ax = SoftmaxShape.validate(x, y, o, be.placement()), r = x.rank();
    long n = x.size(ax), numel = x.numel();
    if (numel == 0) return;
    long inner = 1;
    for (int d = ax + 1; d < r; d++) inner *= x.size(d);
    long rows = numel / n;
    if (rows > Integer.MAX_VALUE) AttentionShape.fail("x: " + rows + " rows exceed 2^31-1");
    String what = "softmax x" + Arrays.toString(x.shape()) + " axis " + ax;

    KernelLauncher l = be.launcher();
    try (Staging st = new Staging(be)) {
      long px = st.contiguousIn(x), py = st.contiguousOut(y);
      Kernel k = l.function("softmax", "softmax_rows_f32");
      KernelArgs a =
          new KernelArgs()
              .ptr(px)
              .ptr(py)
              .i64(inner)
              .i32((int) n)
              .f32(o.scale())
              .i32(o.log() ? 1 : 0);
      // Short rows take one warp: the other threads of a 256-wide block would idle.
      int threads = (int) Math.min(256, (n + 31) / 32 * 32);
      l.launch(k, new int[] {(int) rows, 1, 1}, new int[] {threads, 1, 1}, 0, a, what);
      st.finish();
    }
  }
}
