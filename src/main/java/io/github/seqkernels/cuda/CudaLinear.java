package io.github.seqkernels.cuda;

import io.github.seqkernels.Activation;
import io.github.seqkernels.LinearOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.GemmShape;
import io.github.seqkernels.internal.LayerShape;
import java.util.Arrays;

/**
 * nn.Linear on the CUDA backend: one product ({@link CudaGemm#run}) over x's leading dims folded
 * into rows, op(B) = wᵀ read through w's strides, the bias as C broadcast along the rows, and the
 * activation applied in gemm_f32's write-back (on cuBLAS: bias copied in first, activation after).
 * x and y are read and written as contiguous {@code [rows, K]} and {@code [rows, N]}: in place for
 * dense device tensors, else through a dense device copy. Validation is the shared {@link
 * LayerShape#linear}.
 */
final class CudaLinear implements LinearOp {
  private final CudaBackend be;

  CudaLinear(CudaBackend be) {
    this.be = be;
  }

  @Override
  public synchronized void forward(Tensor x, Tensor w, Tensor b, Activation f, Tensor y) {
    LayerShape.linear(x, w, b, y, be.placement());
    long n = w.size(0), k = w.size(1);
    GemmShape.requireSize("w", "rows N", n, Integer.MAX_VALUE);
    GemmShape.requireSize("w", "inner dim K", k, GemmShape.MAX_K);
    if (n == 0 || y.numel() == 0) return;
    long rows = y.numel() / n; // x's leading dims; with K = 0, y = f(b)
    GemmShape.requireSize("x", "rows", rows, Integer.MAX_VALUE);
    String what =
        "linear x"
            + Arrays.toString(x.shape())
            + " w"
            + Arrays.toString(w.shape())
            + (f == null ? "" : " " + f);
    try (Staging st = new Staging(be)) {
      // x and y as dense [rows, K] and [rows, N]: in place when they are dense device tensors.
      long px = k > 0 ? st.contiguousIn(x) : 0, py = st.contiguousOut(y);
      long pw = st.in(w), pb = b == null ? 0 : st.in(b);
      CudaGemm.run(
          be,
          what,
          px,
          k,
          1,
          pw,
          w.stride(1),
          w.stride(0),
          pb,
          0,
          b == null ? 0 : b.stride(0),
          py,
          n,
          1,
          (int) rows,
          (int) n,
          (int) k,
          1f,
          1f,
          f);
      st.finish();
    }
  }
}
