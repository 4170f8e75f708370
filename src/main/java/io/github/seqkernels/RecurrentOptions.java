package io.github.seqkernels;

import java.util.List;

/**
 * The attributes of the ONNX LSTM, GRU and RNN operators (opset 14). Immutable; {@code with*}
 * return copies.
 *
 * <ul>
 *   <li>{@code hiddenSize} H (required, >= 1); {@code direction}.
 *   <li>{@code clip}: gate pre-activations are clipped to [-clip, clip]; +inf (default) is none.
 *   <li>{@code inputForget} (LSTM): couple the input and forget gates, i = 1 - f.
 *   <li>{@code layout} 0: X {@code [S, B, I]}, Y {@code [S, dirs, B, H]}, states {@code [dirs, B,
 *       H]}; 1: X {@code [B, S, I]}, Y {@code [B, S, dirs, H]}, states {@code [B, dirs, H]}.
 *   <li>{@code activations}: per direction, LSTM takes 3 (f, g, h; default Sigmoid, Tanh, Tanh),
 *       GRU 2 (f, g; Sigmoid, Tanh), RNN 1 (Tanh); bidirectional lists forward's then reverse's.
 *       Null means the defaults.
 *   <li>{@code linearBeforeReset} (GRU): apply the reset gate after the recurrent product of the h
 *       block (PyTorch's nn.GRU) rather than before it.
 * </ul>
 */
public record RecurrentOptions(
    int hiddenSize,
    Direction direction,
    float clip,
    boolean inputForget,
    int layout,
    List<Activation> activations,
    boolean linearBeforeReset) {

  public RecurrentOptions {
    if (direction == null) throw new IllegalArgumentException("direction: must not be null");
    activations = activations == null ? null : List.copyOf(activations);
  }

  /** Hidden size H, forward, no clip, layout 0, default activations. */
  public static RecurrentOptions of(int hiddenSize) {
    return new RecurrentOptions(
        hiddenSize, Direction.FORWARD, Float.POSITIVE_INFINITY, false, 0, null, false);
  }

  public RecurrentOptions withDirection(Direction d) {
    return new RecurrentOptions(
        hiddenSize, d, clip, inputForget, layout, activations, linearBeforeReset);
  }

  public RecurrentOptions withClip(float c) {
    return new RecurrentOptions(
        hiddenSize, direction, c, inputForget, layout, activations, linearBeforeReset);
  }

  public RecurrentOptions withInputForget(boolean f) {
    return new RecurrentOptions(
        hiddenSize, direction, clip, f, layout, activations, linearBeforeReset);
  }

  public RecurrentOptions withLayout(int l) {
    return new RecurrentOptions(
        hiddenSize, direction, clip, inputForget, l, activations, linearBeforeReset);
  }

  public RecurrentOptions withActivations(List<Activation> a) {
    return new RecurrentOptions(
        hiddenSize, direction, clip, inputForget, layout, a, linearBeforeReset);
  }

  public RecurrentOptions withLinearBeforeReset(boolean l) {
    return new RecurrentOptions(hiddenSize, direction, clip, inputForget, layout, activations, l);
  }
}
