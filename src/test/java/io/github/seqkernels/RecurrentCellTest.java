package io.github.seqkernels;

import io.github.seqkernels.internal.RecurrentShape.Kind;
import io.github.seqkernels.reference.ScalarRecurrent;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Cells stepped in a loop, state carried in place, equal the layer over the whole sequence. */
class RecurrentCellTest extends CpuBackendTest {
  @ParameterizedTest
  @EnumSource(Kind.class)
  void steppedCellEqualsTheLayer(Kind kind) {
    Random r = Check.random(kind.ordinal());
    int s = 6, b = 3, i = 11, h = 19, g = kind.gates;
    float[] x = Check.gaussian(r, s * b * i, 1);
    float[] w = Check.gaussian(r, g * h * i, 0.3), rr = Check.gaussian(r, g * h * h, 0.3);
    float[] bias = Check.gaussian(r, 2 * g * h, 0.3), p = Check.gaussian(r, 3 * h, 0.3);
    RecurrentOptions o =
        RecurrentOptions.of(h).withClip(2.5f).withLinearBeforeReset(kind == Kind.GRU);
    Tensor wt = Tensor.wrap(w, g * h, i), rt = Tensor.wrap(rr, g * h, h);
    Tensor bt = Tensor.wrap(bias, 2 * g * h), pt = Tensor.wrap(p, 3 * h);
    RecurrentCell cell =
        switch (kind) {
          case LSTM -> backend.lstmCell(wt, rt, bt, pt, o);
          case GRU -> backend.gruCell(wt, rt, bt, o);
          case RNN -> backend.rnnCell(wt, rt, bt, o);
        };
    float[] ys = new float[s * b * h];
    try (RecurrentState st = cell.newState(b)) {
      for (int t = 0; t < s; t++) {
        float[] xt = java.util.Arrays.copyOfRange(x, t * b * i, (t + 1) * b * i);
        cell.step(Tensor.wrap(xt, b, i), st, st);
        System.arraycopy(st.h().toArray(), 0, ys, t * b * h, b * h);
      }
    }
    RecurrentInputs in =
        RecurrentInputs.of(
                Tensor.wrap(x, s, b, i), wt.reshape(1, g * h, i), rt.reshape(1, g * h, h))
            .withB(bt.reshape(1, 2 * g * h));
    if (kind == Kind.LSTM) in = in.withP(pt.reshape(1, 3 * h));
    ScalarRecurrent.Result ref = ScalarRecurrent.run(kind, in, o);
    Check.close(kind + " cell steps", ref.y(), ys);
  }
}
