package io.github.seqkernels.reference;

import io.github.seqkernels.Activation;
import io.github.seqkernels.Conv1dOptions;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;

/**
 * The control for the Transformer pieces ({@code LinearOp}, {@code LayerNormOp}, {@code
 * ElementwiseOp}, {@code EmbeddingOp}, {@code Conv1dOp}): plain float64 loops straight from each
 * operator's formula, never optimised, reading the same strided tensors as the backends. Results
 * are flat row-major. Shapes are assumed valid.
 *
 * <p>The products (linear, conv1d) come with {@code abs}, the same sum over the absolute values of
 * its terms, as in {@link ScalarGemm}: a float32 result summed in any order is within about {@code
 * K·eps·abs} of the exact value, so tests scale their tolerance with it.
 */
public final class ScalarTransformer {
  private ScalarTransformer() {}

  /**
   * LayerNorm over the last axis of {@code x + residual} (residual may be null): {@code (r -
   * mean)/sqrt(var + eps)·scale + bias}, biased variance, two passes (mean first, then the squared
   * deviations, so no cancellation). The sum {@code x + residual} is taken in float32 as a backend
   * must (it is the tensor the operator normalises), the rest in float64.
   */
  public static double[] layerNorm(
      Tensor x, Tensor residual, Tensor scale, Tensor bias, double epsilon) {
    int e = (int) x.size(x.rank() - 1);
    int rows = e == 0 ? 0 : (int) (x.numel() / e);
    float[] xv = x.toArray(), rv = residual == null ? null : residual.toArray();
    float[] sv = scale.toArray(), bv = bias == null ? null : bias.toArray();
    double[] y = new double[xv.length];
    double[] r = new double[e];
    for (int i = 0; i < rows; i++) {
      double mean = 0;
      for (int j = 0; j < e; j++) {
        r[j] = rv == null ? xv[i * e + j] : (float) (xv[i * e + j] + rv[i * e + j]);
        mean += r[j];
      }
      mean /= e;
      double var = 0;
      for (int j = 0; j < e; j++) var += (r[j] - mean) * (r[j] - mean);
      var /= e;
      // A row with no spread and epsilon 0 is 0/0; the operators define it as 0 (y = bias).
      double inv = var + epsilon > 0 ? 1 / Math.sqrt(var + epsilon) : 0;
      for (int j = 0; j < e; j++) {
        y[i * e + j] = (r[j] - mean) * inv * sv[j] + (bv == null ? 0 : bv[j]);
      }
    }
    return y;
  }

  /** f(x) elementwise in float64 ({@link Activation#applyExact}). */
  public static double[] apply(Tensor x, Activation f) {
    float[] xv = x.toArray();
    double[] y = new double[xv.length];
    for (int i = 0; i < xv.length; i++) y[i] = f.applyExact(xv[i]);
    return y;
  }

  /** {@code a + b} with b broadcast to a's shape by numpy rules. */
  public static double[] add(Tensor a, Tensor b) {
    long[] shape = a.shape();
    long[] bs =
        AttentionShape.broadcastStrides("b", b.shape(), b.strides(), shape, new long[shape.length]);
    double[] y = new double[(int) a.numel()];
    long[] idx = new long[shape.length];
    for (int i = 0; i < y.length; i++) {
      long flat = i, off = b.offset();
      for (int d = shape.length - 1; d >= 0; d--) {
        idx[d] = flat % shape[d];
        flat /= shape[d];
        off += idx[d] * bs[d];
      }
      double bv = b.segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, off);
      y[i] = (double) a.get(idx) + bv;
    }
    return y;
  }

  /**
   * {@code x·wᵀ + b} before the activation, as {@code [rows, N]} with its sums of absolute terms; x
   * {@code [..., K]}, w {@code [N, K]}, b {@code [N]} or null.
   */
  public static ScalarGemm.Product linear(Tensor x, Tensor w, Tensor b) {
    int k = (int) w.size(1), n = (int) w.size(0);
    int rows = (int) rowsOf(x);
    float[] xv = x.toArray(), wv = w.toArray(), bv = b == null ? null : b.toArray();
    double[] y = new double[rows * n], abs = new double[rows * n];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < n; j++) {
        double s = bv == null ? 0 : bv[j], sa = Math.abs(s);
        for (int p = 0; p < k; p++) {
          double t = (double) xv[i * k + p] * wv[j * k + p];
          s += t;
          sa += Math.abs(t);
        }
        y[i * n + j] = s;
        abs[i * n + j] = sa;
      }
    }
    return new ScalarGemm.Product(y, abs);
  }

  private static long rowsOf(Tensor x) {
    long r = 1;
    for (int d = 0; d < x.rank() - 1; d++) r *= x.size(d);
    return r;
  }

  /** Row {@code ids[i]} of table [V, E] for every i: {@code [ids.length, E]}. */
  public static double[] embedding(Tensor table, int[] ids) {
    int e = (int) table.size(1);
    double[] y = new double[ids.length * e];
    for (int i = 0; i < ids.length; i++) {
      for (int j = 0; j < e; j++) y[i * e + j] = table.get(ids[i], j);
    }
    return y;
  }

  /**
   * Conv1d from the definition in {@code Conv1dOp}: x {@code [B, C, L]}, w {@code [O, C/G, K]},
   * bias {@code [O]} or null; result {@code [B, O, Lout]} and its sums of absolute terms.
   */
  public static ScalarGemm.Product conv1d(Tensor x, Tensor w, Tensor bias, Conv1dOptions o) {
    int b = (int) x.size(0), c = (int) x.size(1), l = (int) x.size(2);
    int oc = (int) w.size(0), cg = (int) w.size(1), k = (int) w.size(2);
    int g = o.groups(), opg = oc / g;
    int lout = (int) o.outputLength(l, k);
    double[] y = new double[b * oc * lout], abs = new double[y.length];
    for (int bi = 0; bi < b; bi++) {
      for (int oi = 0; oi < oc; oi++) {
        int gi = oi / opg;
        for (int t = 0; t < lout; t++) {
          double s = bias == null ? 0 : bias.get(oi), sa = Math.abs(s);
          for (int ci = 0; ci < cg; ci++) {
            for (int j = 0; j < k; j++) {
              long pos = (long) t * o.stride() + (long) j * o.dilation() - o.padBegin();
              if (pos < 0 || pos >= l) continue; // zero padding
              double term = (double) w.get(oi, ci, j) * x.get(bi, gi * cg + ci, pos);
              s += term;
              sa += Math.abs(term);
            }
          }
          int at = (bi * oc + oi) * lout + t;
          y[at] = s;
          abs[at] = sa;
        }
      }
    }
    return new ScalarGemm.Product(y, abs);
  }
}
