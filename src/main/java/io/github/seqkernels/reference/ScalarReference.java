package io.github.seqkernels.reference;

import io.github.seqkernels.AttentionOptions;
import io.github.seqkernels.Causal;
import io.github.seqkernels.Mask;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;

/**
 * The control: plain float64 loops, written for obviousness and never optimised. Every backend is
 * tested against these, on the same inputs (read through the same strided tensors).
 */
public final class ScalarReference {
  private ScalarReference() {}

  /** Result of {@link #attention}: out {@code [B,Hq,Sq,Dv]}, lse, weights, flat row-major. */
  public record AttentionResult(double[] out, double[] lse, double[] weights) {}

  /** Softmax (or log-softmax) of {@code scale · x} along {@code axis}; row-major result. */
  public static double[] softmax(Tensor x, int axis, double scale, boolean log) {
    int rank = x.rank();
    int ax = axis < 0 ? axis + rank : axis;
    long[] shape = x.shape();
    int n = (int) shape[ax];
    long total = x.numel();
    double[] out = new double[(int) total];
    long inner = 1;
    for (int d = ax + 1; d < rank; d++) inner *= shape[d];
    long outer = n == 0 ? 0 : total / (n * inner);
    double[] row = new double[n];
    for (long o = 0; o < outer; o++) {
      for (long in = 0; in < inner; in++) {
        for (int j = 0; j < n; j++) row[j] = scale * x.getFlat((o * n + j) * inner + in);
        double[] y = softmaxRow(row, log);
        for (int j = 0; j < n; j++) out[(int) ((o * n + j) * inner + in)] = y[j];
      }
    }
    return out;
  }

  /** Softmax of one row, max subtracted; a row of all -inf gives 0 (log: -inf). */
  public static double[] softmaxRow(double[] row, boolean log) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : row) max = Math.max(max, v);
    double[] y = new double[row.length];
    if (max == Double.NEGATIVE_INFINITY) {
      java.util.Arrays.fill(y, log ? Double.NEGATIVE_INFINITY : 0.0);
      return y;
    }
    double sum = 0;
    for (double v : row) sum += Math.exp(v - max);
    for (int j = 0; j < row.length; j++) {
      y[j] = log ? row[j] - max - Math.log(sum) : Math.exp(row[j] - max) / sum;
    }
    return y;
  }

  /** Attention with every option, straight from the definition in {@code AttentionOp}. */
  public static AttentionResult attention(Tensor q, Tensor k, Tensor v, AttentionOptions o) {
    int b = (int) q.size(0), hq = (int) q.size(1), sq = (int) q.size(2), d = (int) q.size(3);
    int hkv = (int) k.size(1), sk = (int) k.size(2), dv = (int) v.size(3);
    double scale = o.scaleFor(d);
    long[] target = {b, hq, sq, sk};
    Mask mask = o.mask();
    long[] ms = new long[4], bs = new long[4];
    if (mask != null) AttentionShape.broadcastStrides("mask", mask.shape(), null, target, ms);
    Tensor bias = o.bias();
    if (bias != null) {
      AttentionShape.broadcastStrides("bias", bias.shape(), bias.strides(), target, bs);
    }
    int[] lengths = o.keyLengthsView();
    float[] qa = q.toArray(), ka = k.toArray(), va = v.toArray(); // row-major logical order
    double[] out = new double[b * hq * sq * dv];
    double[] lse = new double[b * hq * sq];
    double[] weights = new double[b * hq * sq * sk];
    double[] scores = new double[sk];
    boolean[] allowed = new boolean[sk];
    for (int bi = 0; bi < b; bi++) {
      for (int h = 0; h < hq; h++) {
        int g = h / (hq / hkv);
        for (int i = 0; i < sq; i++) {
          double max = Double.NEGATIVE_INFINITY;
          int best = -1;
          for (int j = 0; j < sk; j++) {
            allowed[j] =
                isAllowed(o.causal(), i, j, sq, sk)
                    && (lengths == null || j < lengths[bi])
                    && (mask == null
                        || !mask.blocks(bi * ms[0] + h * ms[1] + i * ms[2] + j * ms[3]));
            if (!allowed[j]) continue;
            double s = 0;
            int qRow = ((bi * hq + h) * sq + i) * d, kRow = ((bi * hkv + g) * sk + j) * d;
            for (int e = 0; e < d; e++) s += (double) qa[qRow + e] * ka[kRow + e];
            s *= scale;
            if (bias != null) {
              s +=
                  bias.segment()
                      .getAtIndex(
                          java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED,
                          bias.offset() + bi * bs[0] + h * bs[1] + i * bs[2] + j * bs[3]);
            }
            scores[j] = s;
            if (s > max) {
              max = s;
              best = j;
            }
          }
          int row = (bi * hq + h) * sq + i;
          if (max == Double.NEGATIVE_INFINITY) { // no allowed key: zeros, lse = -inf
            lse[row] = Double.NEGATIVE_INFINITY;
            continue;
          }
          double sum = 0;
          for (int j = 0; j < sk; j++) if (allowed[j]) sum += Math.exp(scores[j] - max);
          lse[row] = max + Math.log(sum);
          for (int j = 0; j < sk; j++) {
            double p;
            if (o.hard()) p = j == best ? 1 : 0;
            else p = allowed[j] ? Math.exp(scores[j] - max) / sum : 0;
            weights[row * sk + j] = p;
            if (p == 0) continue; // a blocked key's value is never read
            int vRow = ((bi * hkv + g) * sk + j) * dv;
            for (int e = 0; e < dv; e++) out[row * dv + e] += p * va[vRow + e];
          }
        }
      }
    }
    return new AttentionResult(out, lse, weights);
  }

  static boolean isAllowed(Causal c, int i, int j, int sq, int sk) {
    return switch (c) {
      case NONE -> true;
      case TOP_LEFT -> j <= i;
      case BOTTOM_RIGHT -> (long) j <= (long) i + sk - sq;
    };
  }
}
