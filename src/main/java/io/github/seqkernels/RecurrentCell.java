package io.github.seqkernels;

/**
 * One step of an LSTM, GRU or RNN layer (one direction), the unit a streaming model or a
 * framework's own time loop calls: {@code (x, h, c) -> (h', c')} with the same formulas, gate
 * blocks and options as {@link RecurrentOp}. The weights are packed once, when the cell is made
 * ({@link Backend#lstmCell} and friends); later changes to those tensors are not seen.
 *
 * <p>x is {@code [B, I]}; states are {@code [B, H]}. {@code next} may be {@code state} itself (the
 * step reads the whole state before it writes). The gate math runs fused in one pass after the two
 * products {@code x·Wᵀ} and {@code h·Rᵀ}.
 */
public interface RecurrentCell {
  void step(Tensor x, RecurrentState state, RecurrentState next);

  /** Hidden size H. */
  int hiddenSize();

  /** A zero state for {@code batch} rows (with c for LSTM). */
  RecurrentState newState(int batch);
}
