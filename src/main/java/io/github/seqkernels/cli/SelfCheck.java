package io.github.seqkernels.cli;

import io.github.seqkernels.Activation;
import io.github.seqkernels.AttentionOptions;
import io.github.seqkernels.Backend;
import io.github.seqkernels.Causal;
import io.github.seqkernels.Conv1dOptions;
import io.github.seqkernels.Direction;
import io.github.seqkernels.GemmOptions;
import io.github.seqkernels.Mask;
import io.github.seqkernels.RecurrentInputs;
import io.github.seqkernels.RecurrentOp;
import io.github.seqkernels.RecurrentOptions;
import io.github.seqkernels.RecurrentOutputs;
import io.github.seqkernels.SoftmaxOptions;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.RecurrentShape.Kind;
import io.github.seqkernels.reference.ScalarGemm;
import io.github.seqkernels.reference.ScalarRecurrent;
import io.github.seqkernels.reference.ScalarReference;
import io.github.seqkernels.reference.ScalarTransformer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The main job for now: every operator and mode on built-in seeded inputs, compared with the
 * float64 control and timed, printed as one table. Exit code 1 when any row is out of tolerance.
 */
@Command(
    name = "selfcheck",
    mixinStandardHelpOptions = true,
    description =
        "Run every operator on built-in inputs, compare with the float64 control, and "
            + "print error and throughput.")
final class SelfCheck implements Callable<Integer> {
  @Option(
      names = "--backend",
      defaultValue = "auto",
      description = "auto, cpu, cuda or cuda-emulator (default: ${DEFAULT-VALUE})")
  String backend;

  @Option(names = "--threads", description = "CPU threads (default: all cores)")
  Integer threads;

  @Option(names = "--seed", defaultValue = "20261203", description = "input seed")
  long seed;

  // The tests' tolerance: |a - ref| <= 1e-5 + 1e-4·|ref|.
  private static final double ATOL = 1e-5, RTOL = 1e-4;

  private record Row(
      String op, String shape, double maxAbs, double ofTol, boolean ok, double ms, String rate) {}

