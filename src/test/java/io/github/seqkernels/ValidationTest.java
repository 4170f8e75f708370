package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Bad input: an IllegalArgumentException naming argument, rule and value; outputs untouched. */
class ValidationTest extends CpuBackendTest {
  static final float SENTINEL = 12345f;

  /** Runs one attention call with q [1,2,3,4]-ish defaults that {@code edit} may change. */
  static final class Call {
    Tensor q = t(2, 4, 3, 8), k = t(2, 2, 5, 8), v = t(2, 2, 5, 6);
    Tensor out = t(2, 4, 3, 6), lse = t(2, 4, 3), weights = t(2, 4, 3, 5);
    AttentionOptions o = AttentionOptions.defaults();

    static Tensor t(long... shape) {
      float[] a = new float[(int) Tensor.numel(shape)];
      Arrays.fill(a, SENTINEL);
      return Tensor.wrap(a, shape);
    }
  }

  static void refused(String expected, Consumer<Call> edit) {
    Call c = new Call();
    edit.accept(c);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> backend.attention().forward(c.q, c.k, c.v, c.o, c.out, c.lse, c.weights));
    assertEquals(expected, e.getMessage());
    for (Tensor t : new Tensor[] {c.out, c.lse, c.weights}) {
      for (float f : t.toArray()) assertEquals(SENTINEL, f, "output written before refusal");
    }
  }

  @Test
  void attentionShapes() {
    refused("k: head dim 7 != q head dim 8", c -> c.k = Call.t(2, 2, 5, 7));
    refused(
        "q: rank must be 4 [B, Hq, Sq, D], got 3 (shape [4, 3, 8])", c -> c.q = Call.t(4, 3, 8));
    refused("k: batch 1 != q batch 2", c -> c.k = Call.t(1, 2, 5, 8));
    refused("v: key length 4 != k key length 5", c -> c.v = Call.t(2, 2, 4, 6));
    refused("v: heads 1 != k heads 2", c -> c.v = Call.t(2, 1, 5, 6));
    refused(
        "k: heads 3 must divide q heads 4 (grouped-query attention)",
        c -> {
          c.k = Call.t(2, 3, 5, 8);
          c.v = Call.t(2, 3, 5, 6);
        });
    refused("out: shape must be [2, 4, 3, 6], got [2, 4, 3, 8]", c -> c.out = Call.t(2, 4, 3, 8));
    refused("lse: shape must be [2, 4, 3], got [2, 4, 3, 1]", c -> c.lse = Call.t(2, 4, 3, 1));
    refused(
        "weights: shape must be [2, 4, 3, 5], got [2, 4, 5, 3]",
        c -> c.weights = Call.t(2, 4, 5, 3));
  }

  @Test
  void attentionOptions() {
    refused("key_lengths[1] = 6 must be in [0, Sk = 5]", c -> c.o = c.o.withKeyLengths(5, 6));
    refused("key_lengths[0] = -1 must be in [0, Sk = 5]", c -> c.o = c.o.withKeyLengths(-1, 2));
    refused(
        "key_lengths: must have one entry per batch (2), got 1", c -> c.o = c.o.withKeyLengths(3));
    refused(
        "keep: dim 0 of shape [4, 5] is 4, must be 1 or 3 to broadcast to [2, 4, 3, 5]",
        c -> c.o = c.o.withMask(Mask.keep(new boolean[20], 4, 5)));
    refused(
        "block: rank 5 exceeds 4 (shape [1, 1, 1, 1, 5] cannot broadcast to " + "[2, 4, 3, 5])",
        c -> c.o = c.o.withMask(Mask.block(new boolean[5], 1, 1, 1, 1, 5)));
    refused(
        "bias: dim 1 of shape [2, 3, 1, 5] is 3, must be 1 or 4 to broadcast to [2, 4, 3, 5]",
        c -> c.o = c.o.withBias(Call.t(2, 3, 1, 5)));
    refused(
        "scale: must be finite, got Infinity", c -> c.o = c.o.withScale(Float.POSITIVE_INFINITY));
  }

  @Test
  void confinedMemoryIsRefusedUpFront() {
    try (Arena arena = Arena.ofConfined()) {
      refused(
          "q: memory is confined to one thread, and operators run on several; allocate it"
              + " with Tensor.allocate or a shared, auto or global Arena",
          c -> c.q = Tensor.allocate(arena, 2, 4, 3, 8));
    }
  }

  @Test
  void softmaxArguments() {
    Tensor x = Tensor.wrap(new float[6], 2, 3);
    Tensor y = Call.t(2, 3);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> backend.softmax().forward(x, y, SoftmaxOptions.defaults().withAxis(2)));
    assertEquals("axis: must be in [-2, 1] for rank 2, got 2", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> backend.softmax().forward(x, Call.t(3, 2)));
    assertEquals("y: shape must be [2, 3], got [3, 2]", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                backend
                    .softmax()
                    .forward(x, y, SoftmaxOptions.defaults().withScale(Float.POSITIVE_INFINITY)));
    assertEquals("scale: must be finite, got Infinity", e.getMessage());
    assertArrayEquals(Call.t(2, 3).toArray(), y.toArray());
  }

  /** An LSTM call (S=3, B=2, I=4, H=5) that {@code edit} breaks; y must stay untouched. */
  static void recurrentRefused(
      String expected,
      java.util.function.UnaryOperator<RecurrentInputs> editIn,
      java.util.function.UnaryOperator<RecurrentOptions> editOpts) {
    RecurrentInputs in = RecurrentInputs.of(Call.t(3, 2, 4), Call.t(1, 20, 4), Call.t(1, 20, 5));
    Tensor y = Call.t(3, 1, 2, 5);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                backend
                    .lstm()
                    .forward(
                        editIn.apply(in),
                        editOpts.apply(RecurrentOptions.of(5)),
                        new RecurrentOutputs(y, null, null)));
    assertEquals(expected, e.getMessage());
    for (float f : y.toArray()) assertEquals(SENTINEL, f, "y written before refusal");
  }

  @Test
  void recurrentArguments() {
    recurrentRefused(
        "W: shape must be [1, 20, 4] [dirs (1: forward), 4·hidden_size (i, o, f, c), I], got"
            + " [1, 16, 4]",
        in -> new RecurrentInputs(in.x(), Call.t(1, 16, 4), in.r(), null, null, null, null, null),
        o -> o);
    recurrentRefused(
        "sequence_lens[1] = 4 must be in [0, S = 3]", in -> in.withSequenceLens(3, 4), o -> o);
    recurrentRefused(
        "sequence_lens[0] = -1 must be in [0, S = 3]", in -> in.withSequenceLens(-1, 2), o -> o);
    recurrentRefused(
        "hidden_size: must be >= 1, got 0",
        in -> in,
        o -> new RecurrentOptions(0, o.direction(), o.clip(), false, 0, null, false));
    recurrentRefused("clip: must be > 0 (+inf for none), got -1.0", in -> in, o -> o.withClip(-1f));
    recurrentRefused(
        "activations: LSTM forward needs 3 (3 per direction), got 2",
        in -> in,
        o -> o.withActivations(java.util.List.of(Activation.of("Tanh"), Activation.of("Relu"))));
    recurrentRefused(
        "W: shape must be [2, 20, 4] [dirs (2: bidirectional), 4·hidden_size (i, o, f, c), I],"
            + " got [1, 20, 4]",
        in -> in,
        o -> o.withDirection(Direction.BIDIRECTIONAL));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Activation.of("Swish"));
    assertEquals(
        "activations: unknown activation 'Swish', must be one of [Relu, Tanh, Sigmoid,"
            + " Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign,"
            + " Softplus, Gelu, GeluTanh]",
        e.getMessage());
  }

  /** A cell's weights and steps are checked alike on every backend (RecurrentShape). */
  @Test
  void recurrentCellArguments() {
    Tensor w = Call.t(20, 4), r = Call.t(20, 5);
    RecurrentOptions o = RecurrentOptions.of(5);
    java.util.function.BiConsumer<String, org.junit.jupiter.api.function.Executable> refused =
        (expected, call) ->
            assertEquals(expected, assertThrows(IllegalArgumentException.class, call).getMessage());
    refused.accept("options: must not be null", () -> backend.lstmCell(w, r, null, null, null));
    refused.accept(
        "direction: a cell runs one direction, must be FORWARD, got REVERSE",
        () -> backend.lstmCell(w, r, null, null, o.withDirection(Direction.REVERSE)));
    refused.accept("r: must not be null", () -> backend.gruCell(Call.t(15, 4), null, null, o));
    refused.accept(
        "w: rank must be 2 [4·hidden_size, I], got 3 (shape [1, 20, 4])",
        () -> backend.lstmCell(Call.t(1, 20, 4), r, null, null, o));

    RecurrentCell cell = backend.lstmCell(w, r, null, null, o);
    try (RecurrentState st = RecurrentState.zeros(2, 5, true);
        RecurrentState noC = RecurrentState.zeros(2, 5, false)) {
      refused.accept("x: must not be null", () -> cell.step(null, st, st));
      refused.accept("next: must not be null", () -> cell.step(Call.t(2, 4), st, null));
      refused.accept(
          "x: rank must be 2 [B, I], got 3 (shape [1, 2, 4])",
          () -> cell.step(Call.t(1, 2, 4), st, st));
      refused.accept(
          "state: an LSTM cell needs c as well as h", () -> cell.step(Call.t(2, 4), noC, st));
    }
  }

  @Test
  void backendNames() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Backend.create("tpu"));
    assertEquals(
        "backend: must be one of auto, cpu, cuda, cuda-emulator, got 'tpu'", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Causal.parse("top_left"));
    assertEquals(
        "causal: must be one of none, top-left, bottom-right, got 'top_left'", e.getMessage());
  }
}
