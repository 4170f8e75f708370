package io.github.seqkernels.cli;

import io.github.seqkernels.Backend;
import io.github.seqkernels.demo.AttentionHeatmap;
import io.github.seqkernels.models.MiniLm;
import io.github.seqkernels.models.ModelFiles;
import io.github.seqkernels.models.OrtSileroVad;
import io.github.seqkernels.models.SileroVad;
import io.github.seqkernels.models.SpeechSegments;
import io.github.seqkernels.models.WavAudio;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.IntSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code seqkernels demo}: the two real models end to end on bundled input. MiniLM-L6 embeds a set
 * of sentences and answers nearest-neighbour queries, Silero VAD finds the speech in a recording,
 * both are compared with ONNX Runtime when it is on the class path (and timed next to it, same
 * input and threads), and one layer's attention weights for a classic sentence are drawn as a PNG.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Run MiniLM-L6 sentence embeddings and Silero VAD on bundled input with seqkernels,"
          + " check them against ONNX Runtime (when on the class path), time both, and draw"
          + " MiniLM's attention weights per head as a PNG.",
      "Exit code 1 when a check against ONNX Runtime fails."
    })
final class DemoCommand implements Callable<Integer> {
  static final String HEATMAP_SENTENCE =
      "The animal didn't cross the street because it was too tired";
  static final String RESOURCES = "/io/github/seqkernels/demo/";
  static final double MIN_COSINE = 0.99999;

  @Option(
      names = "--backend",
      defaultValue = "cpu",
      description = "cpu, cuda, cuda-emulator or auto (default: ${DEFAULT-VALUE})")
  String backend;

  @Option(
      names = "--threads",
      defaultValue = "2",
      description = "threads for seqkernels and ONNX Runtime alike (default: ${DEFAULT-VALUE})")
  int threads;

  @Option(
      names = "--layer",
      defaultValue = "2",
      description = "MiniLM layer (0-5) whose attention is drawn (default: ${DEFAULT-VALUE})")
  int layer;

  @Option(
      names = "--png",
      defaultValue = "out/attention.png",
      description = "where the heatmap goes (default: ${DEFAULT-VALUE})")
  Path png;

  @Option(
      names = "--vad-model",
      paramLabel = "PATH",
      description = "silero_vad_v5.onnx (default: the one ci/fetch-models put in the cache)")
  Path vadModel;

  @Option(
      names = "--repeat",
      defaultValue = "5",
      description = "timed repetitions per engine (default: ${DEFAULT-VALUE})")
  int repeat;

  @Option(names = "--no-check", description = "skip ONNX Runtime even when it is there")
  boolean noCheck;

  private long started;

  @Override
  public Integer call() throws IOException {
    if (threads < 1) throw new IllegalArgumentException("--threads: must be >= 1, got " + threads);
    if (repeat < 1) throw new IllegalArgumentException("--repeat: must be >= 1, got " + repeat);
    Path dir = png.toAbsolutePath().getParent();
    if (dir != null) Files.createDirectories(dir);
    boolean ort = !noCheck && EmbedCommand.ortAvailable();
    started = System.nanoTime();
    boolean ok = true;
    // The backend first: a --backend this machine cannot give fails before the models load.
    try (Backend be = Backend.create(backend, threads)) {
      Path vadFile = ModelFiles.find(vadModel, SileroVad.V5_FILE);
      System.out.println("backend: " + be.description());
      System.out.println(
          ort
              ? "reference: ONNX Runtime " + OrtReference.version() + ", " + threads + " threads"
              : "reference: ONNX Runtime is not on the class path; checks and its timings skipped");
      ok &= miniLm(be, ort);
      ok &= vad(be, vadFile, ort);
    }
    System.out.println(ok ? "demo: all checks passed" : "demo: a check FAILED (see above)");
    return ok ? 0 : 1;
  }