  @Override
  public Integer call() {
    int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
    if (t < 1) throw new IllegalArgumentException("--threads: must be >= 1, got " + t);
    List<Row> rows = new ArrayList<>();
    try (Backend be = Backend.create(backend, t)) {
      System.out.println("seqkernels selfcheck on " + be.description() + ", seed " + seed);
      Random r = new Random(seed);
      rows.add(softmax(be, r, 4096, 1000, false));
      rows.add(softmax(be, r, 2048, 129, true));
      AttentionOptions d = AttentionOptions.defaults();
      rows.add(attention(be, r, "attention", 2, 8, 8, 256, 256, 64, 64, d, false));
      rows.add(
          attention(
              be,
              r,
              "attention causal top-left",
              2,
              8,
              8,
              200,
              333,
              64,
              64,
              d.withCausal(Causal.TOP_LEFT),
              false));
      rows.add(
          attention(
              be,
              r,
              "attention causal bottom-right",
              2,
              8,
              8,
              97,
              300,
              80,
              80,
              d.withCausal(Causal.BOTTOM_RIGHT),
              false));
      rows.add(
          attention(be, r, "attention grouped-query 8/2", 2, 8, 2, 256, 256, 128, 128, d, false));
      rows.add(
          attention(
              be,
              r,
              "attention key lengths + keep-mask",
              2,
              4,
              4,
              130,
              257,
              64,
              48,
              d.withKeyLengths(257, 100).withMask(randomKeep(r, 130, 257)),
              false));
      rows.add(
          attention(
              be,
              r,
              "attention bias [H,1,Sk] + block-mask",
              1,
              4,
              4,
              64,
              1025,
              32,
              32,
              d.withBias(Tensor.wrap(gaussian(r, 4 * 1025, 2), 4, 1, 1025))
                  .withMask(randomBlock(r, 1025)),
              false));
      rows.add(attention(be, r, "attention [B,S,H,D] layout", 2, 8, 8, 256, 256, 64, 64, d, true));
      rows.add(
          attention(be, r, "attention hard", 2, 4, 4, 64, 200, 32, 32, d.withHard(true), false));
      rows.add(
          attention(be, r, "attention B1 H8 S1024 D64", 1, 8, 8, 1024, 1024, 64, 64, d, false));
      rows.add(
          attention(
              be,
              r,
              "attention B1 H8 S1024 D64 causal",
              1,
              8,
              8,
              1024,
              1024,
              64,
              64,
              d.withCausal(Causal.TOP_LEFT),
              false));
      rows.add(
          recurrent(
              be,
              r,
              Kind.LSTM,
              "lstm bidirectional, lengths, peepholes",
              30,
              8,
              64,
              96,
              RecurrentOptions.of(96).withDirection(Direction.BIDIRECTIONAL),
              true));
      rows.add(
          recurrent(
              be,
              r,
              Kind.LSTM,
              "lstm S20 B16 I256 H512",
              20,
              16,
              256,
              512,
              RecurrentOptions.of(512),
              false));
      rows.add(
          recurrent(
              be,
              r,
              Kind.GRU,
              "gru linear_before_reset=0, clip",
              30,
              8,
              64,
              96,
              RecurrentOptions.of(96).withClip(2f),
              true));
      rows.add(
          recurrent(
              be,
              r,
              Kind.GRU,
              "gru linear_before_reset=1, reverse",
              30,
              8,
              64,
              96,
              RecurrentOptions.of(96).withLinearBeforeReset(true).withDirection(Direction.REVERSE),
              false));
      rows.add(
          recurrent(
              be,
              r,
              Kind.RNN,
              "rnn relu",
              30,
              8,
              64,
              96,
              RecurrentOptions.of(96).withActivations(List.of(Activation.of("Relu"))),
              false));
      rows.add(gemm(be, r, 257, 130, 512));
      rows.add(matmul(be, r));
      rows.add(linear(be, r, null));
      rows.add(linear(be, r, Activation.of("Gelu")));
      rows.add(layerNorm(be, r));
      rows.add(gelu(be, r, Activation.of("Gelu")));
      rows.add(gelu(be, r, Activation.of("GeluTanh")));
      rows.add(
          conv1d(
              be,
              r,
              "conv1d STFT (Silero VAD)",
              1,
              1,
              258,
              640,
              256,
              new Conv1dOptions(128, 0, 0, 1, 1)));
      rows.add(
          conv1d(
              be,
              r,
              "conv1d k3 pad 1 + bias",
              4,
              129,
              128,
              500,
              3,
              new Conv1dOptions(1, 1, 1, 1, 1)));
      rows.add(
          conv1d(
              be,
              r,
              "conv1d stride 2, dilation 2, groups 4",
              2,
              64,
              64,
              301,
              5,
              new Conv1dOptions(2, 3, 1, 2, 4)));
      rows.add(embedding(be, r));
    }
    print(rows);
    long failed = rows.stream().filter(x -> !x.ok).count();
    System.out.println(
        failed == 0
            ? "all "
                + rows.size()
                + " checks within tolerance (1e-5 + 1e-4·|ref|; products: the"
                + " k-term rounding bound)"
            : failed + " of " + rows.size() + " checks FAILED");
    return failed == 0 ? 0 : 1;
  }

  private static Row softmax(Backend be, Random r, int rows, int n, boolean log) {
    Tensor x = Tensor.wrap(gaussian(r, rows * n, 5), rows, n);
    float[] y = new float[rows * n];
    SoftmaxOptions o = SoftmaxOptions.defaults().withLog(log);
    double ms = time(() -> be.softmax().forward(x, Tensor.wrap(y, rows, n), o));
    double[] ref = ScalarReference.softmax(x, -1, 1, log);
    double gbs = 2.0 * rows * n * Float.BYTES / (ms * 1e6);
    return row(
        log ? "log-softmax" : "softmax",
        rows + "x" + n,
        ref,
        y,
        ms,
        String.format("%.1f GB/s", gbs));
  }

  private static Row attention(
      Backend be,
      Random r,
      String name,
      int b,
      int hq,
      int hkv,
      int sq,
      int sk,
      int d,
      int dv,
      AttentionOptions o,
      boolean bshd) {
    Tensor q = layout(gaussian(r, b * hq * sq * d, 1), b, hq, sq, d, bshd);
    Tensor k = layout(gaussian(r, b * hkv * sk * d, 1), b, hkv, sk, d, bshd);
    Tensor v = layout(gaussian(r, b * hkv * sk * dv, 1), b, hkv, sk, dv, bshd);
    float[] out = new float[b * hq * sq * dv];
    Tensor outT = Tensor.wrap(out, b, hq, sq, dv);
    double ms = time(() -> be.attention().forward(q, k, v, o, outT));
    double[] ref = ScalarReference.attention(q, k, v, o).out();
    // FLOPs as the issue counts them: 4·B·H·Sq·Sk·D, half when causal.
    double flops = 4.0 * b * hq * sq * sk * d * (o.causal() == Causal.NONE ? 1 : 0.5);
    String shape =
        "B"
            + b
            + " H"
            + hq
            + "/"
            + hkv
            + " Sq"
            + sq
            + " Sk"
            + sk
            + " D"
            + d
            + (dv != d ? " Dv" + dv : "");
    return row(name, shape, ref, out, ms, String.format("%.1f GFLOP/s", flops / (ms * 1e6)));
  }

