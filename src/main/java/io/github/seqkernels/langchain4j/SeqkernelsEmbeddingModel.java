package io.github.seqkernels.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;
import io.github.seqkernels.Backend;
import io.github.seqkernels.models.MiniLm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A LangChain4j {@link EmbeddingModel} that computes all-MiniLM-L6-v2 embeddings with seqkernels
 * ({@link MiniLm}): a drop-in for LangChain4j's {@code AllMiniLmL6V2EmbeddingModel}, same weights
 * and tokenizer, 384 dims, unit norm.
 *
 * <pre>{@code
 * try (SeqkernelsEmbeddingModel model = new SeqkernelsEmbeddingModel()) {
 *   Embedding e = model.embed("The cat sat on the mat.").content();
 * }
 * }</pre>
 *
 * <p>{@link #embedAll} sorts the texts by length and runs them in batches of {@link #batchSize()},
 * so that texts padded together are of similar length, then returns the embeddings in the order
 * given. The token usage counts each text's WordPiece tokens without [CLS] and [SEP], as
 * LangChain4j's model does.
 *
 * <p>One difference from {@code AllMiniLmL6V2EmbeddingModel}: a text longer than the model's token
 * limit (256 by default, sentence-transformers' max_seq_length for this model) is truncated there;
 * LangChain4j's model instead embeds up to 510 tokens and averages longer texts over 510-token
 * parts. Texts within the limit get the same embedding from both.
 *
 * <p>Thread-safe: calls share one model and run one batch at a time.
 */
public final class SeqkernelsEmbeddingModel implements EmbeddingModel, AutoCloseable {
  /** Texts per forward pass by default. */
  public static final int DEFAULT_BATCH_SIZE = 32;

  private final MiniLm model;
  private final Backend ownedBackend;
  private final boolean ownsModel;
  private final int batchSize;

  /** The model on a CPU backend with one thread per core; {@link #close()} frees both. */
  public SeqkernelsEmbeddingModel() {
    this(Runtime.getRuntime().availableProcessors());
  }

  /** The model on a CPU backend with {@code threads} threads; {@link #close()} frees both. */
  public SeqkernelsEmbeddingModel(int threads) {
    Backend be = Backend.create("cpu", threads);
    try {
      this.model = MiniLm.load(be);
    } catch (IOException e) {
      be.close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      be.close();
      throw e;
    }
    this.ownedBackend = be;
    this.ownsModel = true;
    this.batchSize = DEFAULT_BATCH_SIZE;
  }

  /**
   * Over a model the caller made and keeps ({@link #close()} leaves it and its backend open), with
   * {@code batchSize} texts per forward pass.
   */
  public SeqkernelsEmbeddingModel(MiniLm model, int batchSize) {
    if (model == null) throw new IllegalArgumentException("model: must not be null");
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize: must be >= 1, got " + batchSize);
    }
    this.model = model;
    this.ownedBackend = null;
    this.ownsModel = false;
    this.batchSize = batchSize;
  }

  public int batchSize() {
    return batchSize;
  }

  public MiniLm miniLm() {
    return model;
  }

  @Override
  public Response<List<Embedding>> embedAll(List<TextSegment> segments) {
    if (segments == null) throw new IllegalArgumentException("segments: must not be null");
    int n = segments.size();
    String[] texts = new String[n];
    for (int i = 0; i < n; i++) {
      TextSegment s = segments.get(i);
      if (s == null) throw new IllegalArgumentException("segments[" + i + "]: must not be null");
      texts[i] = s.text();
    }
    // Shortest first, so each batch pads to about its own length.
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) order[i] = i;
    Arrays.sort(order, Comparator.comparingInt(i -> texts[i].length()));

    Embedding[] out = new Embedding[n];
    long tokens = 0;
    for (int from = 0; from < n; from += batchSize) {
      int to = Math.min(n, from + batchSize);
      List<String> batch = new ArrayList<>(to - from);
      for (int j = from; j < to; j++) batch.add(texts[order[j]]);
      int e = model.hiddenSize();
      // One lock across forward and the copy: the output views the model's workspace, which the
      // next call (from any thread) overwrites.
      synchronized (model) {
        MiniLm.Tokens t = model.tokenize(batch);
        float[] flat = model.forward(t).embeddings().toArray();
        for (int j = from; j < to; j++) {
          int b = j - from;
          out[order[j]] = Embedding.from(Arrays.copyOfRange(flat, b * e, (b + 1) * e));
          tokens += t.lengths()[b] - 2;
        }
      }
    }
    return Response.from(List.of(out), new TokenUsage(Math.toIntExact(tokens)));
  }

  @Override
  public int dimension() {
    return model.hiddenSize();
  }

  @Override
  public String modelName() {
    return "all-minilm-l6-v2 (seqkernels)";
  }

  /** Frees the model and backend this instance made; one given by the caller stays open. */
  @Override
  public void close() {
    if (ownsModel) model.close();
    if (ownedBackend != null) ownedBackend.close();
  }
}