  private boolean miniLm(Backend be, boolean ort) throws IOException {
    progress("loading MiniLM-L6 (all-MiniLM-L6-v2) from the class path");
    List<String> sentences = lines("sentences.txt");
    List<String> queries = lines("queries.txt");
    boolean ok = true;
    try (MiniLm model = MiniLm.load(be)) {
      if (layer < 0 || layer >= model.layers()) {
        throw new IllegalArgumentException(
            "--layer: must be in [0, " + (model.layers() - 1) + "], got " + layer);
      }
      progress("embedding " + sentences.size() + " sentences and " + queries.size() + " queries");
      MiniLm.Tokens batch = model.tokenize(sentences);
      float[] emb = model.forward(batch).embeddings().toArray();
      float[][] q = model.embed(queries);
      int e = model.hiddenSize();
      System.out.println();
      System.out.println("Nearest sentences (cosine similarity):");
      for (int i = 0; i < queries.size(); i++) {
        System.out.println("  " + queries.get(i));
        Integer[] order = new Integer[sentences.size()];
        double[] sim = new double[sentences.size()];
        for (int s = 0; s < sentences.size(); s++) {
          order[s] = s;
          for (int c = 0; c < e; c++) sim[s] += (double) q[i][c] * emb[s * e + c];
        }
        Arrays.sort(order, (a, b) -> Double.compare(sim[b], sim[a]));
        for (int r = 0; r < 3; r++) {
          System.out.printf(Locale.ROOT, "    %.3f  %s%n", sim[order[r]], sentences.get(order[r]));
        }
      }
      System.out.println();

      OrtReference reference = null;
      try {
        if (ort) {
          progress("running the same batch on ONNX Runtime");
          reference = new OrtReference(threads);
          double[][] ref = reference.embeddings(batch);
          double worst = 1;
          for (int s = 0; s < sentences.size(); s++) {
            worst = Math.min(worst, cosine(ref[s], emb, s * e, e));
          }
          boolean pass = worst >= MIN_COSINE;
          ok &= pass;
          System.out.printf(
              Locale.ROOT,
              "check MiniLM vs ONNX Runtime: min cosine %.8f over %d sentences (need >= %s): %s%n",
              worst,
              sentences.size(),
              MIN_COSINE,
              pass ? "ok" : "FAIL");
        }
        progress("timing MiniLM at batch " + sentences.size());
        double ours =
            rate(
                () -> {
                  model.forward(batch);
                  return sentences.size();
                });
        String line =
            String.format(
                Locale.ROOT,
                "MiniLM batch %d (%d tokens max): seqkernels %.1f sentences/s",
                sentences.size(),
                batch.length(),
                ours);
        if (reference != null) {
          OrtReference r = reference;
          double theirs =
              rate(
                  () -> {
                    r.embeddings(batch);
                    return sentences.size();
                  });
          line +=
              String.format(
                  Locale.ROOT,
                  ", ONNX Runtime %.1f sentences/s, ratio %.2fx",
                  theirs,
                  ours / theirs);
        }
        System.out.println(line);
      } finally {
        if (reference != null) reference.close();
      }

      progress("drawing layer " + layer + "'s attention for \"" + HEATMAP_SENTENCE + "\"");
      MiniLm.Tokens one = model.tokenize(List.of(HEATMAP_SENTENCE));
      float[] w = model.forward(one, layer).attention().toArray();
      List<String> tokens = one.tokens().get(0);
      AttentionHeatmap.write(
          png,
          "MiniLM-L6 layer "
              + layer
              + ": attention weights per head (row: query token, column: key token;"
              + " colour scaled to each head's maximum)",
          tokens,
          w,
          model.heads());
      System.out.println("attention heatmap: " + png);
      int it = tokens.indexOf("it");
      if (it >= 0) {
        int s = tokens.size();
        List<String> tops = new ArrayList<>();
        for (int h = 0; h < model.heads(); h++) {
          // [CLS] and [SEP] soak up much of every row (a "no-op" target); name the word instead.
          int best = -1;
          for (int j = 1; j < s - 1; j++) {
            if (j != it && (best < 0 || w[(h * s + it) * s + j] > w[(h * s + it) * s + best])) {
              best = j;
            }
          }
          tops.add(h + ":" + tokens.get(best));
        }
        System.out.println("  the word 'it' attends to most, per head: " + String.join(" ", tops));
      }
    }
    return ok;
  }