  /** Y = 0.5·A·Bᵀ + C, C [N] broadcast: the Linear layer's form. */
  private static Row gemm(Backend be, Random r, int m, int n, int k) {
    Tensor a = Tensor.wrap(gaussian(r, m * k, 1), m, k),
        b = Tensor.wrap(gaussian(r, n * k, 1), n, k);
    Tensor c = Tensor.wrap(gaussian(r, n, 1), n);
    GemmOptions o = GemmOptions.defaults().withTransB(true).withAlpha(0.5f);
    float[] y = new float[m * n];
    double ms = time(() -> be.gemm().forward(a, b, c, o, Tensor.wrap(y, m, n)));
    ScalarGemm.Product ref = ScalarGemm.gemm(a, b, c, o);
    return row(
        "gemm transB, C [N]",
        "M" + m + " N" + n + " K" + k,
        ref,
        k,
        y,
        ms,
        String.format("%.1f GFLOP/s", 2.0 * m * n * k / (ms * 1e6)));
  }

  /** [B, S, I] @ [B, I, O]: a batched product with batch dims. */
  private static Row matmul(Backend be, Random r) {
    int bt = 6, s = 97, i = 200, o = 70;
    Tensor a = Tensor.wrap(gaussian(r, bt * s * i, 1), bt, s, i);
    Tensor b = Tensor.wrap(gaussian(r, bt * i * o, 1), bt, i, o);
    float[] y = new float[bt * s * o];
    double ms = time(() -> be.matmul().forward(a, b, Tensor.wrap(y, bt, s, o)));
    ScalarGemm.Product ref = ScalarGemm.matmul(a, b);
    return row(
        "matmul batched",
        "[6,97,200] @ [6,200,70]",
        ref,
        i,
        y,
        ms,
        String.format("%.1f GFLOP/s", 2.0 * bt * s * i * o / (ms * 1e6)));
  }

  /** MiniLM's feed-forward in: [32·16, 384] · [1536, 384]ᵀ + b, with or without GELU fused. */
  private static Row linear(Backend be, Random r, Activation f) {
    int m = 512, k = 384, n = 1536;
    Tensor x = Tensor.wrap(gaussian(r, m * k, 1), m, k);
    Tensor w = Tensor.wrap(gaussian(r, n * k, 1 / Math.sqrt(k)), n, k);
    Tensor b = Tensor.wrap(gaussian(r, n, 1), n);
    float[] y = new float[m * n];
    double ms = time(() -> be.linear().forward(x, w, b, f, Tensor.wrap(y, m, n)));
    ScalarGemm.Product ref = ScalarTransformer.linear(x, w, b);
    String rate = String.format("%.1f GFLOP/s", 2.0 * m * n * k / (ms * 1e6));
    String name = f == null ? "linear + bias" : "linear + bias, " + f.kind().onnxName() + " fused";
    if (f == null) return row(name, "M" + m + " N" + n + " K" + k, ref, k, y, ms, rate);
    // The product's rounding bound carried through f (its spread over z ± dz), plus f's own
    // float32 error (1e-6 + 1e-5·|ref|, the activation tests' tolerance).
    double eps = Math.ulp(1f) / 2, maxAbs = 0, ofTol = 0;
    boolean ok = true;
    for (int i = 0; i < y.length; i++) {
      double z = ref.y()[i], dz = (k + 2) * eps * ref.abs()[i] + eps * Math.abs(z);
      double want = f.applyExact(z);
      double spread =
          Math.max(Math.abs(f.applyExact(z + dz) - want), Math.abs(f.applyExact(z - dz) - want));
      double tol = spread + 1e-6 + 1e-5 * Math.abs(want), diff = Math.abs(y[i] - want);
      if (!(diff <= tol)) ok = false;
      maxAbs = Math.max(maxAbs, diff);
      ofTol = Math.max(ofTol, diff / tol);
    }
    return new Row(name, "M" + m + " N" + n + " K" + k, maxAbs, ofTol, ok, ms, rate);
  }

