package io.github.seqkernels.cuda;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import com.google.gson.GsonBuilder;
import io.github.seqkernels.AttentionOptions;
import io.github.seqkernels.Backend;
import io.github.seqkernels.Causal;
import io.github.seqkernels.GemmOptions;
import io.github.seqkernels.RecurrentInputs;
import io.github.seqkernels.RecurrentOptions;
import io.github.seqkernels.RecurrentOutputs;
import io.github.seqkernels.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * The program behind {@code ci/gpu-check}: runs the CUDA backend's suites (the backend chosen by
 * {@code -Dseqkernels.test.backend}, {@code cuda} on a GPU machine) through the JUnit launcher,
 * then a short benchmark that checks each result against the CPU backend before timing it, and
 * writes a JSON summary. The summary names the GEMM engine (cuBLAS, or gemm_f32 and why); under
 * cuBLAS the suites of the operators that run products run a second time on gemm_f32. Usage: {@code
 * GpuCheck OUT.json}.
 */
public final class GpuCheck {
  private static final String[] SUITES = {
    "io.github.seqkernels.cuda.CudaLoadingTest",
    "io.github.seqkernels.cuda.CublasProbeTest",
    "io.github.seqkernels.SoftmaxTest",
    "io.github.seqkernels.AttentionCasesTest",
    "io.github.seqkernels.AttentionGridTest",
    "io.github.seqkernels.GemmTest",
    "io.github.seqkernels.MatMulTest",
    "io.github.seqkernels.LayerNormTest",
    "io.github.seqkernels.EmbeddingTest",
    "io.github.seqkernels.ElementwiseTest",
    "io.github.seqkernels.LinearTest",
    "io.github.seqkernels.Conv1dTest",
    "io.github.seqkernels.RecurrentCasesTest",
    "io.github.seqkernels.RecurrentGridTest",
    "io.github.seqkernels.RecurrentCellTest",
    "io.github.seqkernels.ValidationTest",
    "io.github.seqkernels.LayerValidationTest",
    "io.github.seqkernels.DeviceOperatorsTest",
  };

  /** The suites of the operators that run matrix products: run again on gemm_f32 under cuBLAS. */
  private static final String[] PRODUCT_SUITES = {
    "io.github.seqkernels.GemmTest",
    "io.github.seqkernels.MatMulTest",
    "io.github.seqkernels.LinearTest",
    "io.github.seqkernels.RecurrentCasesTest",
    "io.github.seqkernels.RecurrentGridTest",
    "io.github.seqkernels.DeviceOperatorsTest",
  };

  /** One suite's counts, one benchmark row, and the whole summary: the JSON file's records. */
  record Suite(String suite, long tests, long failed, double seconds) {}

  record Timing(String what, double ms, double gflops) {}

  record Summary(
      String backend,
      String gemmEngine,
      List<Suite> suites,
      long failures,
      List<Timing> benchmark) {}

  private GpuCheck() {}

  public static void main(String[] args) throws IOException, ClassNotFoundException {
    Path out = Path.of(args.length > 0 ? args[0] : "gpu-check.json");
    String backendName = System.getProperty("seqkernels.test.backend", "cuda");
    String engine = gemmEngine(backendName);
    System.out.println("GEMM engine: " + engine);
    List<Suite> suites = new ArrayList<>();
    Launcher launcher = LauncherFactory.create();
    for (String suite : SUITES) suites.add(run(launcher, suite, ""));
    if (!engine.startsWith("own ")) {
      // The suites above ran their products on cuBLAS: the own kernel gets its turn too.
      System.setProperty(Cublas.PROPERTY, "own");
      try {
        for (String suite : PRODUCT_SUITES) suites.add(run(launcher, suite, " [own gemm_f32]"));
      } finally {
        System.clearProperty(Cublas.PROPERTY);
      }
    }
    long failures = suites.stream().mapToLong(Suite::failed).sum();
    Summary summary = new Summary(backendName, engine, suites, failures, benchmark(backendName));
    Files.writeString(out, new GsonBuilder().setPrettyPrinting().create().toJson(summary) + "\n");
    System.out.println(
        (failures == 0 ? "PASS" : "FAIL")
            + ": "
            + failures
            + " failures; GEMMs on "
            + engine
            + "; "
            + out);
    System.exit(failures == 0 ? 0 : 1);
  }

