package io.github.seqkernels.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.github.seqkernels.Backend;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.onnx.OnnxGraph;
import io.github.seqkernels.onnx.proto.Onnx.ModelProto;
import io.github.seqkernels.onnx.proto.Onnx.NodeProto;
import io.github.seqkernels.onnx.proto.Onnx.TypeProto;
import io.github.seqkernels.onnx.proto.Onnx.ValueInfoProto;
import java.io.IOException;
import java.io.InputStream;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * all-MiniLM-L6-v2 on the CPU backend against ONNX Runtime running the same .onnx file on the same
 * token ids: real sentences of 1 to 64 words in padded batches of 1, 5 and 32.
 *
 * <p>Tolerances: the last hidden state within 1e-4 absolute on real tokens (its values are of order
 * 1 after the final LayerNorm; two float32 engines that sum in different orders through six layers
 * typically differ by a few 1e-6), and the pooled embeddings at cosine >= 0.99999 against ORT's
 * hidden states pooled and normalised in float64 here. Padded rows are not compared: their values
 * depend on how an engine masks and mean nothing.
 */
class MiniLmTest {
  static final double HIDDEN_ATOL = 1e-4;
  static final double MIN_COSINE = 0.99999;

  static Backend backend;
  static MiniLm model;
  static OrtEnvironment env;
  static OrtSession ort;
  static List<String> sentences;

  @BeforeAll
  static void open() throws Exception {
    backend = Backend.create("cpu", 2);
    model = MiniLm.load(backend);
    env = OrtEnvironment.getEnvironment();
    OrtSession.SessionOptions so = new OrtSession.SessionOptions();
    so.setIntraOpNumThreads(2);
    so.setInterOpNumThreads(1);
    ort = env.createSession(resourceBytes(MiniLm.MODEL_RESOURCE), so);
    sentences = sentences();
  }

  @AfterAll
  static void close() throws Exception {
    if (ort != null) ort.close();
    if (model != null) model.close();
    if (backend != null) backend.close();
  }

