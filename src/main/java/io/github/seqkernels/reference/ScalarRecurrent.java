package io.github.seqkernels.reference;

import io.github.seqkernels.Activation;
import io.github.seqkernels.RecurrentInputs;
import io.github.seqkernels.RecurrentOptions;
import io.github.seqkernels.RecurrentOutputs;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.Placement;
import io.github.seqkernels.internal.RecurrentShape;
import io.github.seqkernels.internal.RecurrentShape.Kind;

/**
 * The float64 control for ONNX LSTM, GRU and RNN: the formulas of the ONNX operator specification,
 * one batch entry and one hidden unit at a time, with ONNX Runtime's reading of the points the
 * specification leaves open (clip applies to every gate's pre-activation after bias and peephole;
 * input_forget sets f = 1 - i).
 */
public final class ScalarRecurrent {
  private ScalarRecurrent() {}

  /** y {@code [S,dirs,B,H]} or {@code [B,S,dirs,H]}, yH and yC in the state layout; row-major. */
  public record Result(double[] y, double[] yH, double[] yC) {}

  public static Result run(Kind kind, RecurrentInputs in, RecurrentOptions o) {
    RecurrentShape sh =
        new RecurrentShape(kind)
            .validate(
                in,
                o,
                new RecurrentOutputs(null, null, null),
                Placement.host("float64 control", null));
    int s = sh.s, b = sh.b, isz = sh.i, h = sh.h, dirs = sh.dirs, g = kind.gates;
    int layout = sh.layout;
    double[] y = new double[s * dirs * b * h];
    double[] yH = new double[dirs * b * h];
    double[] yC = new double[dirs * b * h];
    float[] wa = in.w().toArray(), ra = in.r().toArray(); // [dirs, G·H, I] and [dirs, G·H, H]
    Weights wr = new Weights(wa, ra, g * h, isz, h);
    float[] xa = in.x().toArray();
    for (int d = 0; d < dirs; d++) {
      Activation[] act = new Activation[kind.activations];
      for (int k = 0; k < act.length; k++) act[k] = sh.acts[d * kind.activations + k];
      boolean reverse = o.direction() == io.github.seqkernels.Direction.REVERSE || d == 1;
      for (int bi = 0; bi < b; bi++) {
        int len = in.sequenceLens() == null ? s : in.sequenceLens()[bi];
        double[] hp = new double[h], cp = new double[h];
        for (int j = 0; j < h; j++) {
          hp[j] = state(in.initialH(), layout, d, bi, j);
          cp[j] = state(in.initialC(), layout, d, bi, j);
        }
        for (int step = 0; step < len; step++) {
          int t = reverse ? len - 1 - step : step;
          double[] xt = new double[isz];
          for (int k = 0; k < isz; k++) {
            xt[k] = layout == 0 ? xa[(t * b + bi) * isz + k] : xa[(bi * s + t) * isz + k];
          }
          double[] hn = new double[h], cn = new double[h];
          double[] rv = new double[h]; // GRU reset gate, needed whole before the h block
          if (kind == Kind.GRU) {
            for (int k = 0; k < h; k++) {
              rv[k] = act[0].applyExact(clip(pre(in, wr, d, h + k, xt, hp, g, h), sh.clip));
            }
          }
          for (int j = 0; j < h; j++) {
            switch (kind) {
              case LSTM -> {
                // Blocks in W, R and B: i, o, f, c.
                double pi = pre(in, wr, d, 0 * h + j, xt, hp, g, h) + peep(in, d, 0, j) * cp[j];
                double pf = pre(in, wr, d, 2 * h + j, xt, hp, g, h) + peep(in, d, 2, j) * cp[j];
                double pc = pre(in, wr, d, 3 * h + j, xt, hp, g, h);
                double ig = act[0].applyExact(clip(pi, sh.clip));
                double fg = o.inputForget() ? 1 - ig : act[0].applyExact(clip(pf, sh.clip));
                double cg = act[1].applyExact(clip(pc, sh.clip));
                cn[j] = fg * cp[j] + ig * cg;
                double po = pre(in, wr, d, 1 * h + j, xt, hp, g, h) + peep(in, d, 1, j) * cn[j];
                double og = act[0].applyExact(clip(po, sh.clip));
                hn[j] = og * act[2].applyExact(cn[j]);
              }
              case GRU -> {
                // Blocks z, r, h.
                double z = act[0].applyExact(clip(pre(in, wr, d, j, xt, hp, g, h), sh.clip));
                double pre;
                if (o.linearBeforeReset()) {
                  double rh = bias(in, d, g * h + 2 * h + j);
                  for (int k = 0; k < h; k++) rh += wr.r(d, 2 * h + j, k) * hp[k];
                  pre = inputPart(wr, d, 2 * h + j, xt) + bias(in, d, 2 * h + j) + rv[j] * rh;
                } else {
                  double acc =
                      inputPart(wr, d, 2 * h + j, xt)
                          + bias(in, d, 2 * h + j)
                          + bias(in, d, g * h + 2 * h + j);
                  for (int k = 0; k < h; k++) acc += wr.r(d, 2 * h + j, k) * (rv[k] * hp[k]);
                  pre = acc;
                }
                double hh = act[1].applyExact(clip(pre, sh.clip));
                hn[j] = (1 - z) * hh + z * hp[j];
              }
              case RNN -> hn[j] = act[0].applyExact(clip(pre(in, wr, d, j, xt, hp, g, h), sh.clip));
            }
          }
          for (int j = 0; j < h; j++) {
            int at =
                layout == 0 ? ((t * dirs + d) * b + bi) * h + j : ((bi * s + t) * dirs + d) * h + j;
            y[at] = hn[j];
          }
          hp = hn;
          cp = cn;
        }
        for (int j = 0; j < h; j++) {
          int at = layout == 0 ? (d * b + bi) * h + j : (bi * dirs + d) * h + j;
          yH[at] = hp[j];
          yC[at] = cp[j];
        }
      }
    }
    return new Result(y, yH, yC);
  }

  /** x·W[row] + h·R[row] + Wb[row] + Rb[row] for gate row {@code row} of direction d. */
  private static double pre(
      RecurrentInputs in, Weights wr, int d, int row, double[] xt, double[] hp, int g, int h) {
    double acc = inputPart(wr, d, row, xt) + bias(in, d, row) + bias(in, d, g * h + row);
    for (int k = 0; k < h; k++) acc += wr.r(d, row, k) * hp[k];
    return acc;
  }

  private static double inputPart(Weights wr, int d, int row, double[] xt) {
    double acc = 0;
    for (int k = 0; k < xt.length; k++) acc += wr.w(d, row, k) * xt[k];
    return acc;
  }

  /** W and R read once into row-major arrays. */
  private record Weights(float[] w, float[] r, int rows, int isz, int h) {
    double w(int d, int row, int k) {
      return w[(d * rows + row) * isz + k];
    }

    double r(int d, int row, int k) {
      return r[(d * rows + row) * h + k];
    }
  }

  private static double bias(RecurrentInputs in, int d, int at) {
    return in.b() == null ? 0 : in.b().get(d, at);
  }

  private static double peep(RecurrentInputs in, int d, int block, int j) {
    Tensor p = in.p();
    return p == null ? 0 : p.get(d, block * (p.size(1) / 3) + j);
  }

  private static double state(Tensor t, int layout, int d, int bi, int j) {
    if (t == null) return 0;
    return layout == 0 ? t.get(d, bi, j) : t.get(bi, d, j);
  }

  private static double clip(double x, float clip) {
    return Float.isInfinite(clip) ? x : Math.max(-clip, Math.min(clip, x));
  }
}
