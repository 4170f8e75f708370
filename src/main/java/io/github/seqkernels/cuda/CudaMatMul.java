package io.github.seqkernels.cuda;

import io.github.seqkernels.MatMulOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.GemmShape;
import java.util.Arrays;

/**
 * numpy / ONNX MatMul on the CUDA backend: the batch dims broadcast by strides (0 along a broadcast
 * dim); batch dims with uniform strides fold into one cuBLAS strided-batched call where the backend
 * has cuBLAS, and otherwise each batch entry is one {@code gemm_f32} launch on the staged operands
 * (every element then the CPU's fused multiply-add chain). Validation is the shared {@link
 * GemmShape}.
 *
 * <p>TODO(perf): on gemm_f32, one launch per batch entry; a batched grid (blockIdx.z) would serve
 * attention-style shapes.
 */
final class CudaMatMul implements MatMulOp {
  private final CudaBackend be;
  private final GemmShape shape = new GemmShape();

  CudaMatMul(CudaBackend be) {
    this.be = be;
  }

  @Override
  public synchronized void forward(Tensor a, Tensor b, Tensor y) {
    GemmShape g = shape.matmul(a, b, y, be.placement());
    if (g.batches == 0 || g.m == 0 || g.n == 0) return;
    String what = "matmul a" + Arrays.toString(a.shape()) + " b" + Arrays.toString(b.shape());

    // The batch dims as outer × inner: the trailing dims along which a, b and y each step by one
    // stride fold into runs of `inner` products (one strided-batched cuBLAS call each); the outer
    // dims [0, split) are looped. Dims of size 1 fold whatever their strides.
    int split = g.batchRank;
    long inner = 1, sa = 0, sb = 0, sy = 0;
    for (int d = g.batchRank - 1; d >= 0; d--) {
      if (g.batch[d] != 1) {
        if (inner == 1) {
          sa = g.aSt[d];
          sb = g.bSt[d];
          sy = g.ySt[d];
        } else if (g.aSt[d] != sa * inner || g.bSt[d] != sb * inner || g.ySt[d] != sy * inner) {
          break;
        }
        inner *= g.batch[d];
      }
      split = d;
    }

    try (Staging st = new Staging(be)) {
      long pa = st.in(a), pb = st.in(b), py = st.out(y);
      for (long e = 0; e < g.batches / inner; e++) {
        long oa = g.batchOffset(e, split, g.aSt), ob = g.batchOffset(e, split, g.bSt);
        long oy = g.batchOffset(e, split, g.ySt);
        CudaGemm.runBatched(
            be,
            what,
            inner,
            pa + oa * Float.BYTES,
            sa,
            g.aRs,
            g.aCs,
            pb + ob * Float.BYTES,
            sb,
            g.bRs,
            g.bCs,
            py + oy * Float.BYTES,
            sy,
            g.yRs,
            g.yCs,
            g.m,
            g.n,
            g.k);
      }
      st.finish();
    }
  }
}
