package io.github.seqkernels;

/**
 * The state a recurrent cell carries from step to step: the hidden state h {@code [B, H]} and, for
 * LSTM, the cell state c {@code [B, H]} (null for GRU and RNN).
 */
public record RecurrentState(Tensor h, Tensor c) implements AutoCloseable {
  /** Zero states for {@code batch} rows, owning their memory until {@link #close()}. */
  public static RecurrentState zeros(int batch, int hidden, boolean withCell) {
    return new RecurrentState(
        Tensor.allocate(batch, hidden), withCell ? Tensor.allocate(batch, hidden) : null);
  }

  @Override
  public void close() {
    h.close();
    if (c != null) c.close();
  }
}
