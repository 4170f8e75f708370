package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.seqkernels.reference.ScalarGemm;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * MatMulOp against the float64 control: ranks 1 to 4, broadcast batch dims, permuted views, and
 * each of the three ways the CPU runs a call (one folded product, big products one at a time, small
 * ones split across the pool). Tolerance: {@link GemmTest#within}.
 */
class MatMulTest extends CpuBackendTest {
  /** Shapes of a and b; {@code permuted}: a is stored with its last two batch/row dims swapped. */
  record Case(String name, long[] a, long[] b, boolean permuted) {
    @Override
    public String toString() {
      return name
          + " "
          + Arrays.toString(a)
          + " @ "
          + Arrays.toString(b)
          + (permuted ? " perm" : "");
    }
  }

  static Case c(String name, long[] a, long[] b) {
    return new Case(name, a, b, false);
  }

  static long[] s(long... shape) {
    return shape;
  }

  static Stream<Case> cases() {
    return Stream.of(
        c("vector dot", s(130), s(130)),
        c("vector @ matrix", s(17), s(17, 97)),
        c("matrix @ vector", s(97, 130), s(130)),
        c("batched @ vector (folded, thin)", s(3, 97, 17), s(17)),
        c("vector @ batched", s(17), s(3, 17, 19)),
        c("linear layer (folded)", s(2, 97, 130), s(130, 64)),
        c("linear layer rank 4 (folded)", s(2, 3, 7, 17), s(17, 19)),
        c("batched small (split across the pool)", s(5, 7, 17), s(5, 17, 19)),
        c("broadcast both ways", s(2, 1, 7, 17), s(1, 3, 17, 2)),
        c("broadcast rank 4 @ rank 3", s(2, 3, 7, 17), s(3, 17, 19)),
        c("matrix @ batched (a broadcast)", s(7, 17), s(4, 17, 19)),
        c("big products one at a time", s(2, 130, 257), s(2, 257, 97)),
        c("one row", s(4, 1, 64), s(4, 64, 130)),
        c("inner dim 1", s(3, 7, 1), s(3, 1, 5)),
        c("inner dim 0", s(2, 7, 0), s(2, 0, 5)),
        c("empty batch", s(0, 7, 3), s(3, 5)),
        new Case("attention-style, permuted (not folded)", s(2, 3, 97, 17), s(2, 3, 17, 64), true),
        new Case("linear layer on a permuted view", s(7, 5, 17), s(17, 19), true));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesControl(Case c) {
    Random r = Check.random(c.toString().hashCode());
    Tensor a = tensor(r, c.a, c.permuted), b = tensor(r, c.b, false);
    long[] outShape = MatMulOp.outputShape(c.a, c.b);
    float[] yData = new float[(int) Tensor.numel(outShape)];
    Arrays.fill(yData, Float.NaN); // every element must be written
    Tensor y = Tensor.wrap(yData, outShape);

    backend.matmul().forward(a, b, y);

    ScalarGemm.Product ref = ScalarGemm.matmul(a, b);
    GemmTest.within(c.toString(), ref, y.toArray(), (int) c.a[c.a.length - 1]);
  }

  /**
   * A tensor of the given shape; with {@code permuted}, stored with dims -3 and -2 swapped (a
   * {@code [.., S, H, D]} buffer read as {@code [.., H, S, D]}), so the batch dims do not fold.
   */
  static Tensor tensor(Random r, long[] shape, boolean permuted) {
    float[] data = Check.gaussian(r, (int) Tensor.numel(shape), 1);
    int rank = shape.length;
    if (!permuted || rank < 3) return Tensor.wrap(data, shape);
    long[] stored = shape.clone();
    stored[rank - 3] = shape[rank - 2];
    stored[rank - 2] = shape[rank - 3];
    int[] order = new int[rank];
    for (int i = 0; i < rank; i++) order[i] = i;
    order[rank - 3] = rank - 2;
    order[rank - 2] = rank - 3;
    return Tensor.wrap(data, stored).permute(order);
  }

  /** The batch split and the per-product split give the same bits for 1, 2 and 3 threads. */
  @Test
  void resultDoesNotDependOnThreadCount() {
    Random r = Check.random(51);
    Tensor small = tensor(r, s(6, 2, 33, 17), true), smallB = tensor(r, s(2, 17, 40), false);
    Tensor big = tensor(r, s(2, 200, 130), false), bigB = tensor(r, s(2, 130, 150), false);
    float[] first = null, firstBig = null;
    for (int threads : new int[] {1, 2, 3}) {
      try (Backend be = Backend.create("cpu", threads)) {
        Tensor y = Tensor.allocate(6, 2, 33, 40), yBig = Tensor.allocate(2, 200, 150);
        be.matmul().forward(small, smallB, y);
        be.matmul().forward(big, bigB, yBig);
        if (first == null) {
          first = y.toArray();
          firstBig = yBig.toArray();
        } else {
          assertArrayEquals(first, y.toArray(), threads + " threads");
          assertArrayEquals(firstBig, yBig.toArray(), threads + " threads");
        }
      }
    }
  }

  static void refused(String expected, long[] a, long[] b, long[] y) {
    float[] yData = new float[(int) Tensor.numel(y)];
    Arrays.fill(yData, GemmTest.SENTINEL);
    Tensor yt = Tensor.wrap(yData, y);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> backend.matmul().forward(GemmTest.t(a), GemmTest.t(b), yt));
    assertEquals(expected, e.getMessage());
    for (float f : yData) assertEquals(GemmTest.SENTINEL, f, "y written before refusal");
  }

  @Test
  void badInput() {
    refused(
        "b: inner dim 7 != a inner dim 8 (a [2, 4, 8], b [7, 5])", s(2, 4, 8), s(7, 5), s(2, 4, 5));
    refused(
        "b: batch dim 0 is 3, a's is 2; they must be equal or 1 to broadcast",
        s(2, 4, 8),
        s(3, 8, 5),
        s(2, 4, 5));
    refused("y: shape must be [2, 4, 5], got [2, 5, 4]", s(2, 4, 8), s(8, 5), s(2, 5, 4));
    refused("y: shape must be [4], got [4, 1]", s(4, 8), s(8), s(4, 1));
    refused("a: rank must be >= 1, got 0", s(), s(8), s(1));
  }
}
