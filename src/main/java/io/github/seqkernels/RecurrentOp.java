package io.github.seqkernels;

/**
 * A recurrent layer with ONNX LSTM / GRU / RNN semantics (opset 14), over a whole sequence.
 *
 * <p>Inputs (ONNX names; S steps, B batch, I input size, H hidden size, dirs 1 or 2):
 *
 * <ul>
 *   <li>x {@code [S, B, I]} (layout 1: {@code [B, S, I]});
 *   <li>w {@code [dirs, G·H, I]} and r {@code [dirs, G·H, H]}, G = 4 (LSTM, blocks i, o, f, c), 3
 *       (GRU, blocks z, r, h) or 1 (RNN);
 *   <li>b {@code [dirs, 2·G·H]} (Wb then Rb), or null for zeros;
 *   <li>sequenceLens {@code [B]}, or null for all S: steps at or past a sequence's length write 0
 *       to y, y_h / y_c hold the last valid step, the reverse direction starts at length - 1, and
 *       length 0 returns the initial state;
 *   <li>initialH (and for LSTM initialC) {@code [dirs, B, H]} (layout 1: {@code [B, dirs, H]}), or
 *       null for zeros; p (LSTM peepholes) {@code [dirs, 3·H]} (i, o, f), or null.
 * </ul>
 *
 * Outputs, each optional (null): y {@code [S, dirs, B, H]} (layout 1: {@code [B, S, dirs, H]}), yH
 * and yC {@code [dirs, B, H]} (layout 1: {@code [B, dirs, H]}).
 *
 * <p>Determinism: on the CPU the result for one sequence is bit-identical whatever batch it is in
 * and whatever the thread count, because every product sums over the same elements in the same
 * order for each row.
 */
public interface RecurrentOp {
  void forward(RecurrentInputs in, RecurrentOptions options, RecurrentOutputs out);
}
