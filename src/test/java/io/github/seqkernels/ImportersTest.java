package io.github.seqkernels;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jetbrains.bio.npy.NpyArray;
import org.jetbrains.bio.npy.NpzEntry;
import org.jetbrains.bio.npy.NpzFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * PyTorch state dicts and Keras weights imported into the ONNX contract give the frameworks' own
 * results. The PyTorch references are real nn.LSTM / nn.GRU / nn.RNN outputs, made by
 * src/test/resources/pytorch/make_recurrent.py.
 */
class ImportersTest extends CpuBackendTest {
  static Map<String, Tensor> npz = new HashMap<>();

  @BeforeAll
  static void readReferences() throws Exception {
    Path p = Path.of(ImportersTest.class.getResource("/pytorch/recurrent.npz").toURI());
    try (NpzFile.Reader r = NpzFile.read(p)) {
      for (NpzEntry e : r.introspect()) {
        NpyArray a = r.get(e.getName(), 1 << 20);
        int[] s = a.getShape();
        long[] shape = new long[s.length];
        for (int k = 0; k < s.length; k++) shape[k] = s[k];
        npz.put(e.getName(), Tensor.wrap(a.asFloatArray(), shape));
      }
    }
  }

  static Map<String, Tensor> stateDict(String module) {
    Map<String, Tensor> sd = new HashMap<>();
    npz.forEach(
        (k, v) -> {
          if (k.startsWith(module + ".")) sd.put(k.substring(module.length() + 1), v);
        });
    return sd;
  }

  void check(String module, String kind, int layers) {
    Map<String, Tensor> sd = stateDict(module);
    List<RecurrentWeights> ws = new ArrayList<>();
    for (int l = 0; l < layers; l++) {
      ws.add(
          switch (kind) {
            case "lstm" -> RecurrentWeights.pytorchLstm(sd, l);
            case "gru" -> RecurrentWeights.pytorchGru(sd, l);
            case "rnn_relu" -> RecurrentWeights.pytorchRnn(sd, l, "relu");
            default -> RecurrentWeights.pytorchRnn(sd, l, "tanh");
          });
    }
    boolean lstm = kind.equals("lstm");
    RecurrentOp op = lstm ? backend.lstm() : kind.equals("gru") ? backend.gru() : backend.rnn();
    RecurrentStack stack = new RecurrentStack(op, lstm, ws);
    Tensor yRef = sd.get("y"), hRef = sd.get("h_n");
    Tensor y = Tensor.allocate(yRef.shape()), hN = Tensor.allocate(hRef.shape());
    Tensor cN = lstm ? Tensor.allocate(hRef.shape()) : null;
    stack.forward(npz.get("x"), null, sd.get("h0"), sd.get("c0"), y, hN, cN);
    // PyTorch computes in float32 too, with other summation orders: a few ulps of O(1) values.
    Check.close(module + " y", Check.toDouble(yRef.toArray()), y.toArray(), 1e-5, 1e-4);
    Check.close(module + " h_n", Check.toDouble(hRef.toArray()), hN.toArray(), 1e-5, 1e-4);
    if (lstm) {
      Check.close(
          module + " c_n", Check.toDouble(sd.get("c_n").toArray()), cN.toArray(), 1e-5, 1e-4);
    }
  }

  @Test
  void pytorchTwoLayerBidirectionalLstm() {
    check("lstm2bi", "lstm", 2);
  }

  @Test
  void pytorchGruStacksAndBidirectional() {
    check("gru2", "gru", 2);
    check("gru1bi", "gru", 1);
  }

  @Test
  void pytorchRnnReluAndTanhWithoutBias() {
    check("rnn_relu", "rnn_relu", 1);
    check("rnn_tanh2", "rnn_tanh", 2);
  }

  /**
   * Keras stores kernels transposed ([I, G·H]) with LSTM gates i, f, c, o: weights written in that
   * layout from ONNX-ordered ones must import back to the same layer output.
   */
  @Test
  void kerasLayoutsImportToTheSameLayer() {
    java.util.Random r = Check.random(5);
    int i = 4, h = 3, s = 5, b = 2;
    Tensor x = Tensor.wrap(Check.gaussian(r, s * b * i, 1), s, b, i);
    for (int g : new int[] {4, 3}) {
      float[] w = Check.gaussian(r, g * h * i, 0.4), rr = Check.gaussian(r, g * h * h, 0.4);
      float[] bias = Check.gaussian(r, 2 * g * h, 0.4);
      int[] kerasOf =
          g == 4 ? new int[] {0, 3, 1, 2} : new int[] {0, 1, 2}; // ONNX i,o,f,c in i,f,c,o
      float[] kernel = new float[i * g * h], rk = new float[h * g * h];
      float[] kb = new float[2 * g * h];
      for (int k = 0; k < g; k++) {
        for (int j = 0; j < h; j++) {
          int onnxRow = k * h + j, kerasCol = kerasOf[k] * h + j;
          for (int c = 0; c < i; c++) kernel[c * g * h + kerasCol] = w[onnxRow * i + c];
          for (int c = 0; c < h; c++) rk[c * g * h + kerasCol] = rr[onnxRow * h + c];
          kb[kerasCol] = bias[onnxRow];
          kb[g * h + kerasCol] = bias[g * h + onnxRow];
        }
      }
      RecurrentWeights kw;
      RecurrentOp op;
      RecurrentOptions direct = RecurrentOptions.of(h);
      if (g == 4) {
        // Keras LSTM has one bias: the ONNX Rb half must be zero for the two to agree.
        java.util.Arrays.fill(bias, g * h, 2 * g * h, 0f);
        kw =
            RecurrentWeights.kerasLstm(
                Tensor.wrap(kernel, i, g * h),
                Tensor.wrap(rk, h, g * h),
                Tensor.wrap(java.util.Arrays.copyOf(kb, g * h), g * h));
        op = backend.lstm();
      } else {
        kw =
            RecurrentWeights.kerasGru(
                Tensor.wrap(kernel, i, g * h),
                Tensor.wrap(rk, h, g * h),
                Tensor.wrap(kb, 2, g * h),
                true);
        op = backend.gru();
        direct = direct.withLinearBeforeReset(true);
      }
      Tensor yK = Tensor.allocate(s, 1, b, h), yO = Tensor.allocate(s, 1, b, h);
      op.forward(
          RecurrentInputs.of(x, kw.w(), kw.r()).withB(kw.b()),
          kw.options(),
          new RecurrentOutputs(yK, null, null));
      op.forward(
          RecurrentInputs.of(x, Tensor.wrap(w, 1, g * h, i), Tensor.wrap(rr, 1, g * h, h))
              .withB(Tensor.wrap(bias, 1, 2 * g * h)),
          direct,
          new RecurrentOutputs(yO, null, null));
      org.junit.jupiter.api.Assertions.assertArrayEquals(yO.toArray(), yK.toArray(), "G=" + g);
    }
  }
}
