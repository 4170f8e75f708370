package io.github.seqkernels.reference;

import io.github.seqkernels.GemmOptions;
import io.github.seqkernels.MatMulOp;
import io.github.seqkernels.Tensor;

/**
 * The control for {@code GemmOp} and {@code MatMulOp}: plain float64 loops, written for obviousness
 * and never optimised, reading the same strided tensors as the backends.
 *
 * <p>Each result comes with {@code abs}, the same sum taken over the absolute values of its terms
 * ({@code |alpha|·sum_k |a·b| + |beta·c|}). A float32 result summed in any order is within about
 * {@code K·eps·abs} of the exact value, so tests scale their tolerance with it rather than with the
 * result, which can cancel to near zero.
 */
public final class ScalarGemm {
  private ScalarGemm() {}

  /** A product, flat row-major, and the matching sums of absolute terms. */
  public record Product(double[] y, double[] abs) {}

  /**
   * {@code alpha · op(A) · op(B) + beta · C} as {@code [M, N]}; c may be null or any shape that
   * broadcasts to {@code [M, N]}. Shapes are assumed valid.
   */
  public static Product gemm(Tensor a, Tensor b, Tensor c, GemmOptions o) {
    int m = (int) (o.transA() ? a.size(1) : a.size(0));
    int k = (int) (o.transA() ? a.size(0) : a.size(1));
    int n = (int) (o.transB() ? b.size(0) : b.size(1));
    float[] av = a.toArray(), bv = b.toArray(), cv = c == null ? null : c.toArray();
    double[] y = new double[m * n], abs = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0, sa = 0;
        for (int p = 0; p < k; p++) {
          double x = o.transA() ? av[p * m + i] : av[i * k + p];
          double w = o.transB() ? bv[j * k + p] : bv[p * n + j];
          s += x * w; // exact: a product of two floats fits a double
          sa += Math.abs(x * w);
        }
        double ct = c == null ? 0 : o.beta() * (double) cv[broadcastIndex(c, i, j)];
        y[i * n + j] = o.alpha() * s + ct;
        abs[i * n + j] = Math.abs(o.alpha()) * sa + Math.abs(ct);
      }
    }
    return new Product(y, abs);
  }

  /** Flat row-major index in c of element (i, j) of c broadcast to a matrix (rank 0, 1 or 2). */
  private static int broadcastIndex(Tensor c, int i, int j) {
    return switch (c.rank()) {
      case 0 -> 0;
      case 1 -> c.size(0) == 1 ? 0 : j;
      default -> (c.size(0) == 1 ? 0 : i) * (int) c.size(1) + (c.size(1) == 1 ? 0 : j);
    };
  }

  /**
   * numpy {@code matmul(a, b)}, flat row-major in the shape {@link MatMulOp#outputShape} gives:
   * rank-1 operands promoted, batch dims broadcast.
   */
  public static Product matmul(Tensor a, Tensor b) {
    long[] out = MatMulOp.outputShape(a.shape(), b.shape());
    int ra = a.rank(), rb = b.rank();
    int m = ra == 1 ? 1 : (int) a.size(ra - 2), k = (int) a.size(ra - 1);
    int n = rb == 1 ? 1 : (int) b.size(rb - 1);
    int batchRank = out.length - (ra == 1 ? 0 : 1) - (rb == 1 ? 0 : 1);
    int batches = 1;
    for (int d = 0; d < batchRank; d++) batches *= (int) out[d];
    float[] av = a.toArray(), bv = b.toArray();
    double[] y = new double[batches * m * n], abs = new double[y.length];
    for (int g = 0; g < batches; g++) {
      // Batch entry g of the broadcast batch shape, mapped to a flat matrix index in a and in b.
      int rest = g, ga = 0, gb = 0, sa = 1, sb = 1;
      for (int d = batchRank - 1; d >= 0; d--) {
        int idx = (int) (rest % out[d]);
        rest /= (int) out[d];
        int da = d - (batchRank - (ra - 2)), db = d - (batchRank - (rb - 2));
        if (da >= 0) {
          ga += (a.size(da) == 1 ? 0 : idx) * sa;
          sa *= (int) a.size(da);
        }
        if (db >= 0) {
          gb += (b.size(db) == 1 ? 0 : idx) * sb;
          sb *= (int) b.size(db);
        }
      }
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double s = 0, t = 0;
          for (int p = 0; p < k; p++) {
            double x = (double) av[(ga * m + i) * k + p] * bv[(gb * k + p) * n + j];
            s += x;
            t += Math.abs(x);
          }
          y[(g * m + i) * n + j] = s;
          abs[(g * m + i) * n + j] = t;
        }
      }
    }
    return new Product(y, abs);
  }
}