  /** What the backend under test runs its products on, or why it did not open. */
  private static String gemmEngine(String backendName) {
    try (CudaBackend be = open(backendName)) {
      return be.gemmEngine();
    } catch (RuntimeException e) {
      return "unknown: the backend did not open: " + e.getMessage();
    }
  }

  private static CudaBackend open(String backendName) {
    return backendName.equals("cuda") ? CudaBackend.open() : CudaBackend.emulated();
  }

  /** Runs one suite through the JUnit launcher and prints its line; label tells reruns apart. */
  private static Suite run(Launcher launcher, String suite, String label)
      throws ClassNotFoundException {
    LauncherDiscoveryRequest request =
        LauncherDiscoveryRequestBuilder.request()
            .selectors(selectClass(Class.forName(suite)))
            .build();
    SummaryGeneratingListener listener = new SummaryGeneratingListener();
    long t0 = System.nanoTime();
    launcher.execute(request, listener);
    TestExecutionSummary s = listener.getSummary();
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.printf(
        Locale.ROOT,
        "%-45s %5d tests %4d failed %7.1f s%n",
        suite.substring(suite.lastIndexOf('.') + 1) + label,
        s.getTestsFoundCount(),
        s.getTotalFailureCount(),
        secs);
    if (s.getTotalFailureCount() > 0) s.printFailuresTo(new PrintWriter(System.out), 5);
    return new Suite(suite + label, s.getTestsFoundCount(), s.getTotalFailureCount(), secs);
  }

