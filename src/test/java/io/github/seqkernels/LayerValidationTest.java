package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Bad input to the Transformer pieces: each refusal is an IllegalArgumentException whose message
 * names the argument, the rule and the value, and nothing is written to y (or, for in-place calls,
 * to x) before it.
 */
class LayerValidationTest extends CpuBackendTest {
  static final float SENTINEL = 12345f;

  static Tensor t(long... shape) {
    float[] a = new float[(int) Tensor.numel(shape)];
    Arrays.fill(a, SENTINEL);
    return Tensor.wrap(a, shape);
  }

  static void refused(String expected, Tensor y, Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertEquals(expected, e.getMessage());
    if (y != null) {
      for (float f : y.toArray())
        assertEquals(SENTINEL, f, "y written before refusal: " + expected);
    }
  }

  @Test
  void linear() {
    LinearOp op = backend.linear();
    Tensor y = t(2, 3);
    refused("x: must not be null", y, () -> op.forward(null, t(3, 4), null, y));
    refused(
        "w: rank must be 2 [N, K], got 3 (shape [1, 3, 4])",
        y,
        () -> op.forward(t(2, 4), t(1, 3, 4), null, y));
    refused("x: rank must be >= 1 [..., K], got 0", y, () -> op.forward(t(), t(3, 4), null, y));
    refused(
        "x: last dim 5 must equal w's K = 4 (x [2, 5], w [3, 4])",
        y,
        () -> op.forward(t(2, 5), t(3, 4), null, y));
    refused("b: shape must be [3], got [4]", y, () -> op.forward(t(2, 4), t(3, 4), t(4), y));
    refused("b: shape must be [3], got [1, 3]", y, () -> op.forward(t(2, 4), t(3, 4), t(1, 3), y));
    Tensor y2 = t(3, 2);
    refused(
        "y: shape must be [2, 3], got [3, 2]", y2, () -> op.forward(t(2, 4), t(3, 4), null, y2));
    try (Arena arena = Arena.ofConfined()) {
      Tensor confined = Tensor.allocate(arena, 3, 4);
      refused(
          "w: memory is confined to one thread, and operators run on several; allocate it"
              + " with Tensor.allocate or a shared, auto or global Arena",
          y,
          () -> op.forward(t(2, 4), confined, null, Activation.of("Gelu"), y));
    }
  }

  @Test
  void layerNorm() {
    LayerNormOp op = backend.layerNorm();
    Tensor y = t(2, 4);
    refused("scale: must not be null", y, () -> op.forward(t(2, 4), null, null, 1e-5f, y));
    refused("x: rank must be >= 1 [..., E], got 0", y, () -> op.forward(t(), t(1), null, 0, y));
    refused("scale: shape must be [4], got [3]", y, () -> op.forward(t(2, 4), t(3), null, 0, y));
    refused(
        "bias: shape must be [4], got [2, 4]", y, () -> op.forward(t(2, 4), t(4), t(2, 4), 0, y));
    refused(
        "residual: shape must be [2, 4], got [4]",
        y,
        () -> op.forward(t(2, 4), t(4), t(4), t(4), 0, y));
    Tensor y3 = t(4, 2);
    refused(
        "y: shape must be [2, 4], got [4, 2]", y3, () -> op.forward(t(2, 4), t(4), null, 0, y3));
    refused(
        "epsilon: must be finite and >= 0, got -1.0",
        y,
        () -> op.forward(t(2, 4), t(4), null, -1f, y));
    refused(
        "epsilon: must be finite and >= 0, got NaN",
        y,
        () -> op.forward(t(2, 4), t(4), null, Float.NaN, y));
    // In place on x: x is y, and stays untouched.
    Tensor x = t(2, 4);
    refused(
        "epsilon: must be finite and >= 0, got Infinity",
        x,
        () -> op.forward(x, t(4), null, Float.POSITIVE_INFINITY, x));
  }

  @Test
  void elementwise() {
    ElementwiseOp op = backend.elementwise();
    Tensor y = t(2, 5);
    refused("f: must not be null", y, () -> op.apply(t(2, 5), null, y));
    refused(
        "y: shape must be [2, 5], got [2, 5, 1]",
        null,
        () -> op.apply(t(2, 5), Activation.of("Gelu"), t(2, 5, 1)));
    refused(
        "b: dim 0 of shape [4] is 4, must be 1 or 5 to broadcast to [2, 5]",
        y,
        () -> op.add(t(2, 5), t(4), y));
    refused(
        "b: rank 3 exceeds 2 (shape [1, 2, 5] cannot broadcast to [2, 5])",
        y,
        () -> op.add(t(2, 5), t(1, 2, 5), y));
    refused("y: shape must be [2, 5], got [5, 2]", null, () -> op.add(t(2, 5), t(5), t(5, 2)));
    Tensor a = t(2, 5);
    refused(
        "b: dim 1 of shape [2, 4] is 4, must be 1 or 5 to broadcast to [2, 5]",
        a,
        () -> op.add(a, t(2, 4), a));
  }

