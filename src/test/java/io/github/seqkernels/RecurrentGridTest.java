package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.github.seqkernels.internal.RecurrentShape.Kind;
import io.github.seqkernels.reference.ScalarRecurrent;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * LSTM, GRU and RNN against the float64 control: hidden sizes 1, 3, 64, 130; input sizes 1, 5, 128;
 * S in {1, 7, 50}; batch in {1, 3, 16}; every direction, both layouts, with and without lengths,
 * peepholes, clip and initial states, and every activation. All (H, I, S) triples run; the other
 * axes rotate so each meets every size.
 */
class RecurrentGridTest extends CpuBackendTest {
  record Case(
      Kind kind,
      int h,
      int i,
      int s,
      int b,
      Direction dir,
      int layout,
      boolean lens,
      boolean peep,
      boolean clip,
      boolean init,
      boolean lbr,
      boolean inputForget,
      List<String> acts) {
    @Override
    public String toString() {
      return kind
          + " H"
          + h
          + " I"
          + i
          + " S"
          + s
          + " B"
          + b
          + " "
          + dir
          + " layout"
          + layout
          + (lens ? " lens" : "")
          + (peep ? " peep" : "")
          + (clip ? " clip" : "")
          + (init ? " init" : "")
          + (lbr ? " lbr" : "")
          + (inputForget ? " input_forget" : "")
          + (acts == null ? "" : " " + acts);
    }
  }

  static final String[] ALL_ACTS = {
    "Relu",
    "Tanh",
    "Sigmoid",
    "Affine",
    "LeakyRelu",
    "ThresholdedRelu",
    "ScaledTanh",
    "HardSigmoid",
    "Elu",
    "Softsign",
    "Softplus"
  };