  private boolean vad(Backend be, Path modelFile, boolean ort) throws IOException {
    progress("running Silero VAD v5 on the bundled recording");
    WavAudio audio = readBundledWav("speech_16k.wav");
    SileroVad vad = SileroVad.load(be, modelFile, audio.sampleRate());
    float[] p = vad.probabilities(audio.samples());
    List<SpeechSegments.Segment> segments =
        SpeechSegments.find(
            p,
            vad.chunkSamples(),
            audio.samples().length,
            audio.sampleRate(),
            SpeechSegments.Options.defaults());
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "Speech in the bundled recording (%.1f s, %d chunks of 32 ms):%n",
        audio.seconds(),
        p.length);
    for (SpeechSegments.Segment s : segments) {
      System.out.printf(
          Locale.ROOT, "  speech %6.2f - %6.2f s%n", s.startSeconds(), s.endSeconds());
    }
    boolean ok = true;
    int chunks = p.length;
    double ours =
        rate(
            () -> {
              vad.probabilities(audio.samples());
              return chunks;
            });
    String line = String.format(Locale.ROOT, "VAD: seqkernels %.0f chunks/s", ours);
    if (ort) {
      try (OrtSileroVad reference = new OrtSileroVad(modelFile, threads)) {
        float[] ref = reference.probabilities(audio.samples(), audio.sampleRate());
        double worst = 0;
        for (int i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i] - ref[i]));
        boolean pass = worst <= VadCommand.CHECK_TOLERANCE;
        ok = pass;
        System.out.printf(
            Locale.ROOT,
            "check VAD vs ONNX Runtime: max |difference| %.2e over %d chunks (need <= %s): %s%n",
            worst,
            p.length,
            VadCommand.CHECK_TOLERANCE,
            pass ? "ok" : "FAIL");
        double theirs =
            rate(
                () -> {
                  reference.probabilities(audio.samples(), audio.sampleRate());
                  return chunks;
                });
        line +=
            String.format(
                Locale.ROOT, ", ONNX Runtime %.0f chunks/s, ratio %.2fx", theirs, ours / theirs);
      }
    }
    System.out.println(line);
    return ok;
  }

  /** Items per second of {@code work} (which returns how many it did), after one warm-up run. */
  private double rate(IntSupplier work) {
    work.getAsInt();
    long items = 0, t0 = System.nanoTime();
    for (int i = 0; i < repeat; i++) items += work.getAsInt();
    return items / ((System.nanoTime() - t0) / 1e9);
  }

  private void progress(String what) {
    System.err.printf(Locale.ROOT, "[%5.1f s] %s ...%n", (System.nanoTime() - started) / 1e9, what);
  }

  private static double cosine(double[] a, float[] b, int off, int n) {
    double dot = 0, na = 0, nb = 0;
    for (int i = 0; i < n; i++) {
      dot += a[i] * b[off + i];
      na += a[i] * a[i];
      nb += (double) b[off + i] * b[off + i];
    }
    return dot / Math.sqrt(na * nb);
  }

  static List<String> lines(String name) throws IOException {
    List<String> out = new ArrayList<>();
    try (InputStream in = resource(name);
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String l; (l = r.readLine()) != null; ) {
        if (!l.isBlank() && !l.startsWith("#")) out.add(l.strip());
      }
    }
    return out;
  }

  private static WavAudio readBundledWav(String name) throws IOException {
    Path tmp = Files.createTempFile("seqkernels-demo-", ".wav");
    try (InputStream in = resource(name)) {
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      return WavAudio.read(tmp);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static InputStream resource(String name) {
    InputStream in = DemoCommand.class.getResourceAsStream(RESOURCES + name);
    if (in == null) throw new UncheckedIOException(new IOException("missing resource " + name));
    return in;
  }
}