  /** Attention and GEMM timings on host tensors (copies included), each checked first. */
  private static List<Timing> benchmark(String backendName) {
    List<Timing> rows = new ArrayList<>();
    try (CudaBackend be = open(backendName);
        Backend cpu = Backend.create("cpu")) {
      boolean real = backendName.equals("cuda");
      int s = real ? 1024 : 128, h = 8, d = 64;
      Random r = new Random(1);
      Tensor q = random(r, 1, h, s, d), k = random(r, 1, h, s, d), v = random(r, 1, h, s, d);
      Tensor o1 = Tensor.allocate(1, h, s, d), o2 = Tensor.allocate(1, h, s, d);
      AttentionOptions opt = AttentionOptions.defaults().withCausal(Causal.TOP_LEFT);
      be.attention().forward(q, k, v, opt, o1);
      cpu.attention().forward(q, k, v, opt, o2);
      requireClose("attention", o1.toArray(), o2.toArray());
      double flops = 2.0 * 2 * h * (double) s * s * d / 2;
      rows.add(
          time(
              "attention B1 H8 S" + s + " D64 causal",
              flops,
              () -> be.attention().forward(q, k, v, opt, o1)));
      int n = real ? 1024 : 128;
      Tensor a = random(r, n, n), b = random(r, n, n), y1 = Tensor.allocate(n, n);
      Tensor y2 = Tensor.allocate(n, n);
      be.gemm().forward(a, b, null, GemmOptions.defaults(), y1);
      cpu.gemm().forward(a, b, null, GemmOptions.defaults(), y2);
      requireClose("gemm", y1.toArray(), y2.toArray());
      rows.add(
          time(
              "sgemm " + n + "^3 (" + engineName(be) + ")",
              2.0 * n * n * n,
              () -> be.gemm().forward(a, b, y1)));
      if (!be.gemmEngine().startsWith("own ")) {
        System.setProperty(Cublas.PROPERTY, "own");
        try (CudaBackend own = open(backendName)) {
          own.gemm().forward(a, b, null, GemmOptions.defaults(), y1);
          requireClose("gemm own", y1.toArray(), y2.toArray());
          rows.add(
              time(
                  "sgemm " + n + "^3 (own gemm_f32)",
                  2.0 * n * n * n,
                  () -> own.gemm().forward(a, b, y1)));
        } finally {
          System.clearProperty(Cublas.PROPERTY);
        }
      }

      // Attention-style batch: one strided-batched call on cuBLAS, a launch per entry on gemm_f32.
      int bh = 16, sq = real ? 512 : 64, dh = 64;
      Tensor qa = random(r, bh, sq, dh), kb = random(r, bh, dh, sq);
      Tensor s1 = Tensor.allocate(bh, sq, sq), s2 = Tensor.allocate(bh, sq, sq);
      be.matmul().forward(qa, kb, s1);
      cpu.matmul().forward(qa, kb, s2);
      requireClose("matmul", s1.toArray(), s2.toArray());
      rows.add(
          time(
              "matmul " + bh + " x [" + sq + ", 64]·[64, " + sq + "] (" + engineName(be) + ")",
              2.0 * bh * sq * sq * dh,
              () -> be.matmul().forward(qa, kb, s1)));

      // LSTM: the per-step launches (product + fused gates) dominate at small batches.
      int ss = real ? 100 : 8, bb = real ? 16 : 4, ii = real ? 256 : 32, hh = real ? 512 : 32;
      Tensor x = random(r, ss, bb, ii), w = random(r, 1, 4 * hh, ii), rr = random(r, 1, 4 * hh, hh);
      scale(w, 0.05f);
      scale(rr, 0.05f);
      RecurrentInputs in = RecurrentInputs.of(x, w, rr);
      RecurrentOptions ro = RecurrentOptions.of(hh);
      Tensor ly1 = Tensor.allocate(ss, 1, bb, hh), ly2 = Tensor.allocate(ss, 1, bb, hh);
      RecurrentOutputs out1 = new RecurrentOutputs(ly1, null, null);
      be.lstm().forward(in, ro, out1);
      cpu.lstm().forward(in, ro, new RecurrentOutputs(ly2, null, null));
      requireClose("lstm", ly1.toArray(), ly2.toArray());
      rows.add(
          time(
              "lstm S" + ss + " B" + bb + " I" + ii + " H" + hh,
              2.0 * ss * bb * 4 * hh * (ii + hh),
              () -> be.lstm().forward(in, ro, out1)));
    }
    return rows;
  }

  /** The engine's first word or two: "cuBLAS 12.6.4", "own gemm_f32". */
  private static String engineName(CudaBackend be) {
    String e = be.gemmEngine();
    int paren = e.indexOf(" (");
    return paren < 0 ? e : e.substring(0, paren);
  }

  private static Timing time(String what, double flops, Runnable call) {
    call.run();
    int reps = 5;
    long t0 = System.nanoTime();
    for (int i = 0; i < reps; i++) call.run();
    double ms = (System.nanoTime() - t0) / 1e6 / reps;
    System.out.printf(Locale.ROOT, "%-40s %9.2f ms %8.1f GFLOP/s%n", what, ms, flops / ms / 1e6);
    return new Timing(what, ms, flops / ms / 1e6);
  }

  private static void scale(Tensor t, float f) {
    for (long i = 0; i < t.numel(); i++) t.setFlat(i, t.getFlat(i) * f);
  }

  private static Tensor random(Random r, long... shape) {
    Tensor t = Tensor.allocate(shape);
    for (long i = 0; i < t.numel(); i++) t.setFlat(i, (float) r.nextGaussian());
    return t;
  }

  private static void requireClose(String what, float[] x, float[] y) {
    for (int i = 0; i < x.length; i++) {
      if (!(Math.abs(x[i] - y[i]) <= 1e-3 + 1e-3 * Math.abs(y[i]))) {
        throw new IllegalStateException(what + ": element " + i + " is " + x[i] + ", cpu " + y[i]);
      }
    }
  }
}
