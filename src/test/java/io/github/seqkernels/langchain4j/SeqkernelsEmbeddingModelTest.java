package io.github.seqkernels.langchain4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.output.Response;
import io.github.seqkernels.Backend;
import io.github.seqkernels.models.MiniLm;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The plug-in against LangChain4j's own AllMiniLmL6V2EmbeddingModel (ONNX Runtime underneath) on
 * the same texts: cosine >= 0.99999 for each (both are float32 runs of the same weights; they
 * differ by summation order only, about 1e-12 in 1 - cosine).
 */
class SeqkernelsEmbeddingModelTest {
  static final double MIN_COSINE = 0.99999;

  static SeqkernelsEmbeddingModel model;
  static List<String> sentences;

  @BeforeAll
  static void open() throws IOException {
    model = new SeqkernelsEmbeddingModel(2);
    try (InputStream in =
        SeqkernelsEmbeddingModelTest.class
            .getClassLoader()
            .getResourceAsStream("text/sentences.txt")) {
      sentences = new ArrayList<>();
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank() && !line.startsWith("#")) sentences.add(line.strip());
      }
    }
  }

  @AfterAll
  static void close() {
    model.close();
  }

  static List<TextSegment> segments(List<String> texts) {
    return texts.stream().map(TextSegment::from).toList();
  }

  static double cosine(float[] a, float[] b) {
    double dot = 0, na = 0, nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }

  @Test
  void matchesLangChain4jsOwnModel() {
    EmbeddingModel theirs = new AllMiniLmL6V2EmbeddingModel();
    Response<List<Embedding>> want = theirs.embedAll(segments(sentences));
    Response<List<Embedding>> got = model.embedAll(segments(sentences));
    assertEquals(sentences.size(), got.content().size());
    double worst = 1;
    int at = -1;
    for (int i = 0; i < sentences.size(); i++) {
      double c = cosine(want.content().get(i).vector(), got.content().get(i).vector());
      if (!(c >= worst)) {
        worst = c;
        at = i;
      }
    }
    System.out.printf(
        "SeqkernelsEmbeddingModel vs AllMiniLmL6V2EmbeddingModel: %d texts, min cosine 1 - %.3g"
            + " (text %d)%n",
        sentences.size(), 1 - worst, at);
    assertTrue(
        worst >= MIN_COSINE, "cosine " + worst + " for text " + at + ": " + sentences.get(at));
    assertEquals(theirs.dimension(), model.dimension());
    // Both count the texts' own tokens, not [CLS] and [SEP].
    assertEquals(want.tokenUsage().inputTokenCount(), got.tokenUsage().inputTokenCount());
  }

  @Test
  void keepsTheOrderItWasGivenWhateverTheBatches() throws IOException {
    List<String> shuffled = new ArrayList<>(sentences);
    Collections.shuffle(shuffled, new Random(7));
    List<Embedding> all = model.embedAll(segments(shuffled)).content();
    try (Backend be = Backend.create("cpu", 2);
        MiniLm m = MiniLm.load(be);
        SeqkernelsEmbeddingModel small = new SeqkernelsEmbeddingModel(m, 3)) {
      assertSame(m, small.miniLm());
      List<Embedding> inThrees = small.embedAll(segments(shuffled)).content();
      for (int i = 0; i < shuffled.size(); i += 4) {
        float[] alone = m.embed(List.of(shuffled.get(i)))[0];
        assertTrue(cosine(alone, all.get(i).vector()) >= MIN_COSINE, "text " + i);
        assertTrue(cosine(alone, inThrees.get(i).vector()) >= MIN_COSINE, "text " + i);
      }
      // The caller's model stays open after the plug-in closes.
      small.close();
      assertEquals(384, m.embed(List.of("still open"))[0].length);
    }
  }

  @Test
  void singleTextAndRefusals() {
    float[] one = model.embed("The cat sat on the mat.").content().vector();
    assertEquals(384, one.length);
    assertArrayEquals(
        one,
        model.embedAll(segments(List.of("The cat sat on the mat."))).content().get(0).vector(),
        1e-6f);
    assertEquals(0, model.embedAll(List.of()).content().size());
    var e = assertThrows(IllegalArgumentException.class, () -> model.embedAll(null));
    assertEquals("segments: must not be null", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new SeqkernelsEmbeddingModel(null, 4));
    assertEquals("model: must not be null", e.getMessage());
  }
}
