package io.github.seqkernels.cli;

import io.github.seqkernels.Backend;
import io.github.seqkernels.models.MiniLm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code seqkernels embed "text" ...}: all-MiniLM-L6-v2 sentence embeddings, one line per text on
 * stdout; {@code --out} writes them to an .npz, {@code --check} compares them with ONNX Runtime.
 */
@Command(
    name = "embed",
    mixinStandardHelpOptions = true,
    description = {
      "Sentence embeddings (all-MiniLM-L6-v2, 384 dims, unit norm) of each text: one line per "
          + "text with the first dims, the norm and the token count.",
      "--out writes embeddings [N, 384] (float32) to an .npz; --check compares with ONNX Runtime "
          + "(needs com.microsoft.onnxruntime:onnxruntime on the class path)."
    })
final class EmbedCommand implements Callable<Integer> {
  /** The cosine --check requires of every text (the tests' bar). */
  static final double CHECK_MIN_COSINE = 0.99999;

  @Parameters(arity = "1..*", paramLabel = "TEXT", description = "texts to embed")
  List<String> texts;

  @Option(names = "--out", description = "write the embeddings to this .npz (array: embeddings)")
  Path out;

  @Option(
      names = "--backend",
      defaultValue = "auto",
      description = "auto, cpu, cuda or cuda-emulator (default: ${DEFAULT-VALUE})")
  String backend;

  @Option(names = "--threads", description = "CPU threads (default: all cores)")
  Integer threads;

  @Option(
      names = "--dims",
      defaultValue = "4",
      description = "leading dims printed per text (default: ${DEFAULT-VALUE})")
  int dims;

  @Option(
      names = "--check",
      description = "compare with ONNX Runtime on the same tokens; exit 1 below cosine 0.99999")
  boolean check;

  /** Exit code 0, or 1 when --check finds a text below {@link #CHECK_MIN_COSINE}. */
  @Override
  public Integer call() {
    int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
    if (t < 1) throw new IllegalArgumentException("--threads: must be >= 1, got " + t);
    if (dims < 0) throw new IllegalArgumentException("--dims: must be >= 0, got " + dims);
    if (out != null) Npz.checkOutput(out);
    if (check && !ortAvailable()) {
      throw new IllegalArgumentException(
          "--check: ONNX Runtime is not on the class path (add"
              + " com.microsoft.onnxruntime:onnxruntime:1.22.0; ci/seqkernels adds it from the"
              + " local Maven repository when it is there)");
    }
    for (int i = 0; i < texts.size(); i++) {
      if (texts.get(i).isEmpty()) {
        throw new IllegalArgumentException("TEXT[" + i + "]: must not be empty");
      }
    }

    int n = texts.size();
    float[][] emb = new float[n][];
    int[] tokens = new int[n];
    double[] cosines = check ? new double[n] : null;
    try (Backend be = Backend.create(backend, t);
        MiniLm model = MiniLm.load(be);
        OrtReference ort = check ? new OrtReference() : null) {
      for (int from = 0; from < n; from += 32) {
        List<String> batch = texts.subList(from, Math.min(n, from + 32));
        MiniLm.Tokens tok = model.tokenize(batch);
        float[] flat = model.forward(tok).embeddings().toArray();
        int e = model.hiddenSize();
        for (int b = 0; b < batch.size(); b++) {
          emb[from + b] = Arrays.copyOfRange(flat, b * e, (b + 1) * e);
          tokens[from + b] = tok.lengths()[b];
        }
        if (ort != null) {
          double[][] ref = ort.embeddings(tok);
          for (int b = 0; b < batch.size(); b++) cosines[from + b] = cosine(ref[b], emb[from + b]);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }

    for (int i = 0; i < n; i++) System.out.println(line(i, emb[i], tokens[i], cosines));
    int code = 0;
    if (check) {
      double worst = 1;
      int at = 0;
      for (int i = 0; i < n; i++) {
        if (!(cosines[i] >= worst)) {
          worst = cosines[i];
          at = i;
        }
      }
      boolean failed = !(worst >= CHECK_MIN_COSINE);
      System.out.printf(
          Locale.ROOT,
          "check: ONNX Runtime %s, min cosine %.9f (text %d), %s%n",
          OrtReference.version(),
          worst,
          at,
          failed ? "FAIL (< " + CHECK_MIN_COSINE + ")" : "ok");
      if (failed) code = 1;
    }
    if (out != null) {
      int e = emb[0].length;
      float[] flat = new float[n * e];
      for (int i = 0; i < n; i++) System.arraycopy(emb[i], 0, flat, i * e, e);
      Npz.write(out, List.of(new Npz.Out("embeddings", flat, new long[] {n, e})));
    }
    return code;
  }

  private String line(int i, float[] v, int tokens, double[] cosines) {
    double norm = 0;
    for (float x : v) norm += (double) x * x;
    List<String> head = new ArrayList<>();
    for (int c = 0; c < Math.min(dims, v.length); c++) {
      head.add(String.format(Locale.ROOT, "%+.4f", v[c]));
    }
    String text = texts.get(i);
    String shown = text.length() > 60 ? text.substring(0, 57) + "..." : text;
    return String.format(
        Locale.ROOT,
        "%d\t[%s%s]\tnorm %.6f\ttokens %d%s\t%s",
        i,
        String.join(" ", head),
        dims < v.length ? " ..." : "",
        Math.sqrt(norm),
        tokens,
        cosines == null ? "" : String.format(Locale.ROOT, "\tcosine %.9f", cosines[i]),
        shown);
  }

  /** True when ONNX Runtime's classes are on the class path, so {@link OrtReference} works. */
  static boolean ortAvailable() {
    try {
      Class.forName("ai.onnxruntime.OrtEnvironment", false, EmbedCommand.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  static double cosine(double[] ref, float[] got) {
    double dot = 0, a = 0, b = 0;
    for (int c = 0; c < ref.length; c++) {
      dot += ref[c] * got[c];
      a += ref[c] * ref[c];
      b += (double) got[c] * got[c];
    }
    return dot / Math.sqrt(a * b);
  }
}
