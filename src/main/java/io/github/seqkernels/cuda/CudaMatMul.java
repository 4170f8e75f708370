package io.github.seqkernels.cuda;

import io.github.seqkernels.MatMulOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.GemmShape;
import java.util.Arrays;

/**
 * numpy / ONNX MatMul on the CUDA backend: the batch dims broadcast by strides (0 along a broadcast
 * dim) and each batch entry is one {@code gemm_f32} launch on the staged operands, so every element
 * is the CPU's fused multiply-add chain. Validation is the shared {@link GemmShape}.
 *
 * <p>TODO(perf): one launch per batch entry; a batched grid (blockIdx.z) or cuBLAS strided batched
 * for attention-style shapes.
 */
final class CudaMatMul implements MatMulOp {
  private final CudaBackend be;
  private final GemmShape shape = new GemmShape();

  CudaMatMul(CudaBackend be) {
    this.be = be;
  }

  @Override
  public synchronized void forward(Tensor a, Tensor b, Tensor y) {
    GemmShape g = shape.matmul(a, b, y, CudaBackend.OTHER_THREAD);
    if (g.batches == 0 || g.m == 0 || g.n == 0) return;
    String what = "matmul a" + Arrays.toString(a.shape()) + " b" + Arrays.toString(b.shape());

    try (Staging st = new Staging(be.launcher(), be.pool())) {
      long pa = st.in(a), pb = st.in(b), py = st.out(y);
      for (long e = 0; e < g.batches; e++) {
        long oa = 0, ob = 0, oy = 0, rest = e;
        for (int d = g.batchRank - 1; d >= 0; d--) {
          long i = rest % g.batch[d];
          rest /= g.batch[d];
          oa += i * g.aSt[d];
          ob += i * g.bSt[d];
          oy += i * g.ySt[d];
        }
        CudaGemm.run(
            be,
            what,
            pa + oa * Float.BYTES,
            g.aRs,
            g.aCs,
            pb + ob * Float.BYTES,
            g.bRs,
            g.bCs,
            0,
            0,
            0,
            py + oy * Float.BYTES,
            g.yRs,
            g.yCs,
            g.m,
            g.n,
            g.k,
            1f,
            0f,
            null);
      }
      st.finish();
    }
  }
}
