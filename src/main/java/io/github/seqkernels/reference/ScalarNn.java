package io.github.seqkernels.reference;

import io.github.seqkernels.Activation;
import io.github.seqkernels.Mask;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.nn.MultiheadAttentionOptions;

/**
 * The float64 control for the {@code io.github.seqkernels.nn} modules: multi-head attention,
 * additive and multiplicative attention and their masks, written from the definitions with plain
 * loops and never optimised. Results are row-major {@code double[]}; inputs are read through their
 * (possibly strided) tensors.
 */
public final class ScalarNn {
  private ScalarNn() {}

  /**
   * Multi-head attention: out {@code [B, Sq, E]}, weights {@code [B, H, Sq, Sk]} and their head
   * mean.
   */
  public record MhaResult(double[] out, double[] weights, double[] meanWeights) {}

  /** {@code x·wᵀ + b} over the rows of a row-major {@code [rows, K]} array; b may be null. */
  public static double[] linear(double[] x, int rows, Tensor w, Tensor b) {
    int n = (int) w.size(0), k = (int) w.size(1);
    double[] y = new double[rows * n];
    for (int r = 0; r < rows; r++) {
      for (int o = 0; o < n; o++) {
        double s = b == null ? 0 : b.get(o);
        for (int i = 0; i < k; i++) s += x[r * k + i] * w.get(o, i);
        y[r * n + o] = s;
      }
    }
    return y;
  }

