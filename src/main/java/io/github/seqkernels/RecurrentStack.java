package io.github.seqkernels;

import java.util.List;

/**
 * A stack of recurrent layers run as one call, the output of layer l feeding layer l + 1, with
 * PyTorch's multi-layer conventions: x {@code [S, B, I]}, y {@code [S, B, dirs·H]} (the last
 * layer's output, directions concatenated), and states {@code [L·dirs, B, H]} with layer l's
 * directions at rows {@code l·dirs ..}. Every layer has the same kind, hidden size and direction.
 *
 * <p>Between layers the output is written straight into the next layer's input layout ({@code [S,
 * B, dirs, H]} is {@code [S, B, dirs·H]}): no copy.
 */
public final class RecurrentStack {
  private final RecurrentOp op;
  private final List<RecurrentWeights> layers;
  private final int h, dirs;
  private final boolean lstm;

  /** {@code op} is the backend's lstm(), gru() or rnn(); layers are in order, first first. */
  public RecurrentStack(RecurrentOp op, boolean lstm, List<RecurrentWeights> layers) {
    if (layers.isEmpty()) throw new IllegalArgumentException("layers: must not be empty");
    this.op = op;
    this.lstm = lstm;
    this.layers = List.copyOf(layers);
    RecurrentOptions first = layers.get(0).options();
    this.h = first.hiddenSize();
    this.dirs = first.direction().count();
    for (int l = 1; l < layers.size(); l++) {
      RecurrentOptions o = layers.get(l).options();
      if (o.hiddenSize() != h || o.direction() != first.direction()) {
        throw new IllegalArgumentException(
            "layers["
                + l
                + "]: hidden size "
                + o.hiddenSize()
                + " and direction "
                + o.direction()
                + " must match layer 0's ("
                + h
                + ", "
                + first.direction()
                + ")");
      }
    }
  }

  public int layerCount() {
    return layers.size();
  }

  /**
   * Runs every layer. h0, c0 (LSTM), hN, cN are {@code [L·dirs, B, H]} or null (zeros / not
   * wanted); sequenceLens as for {@link RecurrentOp}, applied to every layer.
   */
  public void forward(
      Tensor x, int[] sequenceLens, Tensor h0, Tensor c0, Tensor y, Tensor hN, Tensor cN) {
    if (x.rank() != 3) {
      throw new IllegalArgumentException("x: rank must be 3 [S, B, I], got " + x.rank());
    }
    long s = x.size(0), b = x.size(1);
    long[] yShape = {s, b, (long) dirs * h};
    if (!java.util.Arrays.equals(y.shape(), yShape)) {
      throw new IllegalArgumentException(
          "y: shape must be "
              + java.util.Arrays.toString(yShape)
              + " [S, B, dirs·H], got "
              + java.util.Arrays.toString(y.shape()));
    }
    long[] stShape = {(long) layers.size() * dirs, b, h};
    for (Tensor t : new Tensor[] {h0, c0, hN, cN}) {
      if (t != null && !java.util.Arrays.equals(t.shape(), stShape)) {
        throw new IllegalArgumentException(
            "states: shape must be "
                + java.util.Arrays.toString(stShape)
                + " [layers·dirs, B, H], got "
                + java.util.Arrays.toString(t.shape()));
      }
    }
    Tensor[] buffers = new Tensor[2];
    try {
      Tensor in = x;
      for (int l = 0; l < layers.size(); l++) {
        boolean last = l == layers.size() - 1;
        Tensor out;
        if (last) {
          out = y;
        } else {
          if (buffers[l % 2] == null) buffers[l % 2] = Tensor.allocate(yShape);
          out = buffers[l % 2];
        }
        RecurrentWeights lw = layers.get(l);
        RecurrentInputs ri =
            new RecurrentInputs(
                in,
                lw.w(),
                lw.r(),
                lw.b(),
                sequenceLens,
                slice(h0, l),
                lstm ? slice(c0, l) : null,
                null);
        // [S, B, dirs·H] seen as the [S, dirs, B, H] that the layer writes.
        Tensor yView = asLayerOutput(out, s, b);
        op.forward(
            ri,
            lw.options(),
            new RecurrentOutputs(yView, slice(hN, l), lstm ? slice(cN, l) : null));
        in = out;
      }
    } finally {
      for (Tensor t : buffers) if (t != null) t.close();
    }
  }

  private Tensor asLayerOutput(Tensor out, long s, long b) {
    long[] st = out.strides();
    // out [S, B, dirs·H]: element (t, bi, d·H + j) -> view index (t, d, bi, j)
    return Tensor.view(
        out.segment(),
        out.offset(),
        new long[] {s, dirs, b, h},
        new long[] {st[0], h * st[2], st[1], st[2]});
  }

  /** Rows [l·dirs, l·dirs + dirs) of a [L·dirs, B, H] state, or null. */
  private Tensor slice(Tensor t, int l) {
    if (t == null) return null;
    return Tensor.view(
        t.segment(),
        t.offset() + (long) l * dirs * t.stride(0),
        new long[] {dirs, t.size(1), t.size(2)},
        t.strides());
  }
}