  static byte[] resourceBytes(String name) throws IOException {
    try (InputStream in = MiniLmTest.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) throw new IllegalStateException(name + " not on the test class path");
      return in.readAllBytes();
    }
  }

  /** The lines of text/sentences.txt that are not comments. */
  static List<String> sentences() throws IOException {
    List<String> out = new ArrayList<>();
    for (String line :
        new String(resourceBytes("text/sentences.txt"), StandardCharsets.UTF_8).split("\n")) {
      if (!line.isBlank() && !line.startsWith("#")) out.add(line.strip());
    }
    return out;
  }

  /** ORT's last_hidden_state [B][S][E] for the same ids, mask and type ids. */
  static float[][][] ortHidden(MiniLm.Tokens t) throws OrtException {
    try (OrtSession.Result r = run(ort, t)) {
      return (float[][][]) r.get("last_hidden_state").orElseThrow().getValue();
    }
  }

  /** One ORT run on the batch's ids, mask and type ids; the caller closes the result. */
  static OrtSession.Result run(OrtSession session, MiniLm.Tokens t) throws OrtException {
    long[] shape = {t.batch(), t.length()};
    long[] ids = new long[t.ids().length], types = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = t.ids()[i];
      types[i] = t.typeIds()[i];
    }
    try (OnnxTensor a = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
        OnnxTensor m = OnnxTensor.createTensor(env, LongBuffer.wrap(t.attentionMask()), shape);
        OnnxTensor y = OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape)) {
      return session.run(Map.of("input_ids", a, "attention_mask", m, "token_type_ids", y));
    }
  }

  /** Mean over the first {@code n} rows, L2-normalised, in float64. */
  static double[] pooled(float[][] hidden, int n) {
    double[] p = new double[hidden[0].length];
    for (int j = 0; j < n; j++) {
      for (int c = 0; c < p.length; c++) p[c] += hidden[j][c];
    }
    double norm = 0;
    for (double v : p) norm += v * v;
    norm = Math.sqrt(norm);
    for (int c = 0; c < p.length; c++) p[c] /= norm;
    return p;
  }

  static double cosine(double[] ref, float[] got, int offset) {
    double dot = 0, a = 0, b = 0;
    for (int c = 0; c < ref.length; c++) {
      dot += ref[c] * got[offset + c];
      a += ref[c] * ref[c];
      b += (double) got[offset + c] * got[offset + c];
    }
    return dot / Math.sqrt(a * b);
  }

  /** Runs both engines on {@code texts} as one batch, asserts and prints the worst figures. */
  static void compare(String label, List<String> texts) throws OrtException {
    MiniLm.Tokens t = model.tokenize(texts);
    float[][][] want = ortHidden(t);
    MiniLm.Output o = model.forward(t);
    float[] hidden = o.lastHiddenState().toArray();
    float[] emb = o.embeddings().toArray();
    int e = model.hiddenSize();
    assertArrayEquals(new long[] {t.batch(), t.length(), e}, o.lastHiddenState().shape());
    assertArrayEquals(new long[] {t.batch(), e}, o.embeddings().shape());

    double worstDiff = 0, worstCos = 1;
    int worstDiffText = -1, worstCosText = -1;
    for (int b = 0; b < t.batch(); b++) {
      for (int j = 0; j < t.lengths()[b]; j++) {
        for (int c = 0; c < e; c++) {
          float got = hidden[(b * t.length() + j) * e + c];
          double diff = Math.abs(got - want[b][j][c]);
          if (!(diff <= worstDiff)) {
            worstDiff = diff;
            worstDiffText = b;
          }
        }
      }
      double cos = cosine(pooled(want[b], t.lengths()[b]), emb, b * e);
      if (!(cos >= worstCos)) {
        worstCos = cos;
        worstCosText = b;
      }
      double norm = 0;
      for (int c = 0; c < e; c++) norm += (double) emb[b * e + c] * emb[b * e + c];
      assertEquals(1.0, Math.sqrt(norm), 1e-5, label + ": embedding " + b + " not unit norm");
    }
    System.out.printf(
        "MiniLM %s: B=%d S=%d, max |hidden - ORT| %.3g (text %d), min cosine 1 - %.3g (text %d)%n",
        label, t.batch(), t.length(), worstDiff, worstDiffText, 1 - worstCos, worstCosText);
    assertTrue(
        worstDiff <= HIDDEN_ATOL,
        label
            + ": last_hidden_state differs from ORT by "
            + worstDiff
            + " in text "
            + worstDiffText);
    assertTrue(
        worstCos >= MIN_COSINE,
        label + ": cosine " + worstCos + " < " + MIN_COSINE + " for text " + worstCosText);
  }

  @Test
  void readsTheArchitectureFromTheGraph() {
    assertEquals(384, model.hiddenSize());
    assertEquals(6, model.layers());
    assertEquals(12, model.heads());
    assertEquals(256, model.maxTokens());
    String d = model.description();
    assertTrue(d.contains("feed-forward 1536 Gelu"), d);
    assertTrue(d.contains("LayerNorm eps 1.0E-12"), d);
  }

  @Test
  void batchOfOneMatchesOrt() throws OrtException {
    compare("batch 1 (1 word)", List.of(sentences.get(0)));
    compare("batch 1 (64 words)", List.of(sentences.get(sentences.size() - 1)));
    compare("batch 1 (unicode)", List.of(sentences.get(13)));
  }

  @Test
  void batchOfFiveMatchesOrt() throws OrtException {
    int n = sentences.size();
    compare(
        "batch 5",
        List.of(
            sentences.get(n - 1),
            sentences.get(0),
            sentences.get(n / 2),
            sentences.get(10),
            sentences.get(n - 2)));
  }

  @Test
  void batchOf32MatchesOrt() throws OrtException {
    // 32 of the sentences spread over every length, shortest to longest.
    int n = sentences.size();
    List<String> batch = new ArrayList<>();
    for (int i = 0; i < 32; i++) batch.add(sentences.get(i * (n - 1) / 31));
    compare("batch 32", batch);
  }

  @Test
  void longTextIsTruncatedTo256Tokens() throws OrtException {
    String longText = String.join(" ", sentences.subList(sentences.size() - 8, sentences.size()));
    MiniLm.Tokens t = model.tokenize(List.of(longText, "Short."));
    assertEquals(256, t.length());
    assertArrayEquals(new int[] {256, 4}, t.lengths());
    assertEquals(102, t.ids()[255], "[SEP] closes a truncated text");
    compare("truncated", List.of(longText, "Short."));
  }

  @Test
  void paddingDoesNotChangeAText() {
    // The same text alone and beside a much longer one: its embedding may differ only by rounding.
    String s = sentences.get(3);
    float[] alone = model.embed(List.of(s))[0];
    float[] padded = model.embed(List.of(sentences.get(sentences.size() - 1), s))[1];
    for (int c = 0; c < alone.length; c++) assertEquals(alone[c], padded[c], 1e-6, "dim " + c);
  }

  /**
   * The weights of one layer against ORT's: the model with that layer's Softmax output added as a
   * graph output (the exporter writes one Softmax per layer, in layer order). Padded keys get
   * exactly 0 from both (ORT's additive mask of -3.4e38 underflows exp to 0).
   */
  @Test
  void attentionWeightsPerHeadMatchOrt() throws Exception {
    int layer = 4;
    OnnxGraph g =
        OnnxGraph.read(new java.io.ByteArrayInputStream(resourceBytes(MiniLm.MODEL_RESOURCE)));
    List<String> softmaxes = new ArrayList<>();
    for (NodeProto n : g.nodes())
      if (n.getOpType().equals("Softmax")) softmaxes.add(n.getOutput(0));
    assertEquals(6, softmaxes.size());
    ModelProto.Builder m = g.model().toBuilder();
    m.getGraphBuilder()
        .addOutput(
            ValueInfoProto.newBuilder()
                .setName(softmaxes.get(layer))
                .setType(
                    TypeProto.newBuilder()
                        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(1))));
    MiniLm.Tokens t =
        model.tokenize(List.of(sentences.get(20), sentences.get(2), sentences.get(0)));
    float[][][][] want;
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        OrtSession s = env.createSession(m.build().toByteArray(), so);
        OrtSession.Result r = run(s, t)) {
      want = (float[][][][]) r.get(softmaxes.get(layer)).orElseThrow().getValue();
    }

    float[] plain = model.forward(t).embeddings().toArray();
    MiniLm.Output o = model.forward(t, layer);
    // Asking for weights changes nothing else. Not bit for bit: until the JIT has compiled the
    // kernels, vector reductions may round in another order (a few ulp).
    assertArrayEquals(plain, o.embeddings().toArray(), 1e-6f);
    Tensor w = o.attention();
    int s = t.length();
    assertArrayEquals(new long[] {3, 12, s, s}, w.shape());
    double worst = 0;
    for (int b = 0; b < 3; b++) {
      for (int h = 0; h < 12; h++) {
        // Rows of real queries; a padded query's row is as meaningless as its hidden state.
        for (int i = 0; i < t.lengths()[b]; i++) {
          double sum = 0;
          for (int j = 0; j < s; j++) {
            float p = w.get(b, h, i, j);
            if (j >= t.lengths()[b]) assertEquals(0f, p, "padded key " + j + " of text " + b);
            worst = Math.max(worst, Math.abs(p - want[b][h][i][j]));
            sum += p;
          }
          assertEquals(1.0, sum, 1e-5, "row " + i + " of head " + h + " of text " + b);
        }
      }
    }
    System.out.printf("MiniLM attention weights of layer %d: max |w - ORT| %.3g%n", layer, worst);
    // Probabilities in [0, 1]; 1e-5 absolute, as for the hidden states one LayerNorm earlier.
    assertTrue(worst <= 1e-5, "attention weights differ from ORT's by " + worst);
    assertEquals(null, model.forward(t).attention());
  }

  @Test
  void embedSplitsLongListsIntoBatches() {
    // 33 texts: two forward passes, the second of one text.
    List<String> texts = new ArrayList<>(sentences.subList(0, 33));
    float[][] all = model.embed(texts);
    assertEquals(33, all.length);
    assertArrayEquals(model.embed(List.of(texts.get(32)))[0], all[32], 1e-6f);
    assertEquals(0, model.embed(List.of()).length);
  }

  @Test
  void badSettingsAreRefusedWhenLoading() throws Exception {
    OnnxGraph g =
        OnnxGraph.read(new java.io.ByteArrayInputStream(resourceBytes(MiniLm.MODEL_RESOURCE)));
    byte[] tok = resourceBytes(MiniLm.TOKENIZER_RESOURCE);
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> MiniLm.load(backend, g, new java.io.ByteArrayInputStream(tok), 513, 12));
    assertEquals(
        "maxTokens: must be in [2, 512] (the position table's rows), got 513", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> MiniLm.load(backend, g, new java.io.ByteArrayInputStream(tok), 128, 5));
    assertEquals("heads: must divide the hidden size 384, got 5", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> MiniLm.load(null, g, new java.io.ByteArrayInputStream(tok), 128, 12));
    assertEquals("backend: must not be null", e.getMessage());
  }

  @Test
  void badInputIsRefusedWithItsName() {
    var e = assertThrows(IllegalArgumentException.class, () -> model.tokenize(List.of()));
    assertEquals("texts: must not be empty", e.getMessage());
    List<String> withNull = new ArrayList<>(List.of("a", "b"));
    withNull.set(1, null);
    e = assertThrows(IllegalArgumentException.class, () -> model.tokenize(withNull));
    assertEquals("texts[1]: must not be null", e.getMessage());
    MiniLm.Tokens ok = model.tokenize(List.of("Hello world"));
    e = assertThrows(IllegalArgumentException.class, () -> model.forward(ok, 6));
    assertEquals("attentionLayer: must be -1 (none) or in [0, 6), got 6", e.getMessage());
    MiniLm.Tokens badLength =
        new MiniLm.Tokens(1, 4, ok.ids(), ok.typeIds(), new int[] {5}, ok.tokens());
    e = assertThrows(IllegalArgumentException.class, () -> model.forward(badLength));
    assertEquals("tokens.lengths[0] = 5 must be in [1, 4]", e.getMessage());
    MiniLm.Tokens badType =
        new MiniLm.Tokens(1, 4, ok.ids(), new int[] {0, 0, 2, 0}, ok.lengths(), ok.tokens());
    e = assertThrows(IllegalArgumentException.class, () -> model.forward(badType));
    assertEquals("tokens.typeIds[2]: must be in [0, 2), got 2", e.getMessage());
    MiniLm.Tokens badId =
        new MiniLm.Tokens(1, 4, new int[] {101, 30522, 1, 102}, ok.typeIds(), ok.lengths(), null);
    e = assertThrows(IllegalArgumentException.class, () -> model.forward(badId));
    assertEquals("tokens.ids[1]: must be in [0, 30522), got 30522", e.getMessage());
    MiniLm.Tokens short_ =
        new MiniLm.Tokens(2, 4, ok.ids(), ok.typeIds(), new int[] {4, 4}, ok.tokens());
    e = assertThrows(IllegalArgumentException.class, () -> model.forward(short_));
    assertEquals("tokens.ids: must hold batch·length = 8 ids, got 4", e.getMessage());
  }
}