  /** The tensor's elements in row-major order, as doubles. */
  public static double[] of(Tensor t) {
    float[] f = t.toArray();
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) d[i] = f[i];
    return d;
  }

  /**
   * nn.MultiheadAttention (batch_first) with separate projection weights (views of a packed
   * in_proj_weight work too); any bias may be null.
   */
  public static MhaResult multiheadAttention(
      Tensor query,
      Tensor key,
      Tensor value,
      int heads,
      Tensor wq,
      Tensor bq,
      Tensor wk,
      Tensor bk,
      Tensor wv,
      Tensor bv,
      Tensor wo,
      Tensor bo,
      MultiheadAttentionOptions o) {
    int b = (int) query.size(0), sq = (int) query.size(1), e = (int) wq.size(0);
    int sk = (int) key.size(1), d = e / heads;
    double[] q = linear(of(query), b * sq, wq, bq);
    double[] k = linear(of(key), b * sk, wk, bk);
    double[] v = linear(of(value), b * sk, wv, bv);
    double[] ctx = new double[b * sq * e];
    double[] w = new double[b * heads * sq * sk];
    double[] mean = new double[b * sq * sk];
    double scale = 1 / Math.sqrt(d);
    double[] scores = new double[sk];
    for (int bi = 0; bi < b; bi++) {
      for (int h = 0; h < heads; h++) {
        for (int i = 0; i < sq; i++) {
          for (int j = 0; j < sk; j++) {
            double extra = maskTerm(o, bi, h, heads, i, j, sq, sk);
            if (extra == Double.NEGATIVE_INFINITY) {
              scores[j] = extra;
              continue;
            }
            double s = 0;
            for (int c = 0; c < d; c++) {
              s += q[(bi * sq + i) * e + h * d + c] * k[(bi * sk + j) * e + h * d + c];
            }
            scores[j] = s * scale + extra;
          }
          double[] p = ScalarReference.softmaxRow(scores, false);
          for (int j = 0; j < sk; j++) {
            w[((bi * heads + h) * sq + i) * sk + j] = p[j];
            mean[(bi * sq + i) * sk + j] += p[j] / heads;
            if (p[j] == 0) continue;
            for (int c = 0; c < d; c++) {
              ctx[(bi * sq + i) * e + h * d + c] += p[j] * v[(bi * sk + j) * e + h * d + c];
            }
          }
        }
      }
    }
    return new MhaResult(linear(ctx, b * sq, wo, bo), w, mean);
  }

  /**
   * What the options add to the score of query i, key j of batch bi, head h: {@code -inf} when a
   * rule hides the key, else the float attn_mask entry (0 without one). {@code heads} is 1 for the
   * single-head modules.
   */
  public static double maskTerm(
      MultiheadAttentionOptions o, int bi, int h, int heads, int i, int j, int sq, int sk) {
    if (o.causal() && j > i) return Double.NEGATIVE_INFINITY;
    int[] lengths = o.keyLengths();
    if (lengths != null && j >= lengths[bi]) return Double.NEGATIVE_INFINITY;
    Mask pad = o.keyPaddingMask();
    if (pad != null && pad.blocks((long) bi * sk + j)) return Double.NEGATIVE_INFINITY;
    long plane = (long) sq * sk, at = (long) i * sk + j;
    Mask m = o.boolAttnMask();
    if (m != null) {
      long idx = m.shape().length == 2 ? at : ((long) bi * heads + h) * plane + at;
      if (m.blocks(idx)) return Double.NEGATIVE_INFINITY;
    }
    Tensor f = o.floatAttnMask();
    if (f != null) {
      return f.rank() == 2 ? f.get(i, j) : f.get((long) bi * heads + h, i, j);
    }
    return 0;
  }

  /** Additive (Bahdanau) or multiplicative (Luong) attention: context and weights. */
  public record Attended(double[] context, double[] weights) {}

  /**
   * Bahdanau: {@code score(q, k) = vᵀ·tanh(Wq·q + Wk·k + bias)}, softmax over the keys not hidden
   * by {@code o}, context = Σ weight · value. bias may be null.
   */
  public static Attended additive(
      Tensor query,
      Tensor key,
      Tensor value,
      Tensor wq,
      Tensor wk,
      Tensor bias,
      Tensor v,
      MultiheadAttentionOptions o) {
    int b = (int) query.size(0), sq = (int) query.size(1), sk = (int) key.size(1);
    int a = (int) wq.size(0);
    double[] pq = linear(of(query), b * sq, wq, null), pk = linear(of(key), b * sk, wk, bias);
    double[] scores = new double[b * sq * sk];
    for (int bi = 0; bi < b; bi++) {
      for (int i = 0; i < sq; i++) {
        for (int j = 0; j < sk; j++) {
          double s = 0;
          for (int c = 0; c < a; c++) {
            s += v.get(c) * Math.tanh(pq[(bi * sq + i) * a + c] + pk[(bi * sk + j) * a + c]);
          }
          scores[(bi * sq + i) * sk + j] = s;
        }
      }
    }
    return attend(scores, value, b, sq, sk, o);
  }

  /** Luong general: {@code score(q, k) = scale · qᵀ·W·k}, W {@code [Dq, Dk]}. */
  public static Attended multiplicative(
      Tensor query, Tensor key, Tensor value, Tensor w, double scale, MultiheadAttentionOptions o) {
    int b = (int) query.size(0), sq = (int) query.size(1), sk = (int) key.size(1);
    int dq = (int) w.size(0), dk = (int) w.size(1);
    double[] q = of(query), k = of(key);
    double[] scores = new double[b * sq * sk];
    for (int bi = 0; bi < b; bi++) {
      for (int i = 0; i < sq; i++) {
        for (int j = 0; j < sk; j++) {
          double s = 0;
          for (int m = 0; m < dq; m++) {
            for (int n = 0; n < dk; n++) {
              s += q[(bi * sq + i) * dq + m] * w.get(m, n) * k[(bi * sk + j) * dk + n];
            }
          }
          scores[(bi * sq + i) * sk + j] = scale * s;
        }
      }
    }
    return attend(scores, value, b, sq, sk, o);
  }

  private static Attended attend(
      double[] scores, Tensor value, int b, int sq, int sk, MultiheadAttentionOptions o) {
    int dv = (int) value.size(2);
    double[] val = of(value), ctx = new double[b * sq * dv], w = new double[b * sq * sk];
    double[] row = new double[sk];
    for (int bi = 0; bi < b; bi++) {
      for (int i = 0; i < sq; i++) {
        for (int j = 0; j < sk; j++) {
          double m = maskTerm(o, bi, 0, 1, i, j, sq, sk);
          row[j] = m == Double.NEGATIVE_INFINITY ? m : scores[(bi * sq + i) * sk + j] + m;
        }
        double[] p = ScalarReference.softmaxRow(row, false);
        for (int j = 0; j < sk; j++) {
          w[(bi * sq + i) * sk + j] = p[j];
          for (int c = 0; c < dv; c++)
            ctx[(bi * sq + i) * dv + c] += p[j] * val[(bi * sk + j) * dv + c];
        }
      }
    }
    return new Attended(ctx, w);
  }

  /** LayerNorm over rows of length E (biased variance); bias may be null. */
  public static double[] layerNorm(double[] x, int e, Tensor g, Tensor bias, double eps) {
    double[] y = new double[x.length];
    for (int r = 0; r < x.length / e; r++) {
      double mean = 0, var = 0;
      for (int c = 0; c < e; c++) mean += x[r * e + c];
      mean /= e;
      for (int c = 0; c < e; c++) var += (x[r * e + c] - mean) * (x[r * e + c] - mean);
      double inv = 1 / Math.sqrt(var / e + eps);
      for (int c = 0; c < e; c++) {
        y[r * e + c] = (x[r * e + c] - mean) * inv * g.get(c) + (bias == null ? 0 : bias.get(c));
      }
    }
    return y;
  }

  /** f applied to every element. */
  public static double[] apply(double[] x, Activation f) {
    double[] y = new double[x.length];
    for (int i = 0; i < x.length; i++) y[i] = f.applyExact(x[i]);
    return y;
  }

  /** Elementwise sum. */
  public static double[] add(double[] a, double[] b) {
    double[] y = new double[a.length];
    for (int i = 0; i < a.length; i++) y[i] = a[i] + b[i];
    return y;
  }
}