  /** LayerNorm(x + residual), BERT's [32·128, 384] with epsilon 1e-12. */
  private static Row layerNorm(Backend be, Random r) {
    int rows = 4096, e = 384;
    Tensor x = Tensor.wrap(gaussian(r, rows * e, 2), rows, e);
    Tensor res = Tensor.wrap(gaussian(r, rows * e, 1), rows, e);
    Tensor scale = Tensor.wrap(gaussian(r, e, 1), e), bias = Tensor.wrap(gaussian(r, e, 1), e);
    float[] y = new float[rows * e];
    double ms =
        time(() -> be.layerNorm().forward(x, res, scale, bias, 1e-12f, Tensor.wrap(y, rows, e)));
    double[] ref = ScalarTransformer.layerNorm(x, res, scale, bias, 1e-12);
    double gbs = 3.0 * rows * e * Float.BYTES / (ms * 1e6);
    return row("layernorm + residual", rows + "x" + e, ref, y, ms, String.format("%.1f GB/s", gbs));
  }

  private static Row gelu(Backend be, Random r, Activation f) {
    int rows = 512, n = 1536;
    Tensor x = Tensor.wrap(gaussian(r, rows * n, 3), rows, n);
    float[] y = new float[rows * n];
    double ms = time(() -> be.elementwise().apply(x, f, Tensor.wrap(y, rows, n)));
    double[] ref = ScalarTransformer.apply(x, f);
    double gbs = 2.0 * rows * n * Float.BYTES / (ms * 1e6);
    return row(f.kind().onnxName(), rows + "x" + n, ref, y, ms, String.format("%.1f GB/s", gbs));
  }

  private static Row conv1d(
      Backend be, Random r, String name, int b, int c, int o, int l, int k, Conv1dOptions opt) {
    int cg = c / opt.groups(), lout = (int) opt.outputLength(l, k);
    Tensor x = Tensor.wrap(gaussian(r, b * c * l, 1), b, c, l);
    Tensor w = Tensor.wrap(gaussian(r, o * cg * k, 1 / Math.sqrt(cg * k)), o, cg, k);
    Tensor bias = Tensor.wrap(gaussian(r, o, 1), o);
    float[] y = new float[b * o * lout];
    double ms = time(() -> be.conv1d().forward(x, w, bias, opt, Tensor.wrap(y, b, o, lout)));
    ScalarGemm.Product ref = ScalarTransformer.conv1d(x, w, bias, opt);
    double flops = 2.0 * b * o * lout * cg * k;
    return row(
        name,
        "[" + b + "," + c + "," + l + "]*[" + o + "," + cg + "," + k + "]",
        ref,
        cg * k,
        y,
        ms,
        String.format("%.1f GFLOP/s", flops / (ms * 1e6)));
  }

