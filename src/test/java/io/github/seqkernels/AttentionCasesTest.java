package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The named cases of shared/cases/attention.md with their exact values (|a-b| <= 1e-6). */
class AttentionCasesTest extends CpuBackendTest {
  static final float T = 1e-6f;

  /** One (batch, head): q [Sq, D], k [Sk, D], v [Sk, Dv]; returns out, lse, weights. */
  static float[][] run(
      float[] q, float[] k, float[] v, int sq, int sk, int d, int dv, AttentionOptions o) {
    Tensor out = Tensor.wrap(new float[sq * dv], 1, 1, sq, dv);
    Tensor lse = Tensor.wrap(new float[sq], 1, 1, sq);
    Tensor w = Tensor.wrap(new float[sq * sk], 1, 1, sq, sk);
    backend
        .attention()
        .forward(
            Tensor.wrap(q, 1, 1, sq, d),
            Tensor.wrap(k, 1, 1, sk, d),
            Tensor.wrap(v, 1, 1, sk, dv),
            o,
            out,
            lse,
            w);
    return new float[][] {out.toArray(), lse.toArray(), w.toArray()};
  }

  static void noNaN(float[]... arrays) {
    for (float[] a : arrays) for (float x : a) assertTrue(!Float.isNaN(x), "NaN in output");
  }

  // A1: pytorch/pytorch#103963
  @Test
  void a1FullyBlockedRowIsZeroNeverNaN() {
    float[] q = {1, 0, 0, 1}, k = {1, 0, 0, 1}, v = {1, 2, 3, 4};
    Mask keep = Mask.keep(new boolean[] {true, true, false, false}, 2, 2);
    float[][] r = run(q, k, v, 2, 2, 2, 2, AttentionOptions.defaults().withMask(keep));
    assertArrayEquals(new float[] {1.660477f, 2.660477f, 0, 0}, r[0], T);
    assertArrayEquals(new float[] {0.669762f, 0.330238f, 0, 0}, r[2], T);
    assertEquals(Float.NEGATIVE_INFINITY, r[1][1]);
    noNaN(r[0], r[2]);

    // NaN and infinity in a blocked key and value never reach the output.
    float[] kBad = {Float.NaN, Float.NaN, 0, 1};
    float[] vBad = {Float.NaN, Float.POSITIVE_INFINITY, 3, 4};
    Mask keepSecond = Mask.keep(new boolean[] {false, true}, 2); // key 0 blocked for all rows
    r = run(q, kBad, vBad, 2, 2, 2, 2, AttentionOptions.defaults().withMask(keepSecond));
    assertArrayEquals(new float[] {3, 4, 3, 4}, r[0], T);
    r = run(q, kBad, vBad, 2, 2, 2, 2, AttentionOptions.defaults().withKeyLengths(0));
    assertArrayEquals(new float[] {0, 0, 0, 0}, r[0], T);
    float[] vBadLast = {3, 4, Float.NaN, Float.NEGATIVE_INFINITY};
    r =
        run(
            new float[] {0, 0},
            new float[] {0, 0, 0, 0},
            vBadLast,
            1,
            2,
            2,
            2,
            AttentionOptions.defaults().withCausal(Causal.TOP_LEFT));
    assertArrayEquals(new float[] {3, 4}, java.util.Arrays.copyOf(r[0], 2), T);

    // The same fully blocked row in hard mode.
    r = run(q, k, v, 2, 2, 2, 2, AttentionOptions.defaults().withMask(keep).withHard(true));
    assertArrayEquals(new float[] {1, 2, 0, 0}, r[0], T);
    assertArrayEquals(new float[] {1, 0, 0, 0}, r[2], T);
  }

  @Test
  void a1LowestFiniteBiasIsNotABlock() {
    float m = -Float.MAX_VALUE;
    Tensor bias = Tensor.wrap(new float[] {0, 0, m, m}, 2, 2);
    float[][] r =
        run(
            new float[] {1, 0, 0, 1},
            new float[] {1, 0, 0, 1},
            new float[] {1, 2, 3, 4},
            2,
            2,
            2,
            2,
            AttentionOptions.defaults().withBias(bias));
    assertArrayEquals(new float[] {1.660477f, 2.660477f, 2, 3}, r[0], T);
    assertArrayEquals(new float[] {0.669762f, 0.330238f, 0.5f, 0.5f}, r[2], T);
  }

  @Test
  void a1SoftmaxOfEqualHugeNegatives() {
    Tensor y = Tensor.wrap(new float[2], 2);
    backend.softmax().forward(Tensor.wrap(new float[] {-1e5f, -1e5f}, 2), y);
    assertArrayEquals(new float[] {0.5f, 0.5f}, y.toArray(), T);
  }

  // A2: Dao-AILab/flash-attention#517
  static float[] causalMean(int sq, int sk, float[] v, Causal c) {
    return run(
        new float[sq], new float[sk], v, sq, sk, 1, 1, AttentionOptions.defaults().withCausal(c))[
        0];
  }

