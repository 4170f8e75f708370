package io.github.seqkernels;

import java.util.Map;

/**
 * One recurrent layer's weights in the ONNX contract (W {@code [dirs, G·H, I]}, R {@code [dirs,
 * G·H, H]}, B {@code [dirs, 2·G·H]}; blocks LSTM i, o, f, c; GRU z, r, h), made from another
 * framework's layout so that no one permutes gate blocks by hand:
 *
 * <ul>
 *   <li>PyTorch: {@code weight_ih_l{k}} {@code [G·H, I]}, {@code weight_hh_l{k}}, {@code
 *       bias_ih_l{k}}, {@code bias_hh_l{k}}, and the {@code _reverse} twins of a bidirectional
 *       layer; gate order LSTM i, f, g, o and GRU r, z, n. nn.GRU is linear_before_reset = 1.
 *   <li>Keras: {@code kernel} {@code [I, G·H]}, {@code recurrent_kernel} {@code [H, G·H]}, {@code
 *       bias}; gate order LSTM i, f, c, o and GRU z, r, h; GRU reset_after = true has a {@code [2,
 *       3·H]} bias (input, recurrent) and is linear_before_reset = 1.
 * </ul>
 *
 * The tensors are new, contiguous copies; {@link #options()} carries what the source implies
 * (hidden size, direction, linear_before_reset, activations).
 */
public record RecurrentWeights(Tensor w, Tensor r, Tensor b, RecurrentOptions options) {
  /** ONNX block k comes from source block ORDER[k]. */
  private static final int[] TORCH_LSTM = {0, 3, 1, 2}; // i,f,g,o -> i,o,f,c

  private static final int[] TORCH_GRU = {1, 0, 2}; // r,z,n -> z,r,h
  private static final int[] KERAS_LSTM = {0, 3, 1, 2}; // i,f,c,o -> i,o,f,c
  private static final int[] KERAS_GRU = {0, 1, 2}; // z,r,h already
  private static final int[] SINGLE = {0};

  /** Layer {@code layer} of a PyTorch nn.LSTM state dict. */
  public static RecurrentWeights pytorchLstm(Map<String, Tensor> stateDict, int layer) {
    return pytorch("lstm", TORCH_LSTM, stateDict, layer, false, null);
  }

  /** Layer {@code layer} of a PyTorch nn.GRU state dict (linear_before_reset = 1). */
  public static RecurrentWeights pytorchGru(Map<String, Tensor> stateDict, int layer) {
    return pytorch("gru", TORCH_GRU, stateDict, layer, true, null);
  }

  /** Layer {@code layer} of a PyTorch nn.RNN state dict; nonlinearity "tanh" or "relu". */
  public static RecurrentWeights pytorchRnn(
      Map<String, Tensor> stateDict, int layer, String nonlinearity) {
    Activation act =
        switch (nonlinearity) {
          case "tanh" -> Activation.of("Tanh");
          case "relu" -> Activation.of("Relu");
          default ->
              throw new IllegalArgumentException(
                  "nonlinearity: must be tanh or relu, got '" + nonlinearity + "'");
        };
    return pytorch("rnn", SINGLE, stateDict, layer, false, act);
  }

  private static RecurrentWeights pytorch(
      String op, int[] order, Map<String, Tensor> sd, int layer, boolean lbr, Activation rnnAct) {
    String base = "_l" + layer;
    Tensor wih = required(sd, "weight_ih" + base);
    boolean bi = sd.containsKey("weight_ih" + base + "_reverse");
    int dirs = bi ? 2 : 1, g = order.length;
    long gh = wih.size(0);
    if (wih.rank() != 2 || gh % g != 0) {
      throw new IllegalArgumentException(
          "weight_ih"
              + base
              + ": shape must be ["
              + g
              + "·hidden_size, input_size] for "
              + op
              + ", got "
              + java.util.Arrays.toString(wih.shape()));
    }
    int h = (int) (gh / g), isz = (int) wih.size(1);
    Tensor w = Tensor.allocate(dirs, g * h, isz), r = Tensor.allocate(dirs, g * h, h);
    Tensor b = Tensor.allocate(dirs, 2L * g * h);
    for (int d = 0; d < dirs; d++) {
      String sfx = base + (d == 1 ? "_reverse" : "");
      copyBlocks(required(sd, "weight_ih" + sfx), false, order, h, isz, w, d);
      copyBlocks(required(sd, "weight_hh" + sfx), false, order, h, h, r, d);
      Tensor bih = sd.get("bias_ih" + sfx), bhh = sd.get("bias_hh" + sfx);
      if (bih != null) copyBias(bih, order, h, b, d, 0);
      if (bhh != null) copyBias(bhh, order, h, b, d, g * h);
    }
    RecurrentOptions o =
        RecurrentOptions.of(h)
            .withDirection(bi ? Direction.BIDIRECTIONAL : Direction.FORWARD)
            .withLinearBeforeReset(lbr);
    if (rnnAct != null) {
      o = o.withActivations(bi ? java.util.List.of(rnnAct, rnnAct) : java.util.List.of(rnnAct));
    }
    return new RecurrentWeights(w, r, b, o);
  }