  /** BERT's word embeddings: 32·128 ids into a [30522, 384] table. */
  private static Row embedding(Backend be, Random r) {
    int v = 30522, e = 384, n = 4096;
    Tensor table = Tensor.wrap(gaussian(r, v * e, 1), v, e);
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) ids[i] = r.nextInt(v);
    float[] y = new float[n * e];
    double ms = time(() -> be.embedding().forward(table, ids, Tensor.wrap(y, n, e)));
    double[] ref = ScalarTransformer.embedding(table, ids);
    double gbs = 2.0 * n * e * Float.BYTES / (ms * 1e6);
    return row(
        "embedding", n + " ids, " + v + "x" + e, ref, y, ms, String.format("%.1f GB/s", gbs));
  }

  /**
   * A product's row, with the tolerance of a k-term float32 sum: (k + 2)·eps·Σ|terms| + eps·|ref|
   * (the worst-case rounding bound the GEMM tests use), not the attention tolerance.
   */
  private static Row row(
      String op, String shape, ScalarGemm.Product ref, int k, float[] got, double ms, String rate) {
    double eps = Math.ulp(1f) / 2, maxAbs = 0, ofTol = 0;
    boolean ok = true;
    for (int x = 0; x < got.length; x++) {
      double diff = Math.abs(got[x] - ref.y()[x]);
      double tol = (k + 2) * eps * ref.abs()[x] + eps * Math.abs(ref.y()[x]) + Double.MIN_NORMAL;
      if (!(diff <= tol)) ok = false;
      maxAbs = Math.max(maxAbs, diff);
      ofTol = Math.max(ofTol, diff / tol);
    }
    return new Row(op, shape, maxAbs, ofTol, ok, ms, rate);
  }

  private static Row recurrent(
      Backend be,
      Random r,
      Kind kind,
      String name,
      int s,
      int b,
      int i,
      int h,
      RecurrentOptions o,
      boolean lengths) {
    int dirs = o.direction().count(), g = kind.gates;
    float ws = (float) (1 / Math.sqrt(h));
    RecurrentInputs in =
        RecurrentInputs.of(
                Tensor.wrap(gaussian(r, s * b * i, 1), s, b, i),
                Tensor.wrap(gaussian(r, dirs * g * h * i, ws), dirs, g * h, i),
                Tensor.wrap(gaussian(r, dirs * g * h * h, ws), dirs, g * h, h))
            .withB(Tensor.wrap(gaussian(r, dirs * 2 * g * h, ws), dirs, 2 * g * h));
    if (lengths) {
      int[] lens = new int[b];
      for (int k = 0; k < b; k++) lens[k] = 1 + r.nextInt(s);
      in = in.withSequenceLens(lens);
    }
    if (kind == Kind.LSTM && lengths) {
      in = in.withP(Tensor.wrap(gaussian(r, dirs * 3 * h, ws), dirs, 3 * h));
    }
    float[] y = new float[s * dirs * b * h];
    RecurrentOutputs out = new RecurrentOutputs(Tensor.wrap(y, s, dirs, b, h), null, null);
    RecurrentOp op = kind.on(be);
    RecurrentInputs call = in;
    double ms = time(() -> op.forward(call, o, out));
    double[] ref = ScalarRecurrent.run(kind, in, o).y();
    double flops = 2.0 * s * b * dirs * g * h * (i + h);
    return row(
        name,
        "S" + s + " B" + b + " I" + i + " H" + h,
        ref,
        y,
        ms,
        String.format("%.1f GFLOP/s", flops / (ms * 1e6)));
  }

  private static Row row(
      String op, String shape, double[] ref, float[] got, double ms, String rate) {
    double maxAbs = 0, ofTol = 0;
    boolean ok = true;
    for (int i = 0; i < ref.length; i++) {
      double diff = Math.abs(got[i] - ref[i]);
      if (Double.isInfinite(ref[i])) diff = got[i] == ref[i] ? 0 : Double.POSITIVE_INFINITY;
      double tol = ATOL + RTOL * Math.abs(ref[i]);
      if (!(diff <= tol)) ok = false; // NaN fails too
      maxAbs = Math.max(maxAbs, diff);
      ofTol = Math.max(ofTol, diff / tol);
    }
    return new Row(op, shape, maxAbs, ofTol, ok, ms, rate);
  }

  /**
   * Median wall time in ms: calls for about 0.5 s to warm up (JIT, scratch), then for about 0.5 s
   * (at least 5 calls) measured. A quick check, not a benchmark: see benchmarks/compare.sh.
   */
  private static double time(Runnable call) {
    long warmEnd = System.nanoTime() + 500_000_000L;
    while (System.nanoTime() < warmEnd) call.run();
    double[] ms = new double[1000];
    int n = 0;
    long end = System.nanoTime() + 500_000_000L;
    while (n < ms.length && (n < 5 || System.nanoTime() < end)) {
      long s = System.nanoTime();
      call.run();
      ms[n++] = (System.nanoTime() - s) / 1e6;
    }
    java.util.Arrays.sort(ms, 0, n);
    return ms[n / 2];
  }

  private static void print(List<Row> rows) {
    String fmt = "%-40s %-30s %10s %10s %5s %10s %14s%n";
    // "of tol": the worst element's error as a fraction of its tolerance (<= 1 passes).
    System.out.printf(fmt, "operator", "shape", "max |err|", "of tol", "ok", "ms", "throughput");
    for (Row x : rows) {
      System.out.printf(
          fmt,
          x.op,
          x.shape,
          String.format("%.2e", x.maxAbs),
          String.format("%.3f", x.ofTol),
          x.ok ? "yes" : "NO",
          String.format("%.3f", x.ms),
          x.rate);
    }
  }

  private static Tensor layout(float[] data, int b, int h, int s, int d, boolean bshd) {
    return bshd ? Tensor.wrap(data, b, s, h, d).permute(0, 2, 1, 3) : Tensor.wrap(data, b, h, s, d);
  }

  private static Mask randomKeep(Random r, int sq, int sk) {
    boolean[] m = new boolean[sq * sk];
    for (int i = 0; i < m.length; i++) m[i] = r.nextInt(5) != 0;
    return Mask.keep(m, sq, sk);
  }

  private static Mask randomBlock(Random r, int sk) {
    boolean[] m = new boolean[sk];
    for (int i = 0; i < m.length; i++) m[i] = r.nextInt(3) == 0;
    return Mask.block(m, 1, 1, 1, sk);
  }

  private static float[] gaussian(Random r, int n, double std) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * std);
    return a;
  }
}
