package io.github.seqkernels.internal;

import static io.github.seqkernels.internal.AttentionShape.fail;

import io.github.seqkernels.Activation;
import io.github.seqkernels.Backend;
import io.github.seqkernels.Direction;
import io.github.seqkernels.RecurrentInputs;
import io.github.seqkernels.RecurrentOp;
import io.github.seqkernels.RecurrentOptions;
import io.github.seqkernels.RecurrentOutputs;
import io.github.seqkernels.RecurrentState;
import io.github.seqkernels.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * The validated geometry of one recurrent call (ONNX LSTM, GRU or RNN), shared by every backend so
 * that all of them refuse the same input with the same messages.
 */
public final class RecurrentShape {
  /** The three ONNX recurrent operators: gate count and activations per direction. */
  public enum Kind {
    LSTM(4, 3, "i, o, f, c", List.of("Sigmoid", "Tanh", "Tanh")),
    GRU(3, 2, "z, r, h", List.of("Sigmoid", "Tanh")),
    RNN(1, 1, "one block", List.of("Tanh"));

    /** Gate blocks in W, R and each half of B. */
    public final int gates;

    /** Activations per direction. */
    public final int activations;

    final String blocks;
    final List<String> defaults;

    Kind(int gates, int activations, String blocks, List<String> defaults) {
      this.gates = gates;
      this.activations = activations;
      this.blocks = blocks;
      this.defaults = defaults;
    }

    /** This operator on {@code backend}: its lstm(), gru() or rnn(). */
    public RecurrentOp on(Backend backend) {
      return switch (this) {
        case LSTM -> backend.lstm();
        case GRU -> backend.gru();
        case RNN -> backend.rnn();
      };
    }
  }

  public final Kind kind;
  public int s, b, i, h, dirs, layout;
  public float clip;

  /** Activations of direction d are {@code acts[d * kind.activations + k]}. */
  public Activation[] acts;

  public RecurrentShape(Kind kind) {
    this.kind = kind;
  }

  /**
   * Checks every argument and fills this object; IllegalArgumentException names the first bad one.
   */
  public RecurrentShape validate(
      RecurrentInputs in, RecurrentOptions o, RecurrentOutputs out, Placement where) {
    AttentionShape.requireNonNull("inputs", in);
    AttentionShape.requireNonNull("options", o);
    AttentionShape.requireNonNull("outputs", out);
    AttentionShape.requireNonNull("X", in.x());
    AttentionShape.requireNonNull("W", in.w());
    AttentionShape.requireNonNull("R", in.r());
    String name = kind.name();
    int hs = o.hiddenSize();
    if (hs < 1) fail("hidden_size: must be >= 1, got " + hs);
    if (o.layout() != 0 && o.layout() != 1) fail("layout: must be 0 or 1, got " + o.layout());
    if (!(o.clip() > 0)) fail("clip: must be > 0 (+inf for none), got " + o.clip());
    if (o.inputForget() && kind != Kind.LSTM) {
      fail("input_forget: only LSTM has it, got it set for " + name);
    }
    if (o.linearBeforeReset() && kind != Kind.GRU) {
      fail("linear_before_reset: only GRU has it, got it set for " + name);
    }
    int dirs = o.direction().count();

    Tensor x = in.x();
    AttentionShape.requireRank("X", x, 3, o.layout() == 0 ? "[S, B, I]" : "[B, S, I]");
    int s = toInt("X", x.size(o.layout() == 0 ? 0 : 1));
    int b = toInt("X", x.size(o.layout() == 0 ? 1 : 0));
    int isz = toInt("X", x.size(2));
    int g = kind.gates;
    long[] want = {dirs, (long) g * hs, isz};
    requireShape(
        "W",
        in.w(),
        want,
        "[dirs ("
            + dirs
            + ": "
            + o.direction().name().toLowerCase()
            + "), "
            + g
            + "·hidden_size ("
            + kind.blocks
            + "), I]");
    want[2] = hs;
    requireShape("R", in.r(), want, "[dirs, " + g + "·hidden_size, hidden_size]");
    if (in.b() != null) {
      requireShape("B", in.b(), new long[] {dirs, 2L * g * hs}, "[dirs, 2·" + g + "·hidden_size]");
    }
    int[] lens = in.sequenceLens();
    if (lens != null) {
      if (lens.length != b) {
        fail("sequence_lens: must have one entry per batch (" + b + "), got " + lens.length);
      }
      for (int k = 0; k < b; k++) {
        if (lens[k] < 0 || lens[k] > s) {
          fail("sequence_lens[" + k + "] = " + lens[k] + " must be in [0, S = " + s + "]");
        }
      }
    }
    long[] state = o.layout() == 0 ? new long[] {dirs, b, hs} : new long[] {b, dirs, hs};
    String stateLayout = o.layout() == 0 ? "[dirs, B, hidden_size]" : "[B, dirs, hidden_size]";
    if (in.initialH() != null) requireShape("initial_h", in.initialH(), state, stateLayout);
    if (in.initialC() != null) {
      if (kind != Kind.LSTM) fail("initial_c: only LSTM has a cell state, got one for " + name);
      requireShape("initial_c", in.initialC(), state, stateLayout);
    }
    if (in.p() != null) {
      if (kind != Kind.LSTM) fail("P: only LSTM has peepholes, got them for " + name);
      requireShape("P", in.p(), new long[] {dirs, 3L * hs}, "[dirs, 3·hidden_size (i, o, f)]");
    }
    if (out.y() != null) {
      long[] y = o.layout() == 0 ? new long[] {s, dirs, b, hs} : new long[] {b, s, dirs, hs};
      requireShape("Y", out.y(), y, o.layout() == 0 ? "[S, dirs, B, H]" : "[B, S, dirs, H]");
    }
    if (out.yH() != null) requireShape("Y_h", out.yH(), state, stateLayout);
    if (out.yC() != null) {
      if (kind != Kind.LSTM) fail("Y_c: only LSTM has a cell state, got an output for " + name);
      requireShape("Y_c", out.yC(), state, stateLayout);
    }

    List<Activation> given = o.activations();
    Activation[] acts = new Activation[dirs * kind.activations];
    if (given == null) {
      for (int k = 0; k < acts.length; k++) {
        acts[k] = Activation.of(kind.defaults.get(k % kind.activations));
      }
    } else {
      if (given.size() != acts.length) {
        fail(
            "activations: "
                + name
                + " "
                + o.direction().name().toLowerCase()
                + " needs "
                + acts.length
                + " ("
                + kind.activations
                + " per direction), got "
                + given.size());
      }
      for (int k = 0; k < acts.length; k++) acts[k] = given.get(k);
    }

    Tensor[] all = {
      x, in.w(), in.r(), in.b(), in.initialH(), in.initialC(), in.p(), out.y(), out.yH(), out.yC()
    };
    String[] names = {"X", "W", "R", "B", "initial_h", "initial_c", "P", "Y", "Y_h", "Y_c"};
    for (int k = 0; k < all.length; k++) {
      if (all[k] != null) where.require(names[k], all[k]);
    }

    this.s = s;
    this.b = b;
    this.i = isz;
    this.h = hs;
    this.dirs = dirs;
    this.layout = o.layout();
    this.clip = o.clip();
    this.acts = acts;
    return this;
  }