  static Stream<Case> grid() {
    int[] hs = {1, 3, 64, 130}, is = {1, 5, 128}, ss = {1, 7, 50}, bs = {1, 3, 16};
    Direction[] dirs = Direction.values();
    Kind[] kinds = Kind.values();
    List<Case> cases = new ArrayList<>();
    int n = 0;
    for (int h : hs) {
      for (int i : is) {
        for (int s : ss) {
          for (Kind kind : kinds) {
            int b = bs[n % 3];
            List<String> acts = null;
            if (n % 4 == 3) { // a rotation through every activation the ONNX operators list
              acts = new ArrayList<>();
              int per = kind.activations * dirs[n % 3].count();
              for (int k = 0; k < per; k++) acts.add(ALL_ACTS[(n + k) % ALL_ACTS.length]);
            }
            cases.add(
                new Case(
                    kind,
                    h,
                    i,
                    s,
                    b,
                    dirs[n % 3],
                    (n / 3) % 2,
                    n % 2 == 0,
                    kind == Kind.LSTM && n % 3 != 1,
                    n % 5 == 1,
                    n % 3 != 2,
                    kind == Kind.GRU && n % 2 == 1,
                    kind == Kind.LSTM && n % 7 == 3,
                    acts));
            n++;
          }
        }
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("grid")
  void matchesControl(Case c) {
    Random r = Check.random(c.toString().hashCode());
    int dirs = c.dir.count(), g = c.kind.gates;
    // Weights ~ 1/sqrt(I + H), as initialisers do, so gates neither saturate nor vanish. With
    // unbounded gate activations (Relu, Affine, ...) as z or f the recurrence can grow without
    // bound, and float32 then drifts from float64 by more than any fixed tolerance; half the
    // scale keeps those rotations stable.
    double ws = (c.acts == null ? 1.0 : 0.5) / Math.sqrt(c.i + c.h);
    long[] xShape = c.layout == 0 ? new long[] {c.s, c.b, c.i} : new long[] {c.b, c.s, c.i};
    long[] st = c.layout == 0 ? new long[] {dirs, c.b, c.h} : new long[] {c.b, dirs, c.h};
    RecurrentInputs in =
        RecurrentInputs.of(
                Tensor.wrap(Check.gaussian(r, c.s * c.b * c.i, 1), xShape),
                Tensor.wrap(Check.gaussian(r, dirs * g * c.h * c.i, ws), dirs, g * c.h, c.i),
                Tensor.wrap(Check.gaussian(r, dirs * g * c.h * c.h, ws), dirs, g * c.h, c.h))
            .withB(Tensor.wrap(Check.gaussian(r, dirs * 2 * g * c.h, 0.5), dirs, 2 * g * c.h));
    if (c.lens) {
      int[] lens = new int[c.b];
      for (int k = 0; k < c.b; k++) lens[k] = k == 0 ? c.s : r.nextInt(c.s + 1); // 0 included
      in = in.withSequenceLens(lens);
    }
    if (c.init) {
      in = in.withInitialH(Tensor.wrap(Check.gaussian(r, dirs * c.b * c.h, 0.5), st));
      if (c.kind == Kind.LSTM) {
        in = in.withInitialC(Tensor.wrap(Check.gaussian(r, dirs * c.b * c.h, 0.5), st));
      }
    }
    if (c.peep) in = in.withP(Tensor.wrap(Check.gaussian(r, dirs * 3 * c.h, 0.5), dirs, 3 * c.h));
    RecurrentOptions o =
        RecurrentOptions.of(c.h)
            .withDirection(c.dir)
            .withLayout(c.layout)
            .withLinearBeforeReset(c.lbr)
            .withInputForget(c.inputForget);
    if (c.clip) o = o.withClip(0.75f);
    if (c.acts != null) {
      // Alphas and betas off their defaults, so their consumption order is tested too.
      float[] alphas = {0.3f, 0.7f, 1.3f, 0.2f, 0.9f, 1.1f};
      float[] betas = {0.4f, 0.6f, 0.1f, 0.5f, 0.8f, 0.2f};
      o = o.withActivations(Activation.parse(c.acts, alphas, betas));
    }
    long[] yShape =
        c.layout == 0 ? new long[] {c.s, dirs, c.b, c.h} : new long[] {c.b, c.s, dirs, c.h};
    Tensor y = Tensor.allocate(yShape), yH = Tensor.allocate(st);
    Tensor yC = c.kind == Kind.LSTM ? Tensor.allocate(st) : null;
    c.kind.on(backend).forward(in, o, new RecurrentOutputs(y, yH, yC));

    ScalarRecurrent.Result ref = ScalarRecurrent.run(c.kind, in, o);
    // A gate sums I + H float32 products, then passes through up to S steps of recurrence;
    // errors stay near 1e-6 for these weight scales, well inside 1e-5 + 1e-4·|ref|.
    Check.close(c + " y", ref.y(), y.toArray());
    Check.close(c + " y_h", ref.yH(), yH.toArray());
    if (yC != null) Check.close(c + " y_c", ref.yC(), yC.toArray());
  }

  /**
   * The promise in RecurrentOp's Javadoc: one sequence gives bit-identical results alone, inside a
   * batch, and on any thread count.
   */
  @Test
  void sequenceResultDoesNotDependOnBatchOrThreads() {
    Random r = Check.random(99);
    // H = 300 makes each step big enough (B·4H·H multiply-adds) to run on the pool.
    int s = 9, i = 13, h = 300, b = 7;
    float[] x = Check.gaussian(r, s * b * i, 1);
    Tensor w = Tensor.wrap(Check.gaussian(r, 4 * h * i, 0.2), 1, 4 * h, i);
    Tensor rr = Tensor.wrap(Check.gaussian(r, 4 * h * h, 0.2), 1, 4 * h, h);
    Tensor bias = Tensor.wrap(Check.gaussian(r, 8 * h, 0.2), 1, 8 * h);
    int pick = 5;
    float[] alone = new float[s * i];
    for (int t = 0; t < s; t++) System.arraycopy(x, (t * b + pick) * i, alone, t * i, i);
    float[] first = null;
    for (int threads : new int[] {1, 2, 3}) {
      try (Backend be = Backend.create("cpu", threads)) {
        Tensor yB = Tensor.allocate(s, 1, b, h), y1 = Tensor.allocate(s, 1, 1, h);
        RecurrentOptions o = RecurrentOptions.of(h);
        be.lstm()
            .forward(
                RecurrentInputs.of(Tensor.wrap(x, s, b, i), w, rr).withB(bias),
                o,
                new RecurrentOutputs(yB, null, null));
        be.lstm()
            .forward(
                RecurrentInputs.of(Tensor.wrap(alone, s, 1, i), w, rr).withB(bias),
                o,
                new RecurrentOutputs(y1, null, null));
        float[] inBatch = new float[s * h];
        for (int t = 0; t < s; t++) {
          for (int j = 0; j < h; j++) inBatch[t * h + j] = yB.get(t, 0, pick, j);
        }
        assertArrayEquals(y1.toArray(), inBatch, "threads " + threads);
        if (first == null) first = inBatch;
        else assertArrayEquals(first, inBatch, "threads " + threads + " vs 1");
      }
    }
  }
}
