package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.seqkernels.reference.ScalarGemm;
import io.github.seqkernels.reference.ScalarTransformer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Conv1dOp against the float64 control: channels, lengths and kernels over awkward sizes, with
 * stride, asymmetric padding, dilation and groups (1, 2, odd, depthwise) rotating so that each size
 * meets each option; x, w and y contiguous or reversed (no unit stride); bias or none; Silero VAD's
 * shapes.
 */
class Conv1dTest extends CpuBackendTest {
  record Case(
      int b, int c, int o, int l, int k, Conv1dOptions opt, boolean reversed, boolean bias) {}

  static Stream<Case> grid() {
    int[] channels = {1, 3, 6, 17, 130};
    int[] lengths = {1, 7, 33, 257};
    int[] kernels = {1, 2, 3, 5, 17};
    int[][] options = { // stride, padBegin, padEnd, dilation
      {1, 0, 0, 1}, {2, 1, 1, 1}, {1, 2, 0, 3}, {3, 0, 4, 2}, {1, 1, 1, 1}, {4, 5, 2, 1}
    };
    List<Case> cases = new ArrayList<>();
    int i = 0;
    for (int c : channels) {
      for (int l : lengths) {
        for (int k : kernels) {
          i++;
          int[] op = options[(i + c) % options.length];
          int groups = c % 3 == 0 ? (i % 2 == 0 ? 3 : c) : c % 2 == 0 ? 2 : 1;
          if (c == 17 && i % 2 == 0) groups = 17; // depthwise, odd
          int o = groups * (1 + i % 3);
          Conv1dOptions opt = new Conv1dOptions(op[0], op[1], op[2], op[3], groups);
          if (opt.outputLength(l, k) < 1) continue; // refused: ValidationTest covers it
          cases.add(new Case(1 + i % 2, c, o, l, k, opt, i % 3 == 0, i % 4 != 0));
        }
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("grid")
  void matchesControl(Case c) {
    run(c);
  }

  /** Silero VAD: the STFT as a strided conv, and the encoder's kernel-3 layers. */
  @Test
  void sileroShapes() {
    run(new Case(1, 1, 258, 640, 256, new Conv1dOptions(128, 0, 0, 1, 1), false, false));
    run(new Case(2, 129, 128, 4, 3, new Conv1dOptions(1, 1, 1, 1, 1), false, true));
    run(new Case(1, 128, 64, 4, 3, new Conv1dOptions(2, 1, 1, 1, 1), false, true));
    run(new Case(1, 64, 64, 2, 3, new Conv1dOptions(2, 1, 1, 1, 1), true, true));
  }

  static void run(Case c) {
    Random r = Check.random(c.toString().hashCode());
    int cg = c.c / c.opt.groups();
    int lout = (int) c.opt.outputLength(c.l, c.k);
    float[] xd = Check.gaussian(r, c.b * c.c * c.l, 1);
    float[] wd = Check.gaussian(r, c.o * cg * c.k, 1 / Math.sqrt(cg * c.k));
    Tensor x = c.reversed ? Check.reversed(xd, c.b, c.c, c.l) : Tensor.wrap(xd, c.b, c.c, c.l);
    Tensor w = c.reversed ? Check.reversed(wd, c.o, cg, c.k) : Tensor.wrap(wd, c.o, cg, c.k);
    Tensor bias = c.bias ? Tensor.wrap(Check.gaussian(r, c.o, 1), c.o) : null;
    long[] yShape = {c.b, c.o, lout};
    Tensor y =
        c.reversed ? Check.reversed(new float[c.b * c.o * lout], yShape) : Tensor.allocate(yShape);
    backend.conv1d().forward(x, w, bias, c.opt, y);
    ScalarGemm.Product ref = ScalarTransformer.conv1d(x, w, bias, c.opt);
    float[] got = y.toArray();
    LinearTest.within(c.toString(), ref, cg * c.k, null, got);
    // The prepared form: the same bits, twice in a row (its copies and packs are reused).
    Tensor y2 = Tensor.allocate(yShape);
    try (Conv1dOp.Prepared p = backend.conv1d().prepare(w, bias, c.opt)) {
      for (int rep = 0; rep < 2; rep++) {
        p.forward(x, y2);
        assertArrayEquals(got, y2.toArray(), c + ": prepared, call " + rep);
      }
    }
  }

  @Test
  void preparedKeepsItsWeightsAndRefusesLikeForward() {
    float[] wd = {1, 2, 3, 4, 5, 6};
    Tensor w = Tensor.wrap(wd, 2, 1, 3), x = Tensor.wrap(new float[] {1, 1, 1, 1}, 1, 1, 4);
    Conv1dOptions o = Conv1dOptions.defaults();
    Tensor y = Tensor.allocate(1, 2, 2);
    Conv1dOp.Prepared p = backend.conv1d().prepare(w, null, o);
    wd[0] = 100; // changed after prepare: not seen
    p.forward(x, y);
    assertArrayEquals(new float[] {6, 6, 15, 15}, y.toArray());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> p.forward(Tensor.allocate(1, 2, 4), Tensor.allocate(1, 2, 2)));
    assertTrue(e.getMessage().startsWith("w: dim 1 must be C/groups = 2"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> backend.conv1d().prepare(w, Tensor.allocate(3), o));
    assertTrue(e.getMessage().startsWith("bias: "), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> backend.conv1d().prepare(Tensor.allocate(2, 3), null, o));
    assertTrue(e.getMessage().startsWith("w: "), e.getMessage());
    p.close();
    p.close(); // idempotent
    assertThrows(IllegalStateException.class, () -> p.forward(x, y));
  }
}