  /**
   * The weights of a cell before they are packed: w {@code [G·H, I]}, r {@code [G·H, H]}, b {@code
   * [2·G·H]} or null, p {@code [3·H]} or null, one forward direction; the sizes are checked with
   * the options by {@link #validate} on a one-step probe.
   */
  public static void requireCell(
      Kind kind, Tensor w, Tensor r, Tensor b, Tensor p, RecurrentOptions o) {
    AttentionShape.requireNonNull("options", o);
    if (o.direction() != Direction.FORWARD) {
      fail("direction: a cell runs one direction, must be FORWARD, got " + o.direction());
    }
    AttentionShape.requireNonNull("w", w);
    AttentionShape.requireNonNull("r", r);
    AttentionShape.requireRank("w", w, 2, "[" + kind.gates + "·hidden_size, I]");
    AttentionShape.requireRank("r", r, 2, "[" + kind.gates + "·hidden_size, hidden_size]");
    if (b != null) AttentionShape.requireRank("b", b, 1, "[2·" + kind.gates + "·hidden_size]");
    if (p != null) AttentionShape.requireRank("p", p, 1, "[3·hidden_size]");
  }

  /**
   * The arguments of one cell step: x {@code [B, I]}, state and next present, with c for an LSTM
   * (their shapes are checked by {@link #validate} on the step's inputs).
   */
  public static void requireStep(Kind kind, Tensor x, RecurrentState state, RecurrentState next) {
    AttentionShape.requireNonNull("x", x);
    AttentionShape.requireNonNull("state", state);
    AttentionShape.requireNonNull("next", next);
    AttentionShape.requireRank("x", x, 2, "[B, I]");
    if (kind == Kind.LSTM && (state.c() == null || next.c() == null)) {
      fail("state: an LSTM cell needs c as well as h");
    }
  }

  /**
   * A cell step as the layer call both backends run for it: one step, forward, layout 0, with x
   * {@code [B, I]} and the state seen as {@code [1, B, I]} and {@code [1, B, H]} views (w3, r3, b2,
   * p2: the cell's weights already viewed with their leading dir dim).
   */
  public static RecurrentInputs stepInputs(
      Kind kind, Tensor x, Tensor w3, Tensor r3, Tensor b2, Tensor p2, RecurrentState state) {
    Tensor c = kind == Kind.LSTM ? unsqueeze(state.c()) : null;
    return new RecurrentInputs(unsqueeze(x), w3, r3, b2, null, unsqueeze(state.h()), c, p2);
  }

  /** The outputs of {@link #stepInputs}' call: Y_h (and Y_c) into next's tensors. */
  public static RecurrentOutputs stepOutputs(Kind kind, RecurrentState next) {
    Tensor c = kind == Kind.LSTM ? unsqueeze(next.c()) : null;
    return new RecurrentOutputs(null, unsqueeze(next.h()), c);
  }

  /** A view with a leading dim of 1 (stride 0); null stays null. */
  public static Tensor unsqueeze(Tensor t) {
    if (t == null) return null;
    long[] shape = new long[t.rank() + 1], strides = new long[t.rank() + 1];
    shape[0] = 1;
    for (int k = 0; k < t.rank(); k++) {
      shape[k + 1] = t.size(k);
      strides[k + 1] = t.stride(k);
    }
    return t.asStrided(shape, strides, t.offset());
  }

  private static void requireShape(String name, Tensor t, long[] shape, String layout) {
    if (!Arrays.equals(t.shape(), shape)) {
      fail(
          name
              + ": shape must be "
              + Arrays.toString(shape)
              + " "
              + layout
              + ", got "
              + Arrays.toString(t.shape()));
    }
  }

  private static int toInt(String name, long n) {
    if (n > Integer.MAX_VALUE) fail(name + ": size " + n + " exceeds 2^31-1");
    return (int) n;
  }
}
