package io.github.seqkernels.cuda;

import io.github.seqkernels.MatMulOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;
import io.github.seqkernels.internal.Broadcast;
import java.util.Arrays;

/**
 * numpy / ONNX MatMul on the CUDA backend: the batch dims broadcast by strides (0 along a broadcast
 * dim) and each batch entry is one {@code gemm_f32} launch on the staged operands, so every element
 * is the CPU's fused multiply-add chain. Validation and messages are the CPU's.
 *
 * <p>TODO(perf): one launch per batch entry; a batched grid (blockIdx.z) or cuBLAS strided batched
 * for attention-style shapes.
 */
final class CudaMatMul implements MatMulOp {
  private final CudaBackend be;

  CudaMatMul(CudaBackend be) {
    this.be = be;
  }

  @Override
  public synchronized void forward(Tensor a, Tensor b, Tensor y) {
    AttentionShape.requireNonNull("a", a);
    AttentionShape.requireNonNull("b", b);
    AttentionShape.requireNonNull("y", y);
    int ra = a.rank(), rb = b.rank();
    if (ra == 0 || rb == 0) Broadcast.matmulShape(a.shape(), b.shape()); // throws
    long mm = ra == 1 ? 1 : a.size(ra - 2), kk = a.size(ra - 1);
    long kb = rb == 1 ? b.size(0) : b.size(rb - 2), nn = rb == 1 ? 1 : b.size(rb - 1);
    int na = Math.max(0, ra - 2), nb = Math.max(0, rb - 2), r = Math.max(na, nb);
    long[] batch = new long[r], aSt = new long[r], bSt = new long[r], ySt = new long[r];
    boolean ok = kk == kb;
    for (int d = 0; d < r; d++) {
      int da = d - (r - na), db = d - (r - nb);
      long x = da >= 0 ? a.size(da) : 1, w = db >= 0 ? b.size(db) : 1;
      if (x != w && x != 1 && w != 1) ok = false;
      batch[d] = x == 1 ? w : x;
      aSt[d] = x == 1 ? 0 : a.stride(da);
      bSt[d] = w == 1 ? 0 : b.stride(db);
    }
    if (!ok) Broadcast.matmulShape(a.shape(), b.shape()); // throws
    int yr = r + (ra == 1 ? 0 : 1) + (rb == 1 ? 0 : 1);
    boolean same = y.rank() == yr;
    for (int d = 0; same && d < r; d++) same = y.size(d) == batch[d];
    if (same && ra != 1) same = y.size(r) == mm;
    if (same && rb != 1) same = y.size(yr - 1) == nn;
    if (!same) {
      AttentionShape.fail(
          "y: shape must be "
              + Arrays.toString(Broadcast.matmulShape(a.shape(), b.shape()))
              + ", got "
              + Arrays.toString(y.shape()));
    }
    CudaGemm.requireSize("a", "rows M", mm, Integer.MAX_VALUE);
    CudaGemm.requireSize("b", "columns N", nn, Integer.MAX_VALUE);
    CudaGemm.requireSize("a", "inner dim K", kk, CudaGemm.MAX_K);
    Thread other = CudaBackend.OTHER_THREAD;
    AttentionShape.requireAccessible("a", a, other);
    AttentionShape.requireAccessible("b", b, other);
    AttentionShape.requireAccessible("y", y, other);
    long count = 1;
    for (int d = 0; d < r; d++) {
      ySt[d] = batch[d] == 1 ? 0 : y.stride(d);
      count = Math.multiplyExact(count, batch[d]);
    }
    if (count == 0 || mm == 0 || nn == 0) return;
    long aRs = ra == 1 ? 0 : a.stride(ra - 2), aCs = a.stride(ra - 1);
    long bRs = rb == 1 ? b.stride(0) : b.stride(rb - 2), bCs = rb == 1 ? 0 : b.stride(rb - 1);
    long yRs = ra == 1 ? 0 : y.stride(r), yCs = rb == 1 ? 0 : y.stride(yr - 1);
    String what = "matmul a" + Arrays.toString(a.shape()) + " b" + Arrays.toString(b.shape());

    try (Staging st = new Staging(be.launcher(), be.pool())) {
      long pa = st.in(a), pb = st.in(b), py = st.out(y);
      long[] idx = new long[r];
      for (long e = 0; e < count; e++) {
        long oa = 0, ob = 0, oy = 0, rest = e;
        for (int d = r - 1; d >= 0; d--) {
          idx[d] = rest % batch[d];
          rest /= batch[d];
          oa += idx[d] * aSt[d];
          ob += idx[d] * bSt[d];
          oy += idx[d] * ySt[d];
        }
        CudaGemm.run(
            be,
            what,
            pa + oa * Float.BYTES,
            aRs,
            aCs,
            pb + ob * Float.BYTES,
            bRs,
            bCs,
            0,
            0,
            0,
            py + oy * Float.BYTES,
            yRs,
            yCs,
            (int) mm,
            (int) nn,
            (int) kk,
            1f,
            0f,
            null);
      }
      st.finish();
    }
  }
}