  /** A Keras LSTM layer (one direction): kernel [I, 4H], recurrent_kernel [H, 4H], bias [4H]. */
  public static RecurrentWeights kerasLstm(Tensor kernel, Tensor recurrentKernel, Tensor bias) {
    return keras(KERAS_LSTM, kernel, recurrentKernel, bias, false);
  }

  /**
   * A Keras GRU layer: kernel [I, 3H], recurrent_kernel [H, 3H], bias [2, 3H] with reset_after
   * (input and recurrent biases; linear_before_reset = 1) or [3H] without.
   */
  public static RecurrentWeights kerasGru(
      Tensor kernel, Tensor recurrentKernel, Tensor bias, boolean resetAfter) {
    return keras(KERAS_GRU, kernel, recurrentKernel, bias, resetAfter);
  }

  private static RecurrentWeights keras(
      int[] order, Tensor kernel, Tensor rk, Tensor bias, boolean resetAfter) {
    int g = order.length;
    if (kernel.rank() != 2 || kernel.size(1) % g != 0) {
      throw new IllegalArgumentException(
          "kernel: shape must be [input_dim, "
              + g
              + "·units], got "
              + java.util.Arrays.toString(kernel.shape()));
    }
    int h = (int) (kernel.size(1) / g), isz = (int) kernel.size(0);
    Tensor w = Tensor.allocate(1, g * h, isz), r = Tensor.allocate(1, g * h, h);
    Tensor b = Tensor.allocate(1, 2L * g * h);
    copyBlocks(kernel, true, order, h, isz, w, 0);
    copyBlocks(rk, true, order, h, h, r, 0);
    if (bias != null) {
      if (resetAfter) {
        if (bias.rank() != 2 || bias.size(0) != 2) {
          throw new IllegalArgumentException(
              "bias: reset_after needs shape [2, "
                  + g * h
                  + "], got "
                  + java.util.Arrays.toString(bias.shape()));
        }
        copyBias(rowOf(bias, 0), order, h, b, 0, 0);
        copyBias(rowOf(bias, 1), order, h, b, 0, g * h);
      } else {
        copyBias(bias, order, h, b, 0, 0);
      }
    }
    RecurrentOptions o = RecurrentOptions.of(h).withLinearBeforeReset(g == 3 && resetAfter);
    return new RecurrentWeights(w, r, b, o);
  }

  /**
   * dst[d, k·h + j, c] = src block order[k], row j, col c; {@code transposed}: src is [cols, G·h]
   * (Keras), else [G·h, cols] (PyTorch).
   */
  private static void copyBlocks(
      Tensor src, boolean transposed, int[] order, int h, int cols, Tensor dst, int d) {
    long rows = (long) order.length * h;
    long[] want = transposed ? new long[] {cols, rows} : new long[] {rows, cols};
    if (!java.util.Arrays.equals(src.shape(), want)) {
      throw new IllegalArgumentException(
          "weights: shape must be "
              + java.util.Arrays.toString(want)
              + ", got "
              + java.util.Arrays.toString(src.shape()));
    }
    for (int k = 0; k < order.length; k++) {
      for (int j = 0; j < h; j++) {
        int from = order[k] * h + j;
        for (int c = 0; c < cols; c++) {
          float v = transposed ? src.get(c, from) : src.get(from, c);
          dst.set(v, d, k * h + j, c);
        }
      }
    }
  }

  private static void copyBias(Tensor src, int[] order, int h, Tensor dst, int d, int at) {
    if (src.rank() != 1 || src.size(0) != (long) order.length * h) {
      throw new IllegalArgumentException(
          "bias: shape must be ["
              + order.length * h
              + "], got "
              + java.util.Arrays.toString(src.shape()));
    }
    for (int k = 0; k < order.length; k++) {
      for (int j = 0; j < h; j++) dst.set(src.get(order[k] * h + j), d, at + k * h + j);
    }
  }

  private static Tensor rowOf(Tensor t, int row) {
    return Tensor.view(
        t.segment(),
        t.offset() + row * t.stride(0),
        new long[] {t.size(1)},
        new long[] {t.stride(1)});
  }

  private static Tensor required(Map<String, Tensor> sd, String name) {
    Tensor t = sd.get(name);
    if (t == null) {
      throw new IllegalArgumentException(
          "state dict: missing '" + name + "' (has: " + new java.util.TreeSet<>(sd.keySet()) + ")");
    }
    return t;
  }
}