  @Test
  void embedding() {
    EmbeddingOp op = backend.embedding();
    Tensor y = t(3, 4);
    Tensor table = t(10, 4);
    refused("ids: must not be null", y, () -> op.forward(table, null, y));
    refused(
        "table: rank must be 2 [V, E], got 1 (shape [40])",
        y,
        () -> op.forward(t(40), new int[] {1, 2, 3}, y));
    refused(
        "y: shape must be [..., 4] with ids.length = 3 rows in all, got [3, 5]",
        null,
        () -> op.forward(table, new int[] {1, 2, 3}, t(3, 5)));
    refused(
        "y: shape must be [..., 4] with ids.length = 2 rows in all, got [3, 4]",
        y,
        () -> op.forward(table, new int[] {1, 2}, y));
    // A bad id late in the list: nothing written, not even the rows before it.
    refused(
        "ids[2]: must be in [0, V = 10), got 10",
        y,
        () -> op.forward(table, new int[] {1, 2, 10}, y));
    refused(
        "ids[0]: must be in [0, V = 10), got -1",
        y,
        () -> op.forward(table, new int[] {-1, 2, 3}, y));
  }

  @Test
  void conv1d() {
    Conv1dOp op = backend.conv1d();
    Conv1dOptions d = Conv1dOptions.defaults();
    Tensor y = t(1, 6, 3);
    refused(
        "options: must not be null", y, () -> op.forward(t(1, 4, 5), t(6, 4, 3), null, null, y));
    refused(
        "x: rank must be 3 [B, C, L], got 2 (shape [4, 5])",
        y,
        () -> op.forward(t(4, 5), t(6, 4, 3), null, d, y));
    refused(
        "w: rank must be 3 [O, C/groups, K], got 2 (shape [6, 12])",
        y,
        () -> op.forward(t(1, 4, 5), t(6, 12), null, d, y));
    refused(
        "stride: must be >= 1, got 0",
        y,
        () -> op.forward(t(1, 4, 5), t(6, 4, 3), null, d.withStride(0), y));
    refused(
        "dilation: must be >= 1, got -2",
        y,
        () -> op.forward(t(1, 4, 5), t(6, 4, 3), null, d.withDilation(-2), y));
    refused(
        "groups: must be >= 1, got 0",
        y,
        () -> op.forward(t(1, 4, 5), t(6, 4, 3), null, d.withGroups(0), y));
    refused(
        "pads: must be >= 0, got [-1, 0]",
        y,
        () -> op.forward(t(1, 4, 5), t(6, 4, 3), null, d.withPadding(-1, 0), y));
    refused(
        "groups: 3 must divide x's channels C = 4",
        y,
        () -> op.forward(t(1, 4, 5), t(6, 1, 3), null, d.withGroups(3), y));
    refused(
        "groups: 4 must divide w's out channels O = 6",
        y,
        () -> op.forward(t(1, 4, 5), t(6, 1, 3), null, d.withGroups(4), y));
    refused(
        "w: dim 1 must be C/groups = 2, got 4 (shape [6, 4, 3])",
        y,
        () -> op.forward(t(1, 4, 5), t(6, 4, 3), null, d.withGroups(2), y));
    refused(
        "w: kernel size K (dim 2) must be >= 1, got 0",
        y,
        () -> op.forward(t(1, 4, 5), t(6, 4, 0), null, d, y));
    // A span one short of the kernel: 5 + 0 - 2·(4 - 1) - 1 = -2, floor(-2 / 3) + 1 = 0 outputs.
    refused(
        "x: length 5 with pads [0, 0] is shorter than the dilated kernel (dilation·(K - 1) + 1"
            + " = 7): no output",
        y,
        () -> op.forward(t(1, 4, 5), t(6, 4, 4), null, d.withDilation(2).withStride(3), y));
    refused(
        "bias: shape must be [6], got [4]",
        y,
        () -> op.forward(t(1, 4, 5), t(6, 4, 3), t(4), d, y));
    Tensor y2 = t(1, 6, 4);
    refused(
        "y: shape must be [1, 6, 3], got [1, 6, 4]",
        y2,
        () -> op.forward(t(1, 4, 5), t(6, 4, 3), null, d, y2));
  }
}
