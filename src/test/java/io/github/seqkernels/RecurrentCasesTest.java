package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.seqkernels.internal.RecurrentShape.Kind;
import io.github.seqkernels.reference.ScalarRecurrent;
import org.junit.jupiter.api.Test;

/** The named cases of shared/cases/recurrent.md with their exact values (|a-b| <= 1e-6). */
class RecurrentCasesTest extends CpuBackendTest {
  static final float T = 1e-6f;

  record Out(float[] y, float[] yH, float[] yC) {}

  /** Runs the CPU op and the float64 control; asserts they agree, returns the CPU result. */
  static Out run(Kind kind, RecurrentInputs in, RecurrentOptions o) {
    int s = (int) in.x().size(0), b = (int) in.x().size(1), h = o.hiddenSize();
    int dirs = o.direction().count();
    Tensor y = Tensor.allocate(s, dirs, b, h), yH = Tensor.allocate(dirs, b, h);
    Tensor yC = kind == Kind.LSTM ? Tensor.allocate(dirs, b, h) : null;
    kind.on(backend).forward(in, o, new RecurrentOutputs(y, yH, yC));
    ScalarRecurrent.Result ref = ScalarRecurrent.run(kind, in, o);
    Check.close(kind + " y", ref.y(), y.toArray(), 1e-6, 1e-5);
    Check.close(kind + " y_h", ref.yH(), yH.toArray(), 1e-6, 1e-5);
    if (yC != null) Check.close(kind + " y_c", ref.yC(), yC.toArray(), 1e-6, 1e-5);
    return new Out(y.toArray(), yH.toArray(), yC == null ? null : yC.toArray());
  }

  static Tensor t(float[] data, long... shape) {
    return Tensor.wrap(data, shape);
  }

  // R1: CrispStrobe/CrispASR#106
  @Test
  void r1LstmGateOrderOfOnnxWeights() {
    RecurrentInputs in =
        RecurrentInputs.of(
                t(new float[1], 1, 1, 1), t(new float[4], 1, 4, 1), t(new float[4], 1, 4, 1))
            .withB(t(new float[] {1, 2, -1, 0.5f, 0, 0, 0, 0}, 1, 8))
            .withInitialC(t(new float[] {1}, 1, 1, 1));
    Out out = run(Kind.LSTM, in, RecurrentOptions.of(1));
    assertEquals(0.606776f, out.yC()[0], T);
    assertEquals(0.477263f, out.yH()[0], T);
    // Reading the four values in PyTorch's order (i, f, g, o) by mistake gives c1 = 0.324027,
    // h1 = 0.194919: i = σ(1), f = σ(2), g = tanh(-1), o = σ(0.5), here placed as ONNX i, o, f, c.
    RecurrentInputs wrong = in.withB(t(new float[] {1, 0.5f, 2, -1, 0, 0, 0, 0}, 1, 8));
    Out w = run(Kind.LSTM, wrong, RecurrentOptions.of(1));
    assertEquals(0.324027f, w.yC()[0], T);
    assertEquals(0.194919f, w.yH()[0], T);
  }

  // R2: microsoft/onnxscript#2852
  @Test
  void r2GruLinearBeforeReset() {
    float[] r = {0, 0, 1}; // Rz = Rr = 0, Rh = 1
    float[] bias = {0, 0, 0, 0, 0, 0.5f}; // Wb z r h, Rb z r h: Rbh = 0.5
    float[] biasR = {0, -1, 0, 0, 0, 0.5f}; // [bz, br] = [0, -1]
    float[] biasSwapped = {-1, 0, 0, 0, 0, 0.5f}; // z and r blocks swapped by mistake
    float[][] want = {{0.817574f, 0.880797f}, {0.691432f, 0.823157f}};
    float[][] biases = {bias, biasR};
    for (int k = 0; k < 2; k++) {
      for (int lbr = 1; lbr >= 0; lbr--) {
        RecurrentInputs in =
            RecurrentInputs.of(t(new float[1], 1, 1, 1), t(new float[3], 1, 3, 1), t(r, 1, 3, 1))
                .withB(t(biases[k], 1, 6))
                .withInitialH(t(new float[] {1}, 1, 1, 1));
        Out out = run(Kind.GRU, in, RecurrentOptions.of(1).withLinearBeforeReset(lbr == 1));
        assertEquals(want[k][1 - lbr], out.yH()[0], T, "case " + k + " lbr " + lbr);
      }
    }
    RecurrentInputs swapped =
        RecurrentInputs.of(t(new float[1], 1, 1, 1), t(new float[3], 1, 3, 1), t(r, 1, 3, 1))
            .withB(t(biasSwapped, 1, 6))
            .withInitialH(t(new float[] {1}, 1, 1, 1));
    assertEquals(
        0.733273f,
        run(Kind.GRU, swapped, RecurrentOptions.of(1).withLinearBeforeReset(true)).yH()[0],
        T);
  }

  // R3: microsoft/onnxruntime#12492
  @Test
  void r3VariableLengths() {
    // x [T=3, B=2, I=1]: sequence 0 = [1, 0, 0], sequence 1 = [2, 0, 0].
    float[] x = {1, 2, 0, 0, 0, 0};
    float[] w = {1, 1, 1, 1}; // all W = 1, R = 0
    float[] bias = {0, 0, 0, 0.5f, 0, 0, 0, 0}; // ONNX blocks i, o, f, c: b_g is the c block
    RecurrentInputs in =
        RecurrentInputs.of(t(x, 3, 2, 1), t(w, 1, 4, 1), t(new float[4], 1, 4, 1))
            .withB(t(bias, 1, 8))
            .withSequenceLens(3, 1);
    Out out = run(Kind.LSTM, in, RecurrentOptions.of(1));
    // y [T, 1, B, 1]: y[t][0][b]
    assertArrayEquals(
        new float[] {0.423652f, 0.254699f, 0.235758f},
        new float[] {out.y()[0], out.y()[2], out.y()[4]},
        T);
    assertEquals(0.235758f, out.yH()[0], T);
    assertEquals(0.512017f, out.yC()[0], T);
    assertEquals(0.617324f, out.yH()[1], T);
    assertEquals(0.869007f, out.yC()[1], T);
    assertEquals(0f, out.y()[3]);
    assertEquals(0f, out.y()[5]);
    // Ignoring the lengths gives 0.255410 for sequence 1 (wrong).
    Out ignored = run(Kind.LSTM, in.withSequenceLens((int[]) null), RecurrentOptions.of(1));
    assertEquals(0.255410f, ignored.yH()[1], T);

    // Bidirectional: the reverse direction of sequence 1 starts at t = length - 1 = 0, so its
    // single step sees x = 2 from the zero state, like the forward direction.
    RecurrentInputs bi =
        RecurrentInputs.of(
                t(x, 3, 2, 1),
                t(new float[] {1, 1, 1, 1, 1, 1, 1, 1}, 2, 4, 1),
                t(new float[8], 2, 4, 1))
            .withB(t(new float[] {0, 0, 0, 0.5f, 0, 0, 0, 0, 0, 0, 0, 0.5f, 0, 0, 0, 0}, 2, 8))
            .withSequenceLens(3, 1);
    Out both = run(Kind.LSTM, bi, RecurrentOptions.of(1).withDirection(Direction.BIDIRECTIONAL));
    // y_h [2, B, 1]: reverse direction, sequence 1
    assertEquals(0.617324f, both.yH()[3], T);
    assertEquals(0.869007f, both.yC()[3], T);
  }
}
