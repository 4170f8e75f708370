package io.github.seqkernels.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.github.seqkernels.Backend;
import io.github.seqkernels.models.MiniLm;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * all-MiniLM-L6-v2 sentence embeddings, seqkernels ({@link MiniLm}) against ONNX Runtime Java on
 * the same .onnx file, the same 32 sentences (the demo's, 8 to 24 words) tokenised once into one
 * padded batch, and the same thread count (ORT: intra-op threads, one inter-op thread). Both sides
 * end with the mean-pooled, normalised embeddings, ORT's pooled in Java from its output buffer as
 * an ORT user would. Scores are sentences per second ({@link OperationsPerInvocation} = 32).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@OperationsPerInvocation(MiniLmBench.BATCH)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--add-modules",
      "jdk.incubator.vector",
      "--enable-native-access=ALL-UNNAMED",
      "--sun-misc-unsafe-memory-access=allow",
      "-Dslf4j.internal.verbosity=ERROR"
    })
public class MiniLmBench {
  static final int BATCH = 32;

  /** Both sides must agree this well before anything is timed (the library's test bar). */
  static final double MIN_COSINE = 0.99999;

  @Param("2")
  int threads;

  private Backend backend;
  private MiniLm model;
  private MiniLm.Tokens tokens;
  private OrtEnvironment env;
  private OrtSession ort;
  private long[] ids, mask, types;
  private final float[] ortOut = new float[BATCH * 384];

  @Setup(Level.Trial)
  public void setUp() throws IOException, OrtException {
    backend = Backend.create("cpu", threads);
    model = MiniLm.load(backend);
    List<String> texts = sentences();
    tokens = model.tokenize(texts);
    ids = new long[tokens.ids().length];
    types = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = tokens.ids()[i];
      types[i] = tokens.typeIds()[i];
    }
    mask = tokens.attentionMask();

    env = OrtEnvironment.getEnvironment();
    byte[] onnx;
    try (InputStream in = resource(MiniLm.MODEL_RESOURCE)) {
      onnx = in.readAllBytes();
    }
    OrtSession.SessionOptions so = new OrtSession.SessionOptions();
    so.setIntraOpNumThreads(threads);
    so.setInterOpNumThreads(1);
    ort = env.createSession(onnx, so);

    // Check before timing: every sentence's two embeddings agree.
    float[] ours = model.forward(tokens).embeddings().toArray();
    float[] theirs = onnxRuntime();
    for (int b = 0; b < BATCH; b++) {
      double dot = 0, na = 0, nb = 0;
      for (int c = 0; c < 384; c++) {
        double x = ours[b * 384 + c], y = theirs[b * 384 + c];
        dot += x * y;
        na += x * x;
        nb += y * y;
      }
      double cos = dot / Math.sqrt(na * nb);
      if (!(cos >= MIN_COSINE)) {
        throw new IllegalStateException(
            "sentence " + b + ": cosine " + cos + " with ONNX Runtime, below " + MIN_COSINE);
      }
    }
    System.out.println(
        "MiniLmBench: B=" + tokens.batch() + " S=" + tokens.length() + ", " + model.description());
  }

  private static InputStream resource(String name) {
    InputStream in = MiniLmBench.class.getClassLoader().getResourceAsStream(name);
    if (in == null) throw new IllegalStateException(name + " is not on the class path");
    return in;
  }

  /** The demo's sentences (the library jar carries them); the first 32. */
  private static List<String> sentences() throws IOException {
    List<String> out = new ArrayList<>();
    try (InputStream in = resource("io/github/seqkernels/demo/sentences.txt")) {
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank() && !line.startsWith("#") && out.size() < BATCH) out.add(line.strip());
      }
    }
    if (out.size() != BATCH) {
      throw new IllegalStateException("demo/sentences.txt: need " + BATCH + ", got " + out.size());
    }
    return out;
  }

  @Benchmark
  public Object seqkernels() {
    return model.forward(tokens).embeddings();
  }

  @Benchmark
  public float[] onnxRuntime() throws OrtException {
    long[] shape = {tokens.batch(), tokens.length()};
    int s = tokens.length();
    try (OnnxTensor a = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
        OnnxTensor m = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
        OnnxTensor y = OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape);
        OrtSession.Result r =
            ort.run(Map.of("input_ids", a, "attention_mask", m, "token_type_ids", y))) {
      FloatBuffer h = ((OnnxTensor) r.get(0)).getFloatBuffer();
      // Sum over each sentence's tokens (the mean's 1/n cancels in the normalisation), then L2.
      java.util.Arrays.fill(ortOut, 0f);
      for (int b = 0; b < BATCH; b++) {
        int n = tokens.lengths()[b];
        for (int j = 0; j < n; j++) {
          int row = (b * s + j) * 384;
          for (int c = 0; c < 384; c++) ortOut[b * 384 + c] += h.get(row + c);
        }
        double norm = 0;
        for (int c = 0; c < 384; c++) norm += (double) ortOut[b * 384 + c] * ortOut[b * 384 + c];
        float inv = (float) (1 / Math.max(Math.sqrt(norm), 1e-12));
        for (int c = 0; c < 384; c++) ortOut[b * 384 + c] *= inv;
      }
    }
    return ortOut;
  }

  @TearDown(Level.Trial)
  public void tearDown() throws OrtException {
    ort.close();
    model.close();
    backend.close();
  }
}
