package io.github.seqkernels.cuda;

import io.github.seqkernels.EmbeddingOp;
import io.github.seqkernels.LayerNormOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;
import io.github.seqkernels.internal.LayerShape;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * LayerNorm and embedding lookup on the CUDA backend ({@code layernorm_f32}, {@code embedding_f32}
 * in kernels/layers.cu). Operands travel as contiguous device copies; validation is the shared
 * {@link LayerShape}, so both backends refuse the same input with the same messages.
 */
final class CudaLayers {
  private CudaLayers() {}

  static final class Norm implements LayerNormOp {
    private final CudaBackend be;

    Norm(CudaBackend be) {
      this.be = be;
    }

    @Override
    public synchronized void forward(
        Tensor x, Tensor residual, Tensor scale, Tensor bias, float epsilon, Tensor y) {
      LayerShape.layerNorm(x, residual, scale, bias, epsilon, y, be.placement());
      long e = x.size(x.rank() - 1);
      if (e > Integer.MAX_VALUE) AttentionShape.fail("x: last dim " + e + " exceeds 2^31-1");
      long rows = e == 0 ? 0 : x.numel() / e;
      if (rows == 0) return;
      if (rows > Integer.MAX_VALUE) AttentionShape.fail("x: " + rows + " rows exceed 2^31-1");
      String what = "layerNorm x" + Arrays.toString(x.shape());
      try (Staging st = new Staging(be)) {
        KernelLauncher l = be.launcher();
        KernelArgs a =
            new KernelArgs()
                .ptr(st.contiguousIn(x))
                .ptr(residual == null ? 0 : st.contiguousIn(residual))
                .ptr(st.contiguousIn(scale))
                .ptr(bias == null ? 0 : st.contiguousIn(bias))
                .ptr(st.contiguousOut(y))
                .i32((int) e)
                .f32(epsilon);
        int threads = (int) Math.min(256, (e + 31) / 32 * 32);
        l.launch(
            l.function("layers", "layernorm_f32"),
            new int[] {(int) rows, 1, 1},
            new int[] {threads, 1, 1},
            0,
            a,
            what);
        st.finish();
      }
    }
  }

  static final class Embedding implements EmbeddingOp {
    private final CudaBackend be;

    Embedding(CudaBackend be) {
      this.be = be;
    }

    @Override
    public synchronized void forward(Tensor table, int[] ids, Tensor y) {
      LayerShape.embedding(table, ids, y, be.placement());
      long v = table.size(0), e = table.size(1);
      if (ids.length == 0 || e == 0) return;
      String what = "embedding table" + Arrays.toString(table.shape()) + " ids " + ids.length;
      try (Staging st = new Staging(be)) {
        long pIds = st.bytes(MemorySegment.ofArray(ids), (long) ids.length * Integer.BYTES);
        long pt = st.contiguousIn(table), py = st.contiguousOut(y);
        KernelLauncher l = be.launcher();
        KernelArgs a = new KernelArgs().ptr(pt).ptr(pIds).ptr(py).i32((int) e);
        l.launch(
            l.function("layers", "embedding_f32"),
            new int[] {ids.length, 1, 1},
            new int[] {128, 1, 1},
            0,
            a,
            what);
        st.finish();
      }
    }
  }
}
