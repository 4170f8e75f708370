package io.github.seqkernels.cpu;

import io.github.seqkernels.Activation;
import io.github.seqkernels.LinearOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.GemmShape;
import io.github.seqkernels.internal.LayerShape;
import io.github.seqkernels.internal.WorkerPool;

/**
 * nn.Linear on the CPU: {@link CpuGemm} with op(B) = wᵀ (read through w's strides, no copy), the
 * bias as its C broadcast along the rows, and the activation applied in the GEMM's write-back, so y
 * is written once. When x's leading dims fold into one row dim (any contiguous x, and many views),
 * and y's likewise, the call is a single {@code [rows, K]·[K, N]} product, parallel inside;
 * otherwise one product per entry of the dims before the last two.
 */
final class CpuLinear implements LinearOp {
  private static final long NO = Long.MIN_VALUE;

  private final WorkerPool pool;
  private final CpuGemm gemm;
  private final CpuGemm.Operand oa = new CpuGemm.Operand(), ob = new CpuGemm.Operand();
  private final CpuGemm.Operand oc = new CpuGemm.Operand(), oy = new CpuGemm.Operand();

  CpuLinear(WorkerPool pool, CpuGemm gemm) {
    this.pool = pool;
    this.gemm = gemm;
  }

  @Override
  public synchronized void forward(Tensor x, Tensor w, Tensor b, Activation f, Tensor y) {
    LayerShape.linear(x, w, b, y, pool.placement());
    int r = x.rank();
    long n = w.size(0), k = w.size(1);
    GemmShape.requireSize("w", "rows N", n, Integer.MAX_VALUE);
    GemmShape.requireSize("w", "inner dim K", k, GemmShape.MAX_K);
    if (n == 0 || y.numel() == 0) return;
    long rows = y.numel() / n; // x's leading dims; with K = 0, y = f(b)
    if (r >= 2) GemmShape.requireSize("x", "rows M", x.size(r - 2), Integer.MAX_VALUE);

    // op(B)[p, j] = w[j, p]; the bias is C[i, j] = b[j] (row stride 0).
    ob.set(null, w.segment(), w.offset(), w.stride(1), w.stride(0));
    if (b != null) oc.set(null, b.segment(), b.offset(), 0, b.stride(0));
    long xRs = foldedRowStride(x), yRs = foldedRowStride(y);
    try {
      if (xRs != NO && yRs != NO && rows <= Integer.MAX_VALUE) {
        oa.set(null, x.segment(), x.offset(), xRs, x.stride(r - 1));
        oy.set(null, y.segment(), y.offset(), yRs, y.stride(r - 1));
        gemm.multiply(oa, ob, b == null ? null : oc, oy, (int) rows, (int) n, (int) k, f);
        return;
      }
      // One product per entry of the dims before the last two (r >= 3 here).
      long m = x.size(r - 2), entries = rows / m;
      for (long g = 0; g < entries; g++) {
        long xo = x.offset(), yo = y.offset(), rest = g;
        for (int d = r - 3; d >= 0; d--) {
          long i = rest % x.size(d);
          rest /= x.size(d);
          xo += i * x.stride(d);
          yo += i * y.stride(d);
        }
        oa.set(null, x.segment(), xo, x.stride(r - 2), x.stride(r - 1));
        oy.set(null, y.segment(), yo, y.stride(r - 2), y.stride(r - 1));
        gemm.multiply(oa, ob, b == null ? null : oc, oy, (int) m, (int) n, (int) k, f);
      }
    } finally {
      oa.clear();
      ob.clear();
      oc.clear();
      oy.clear();
    }
  }

  /**
   * The stride of the row index when all dims but the last read as one row dim, or NO when they do
   * not fold. Dims of size 1 fold whatever their stride; rank 1 is one row.
   */
  private static long foldedRowStride(Tensor t) {
    int r = t.rank();
    long stride = NO, span = 1;
    for (int d = r - 2; d >= 0; d--) {
      if (t.size(d) == 1) continue;
      if (stride == NO) stride = t.stride(d);
      else if (t.stride(d) != stride * span) return NO;
      span *= t.size(d);
    }
    return stride == NO ? 0 : stride;
  }
}