  @Test
  void a2CausalAlignmentWhenSqDiffersFromSk() {
    float[] v5 = {0, 1, 2, 3, 4};
    assertArrayEquals(new float[] {0, 0.5f}, causalMean(2, 5, v5, Causal.TOP_LEFT), T);
    assertArrayEquals(new float[] {1.5f, 2.0f}, causalMean(2, 5, v5, Causal.BOTTOM_RIGHT), T);
    float[] v4 = {0, 1, 2, 3};
    assertArrayEquals(new float[] {0}, causalMean(1, 4, v4, Causal.TOP_LEFT), T);
    assertArrayEquals(new float[] {1.5f}, causalMean(1, 4, v4, Causal.BOTTOM_RIGHT), T);
    float[] v2 = {10, 20};
    assertArrayEquals(new float[] {10, 15, 15, 15, 15}, causalMean(5, 2, v2, Causal.TOP_LEFT), T);
    assertArrayEquals(new float[] {0, 0, 0, 10, 15}, causalMean(5, 2, v2, Causal.BOTTOM_RIGHT), T);
  }

  // A3: rasbt/LLMs-from-scratch#1061
  @Test
  void a3MaskPolarityIsInTheName() {
    float[] q = {0, 0}, k = {0, 0}, v = {0, 1};
    boolean[] keepCausal = {true, false, true, true};
    boolean[] blockCausal = {false, true, false, false};
    AttentionOptions o = AttentionOptions.defaults();
    assertArrayEquals(
        new float[] {0, 0.5f},
        run(q, k, v, 2, 2, 1, 1, o.withMask(Mask.keep(keepCausal, 2, 2)))[0],
        T);
    assertArrayEquals(
        new float[] {0, 0.5f},
        run(q, k, v, 2, 2, 1, 1, o.withMask(Mask.block(blockCausal, 2, 2)))[0],
        T);
    // The mistake the API makes visible: a block-style array declared as a keep-mask.
    assertArrayEquals(
        new float[] {1.0f, 0},
        run(q, k, v, 2, 2, 1, 1, o.withMask(Mask.keep(blockCausal, 2, 2)))[0],
        T);
  }

  // A4: deeplearning4j/deeplearning4j-examples#730
  @Test
  void a4LargeLogitsAsRankOneRowAndNonLastAxis() {
    float[] big = {1000, 1001, 1002};
    float[] want = {0.090031f, 0.244728f, 0.665241f};
    assertArrayEquals(want, softmax(big, new long[] {3}, -1), T);
    assertArrayEquals(want, softmax(new float[] {1, 2, 3}, new long[] {3}, -1), T);
    assertArrayEquals(want, softmax(big, new long[] {1, 3}, 1), T);
    assertArrayEquals(want, softmax(big, new long[] {3, 1}, 0), T); // along a non-last axis
    assertArrayEquals(
        new float[] {0.5f, 0.5f}, softmax(new float[] {-1000, -1000}, new long[] {2}, 0), T);
    assertArrayEquals(
        new float[] {0.5f, 0.5f}, softmax(new float[] {-1000, -1000}, new long[] {2, 1}, 0), T);
    assertArrayEquals(new float[] {1}, softmax(new float[] {5}, new long[] {1}, -1), T);
    assertArrayEquals(new float[] {1}, softmax(new float[] {5}, new long[] {1, 1}, 0), T);
  }

  static float[] softmax(float[] x, long[] shape, int axis) {
    Tensor y = Tensor.wrap(new float[x.length], shape);
    backend.softmax().forward(Tensor.wrap(x, shape), y, SoftmaxOptions.defaults().withAxis(axis));
    return y.toArray();
  }

  // A5: NVIDIA/Megatron-LM#132
  @Test
  void a5ShortRowsAndTails() {
    int[] lengths = {1, 2, 3, 5, 6, 7, 31, 33, 127, 129, 2049};
    float[][] want = {
      {1},
      {0.377541f, 0.622459f},
      {0.186324f, 0.307196f, 0.506480f},
      null,
      {0.058012f, 0.095646f, 0.157694f, 0.259993f, 0.428656f},
    };
    for (int n : lengths) {
      float[] x = new float[n];
      double[] xd = new double[n];
      for (int j = 0; j < n; j++) xd[j] = x[j] = 0.5f * j;
      float[] y = softmax(x, new long[] {n}, -1);
      double sum = 0;
      for (float f : y) sum += f;
      assertEquals(1.0, sum, 1e-6, "row sum, n=" + n);
      Check.close(
          "n=" + n,
          io.github.seqkernels.reference.ScalarReference.softmaxRow(xd, false),
          y,
          1e-6,
          0);
      if (n <= 3) assertArrayEquals(want[n - 1], y, T, "n=" + n);
      if (n == 5) assertArrayEquals(want[4], y, T, "n=5");
    }
  }
}
