package io.github.seqkernels.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.seqkernels.Activation;
import io.github.seqkernels.AttentionOptions;
import io.github.seqkernels.Causal;
import io.github.seqkernels.Conv1dOptions;
import io.github.seqkernels.GemmOptions;
import io.github.seqkernels.Mask;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.reference.ScalarGemm;
import io.github.seqkernels.reference.ScalarReference;
import io.github.seqkernels.reference.ScalarTransformer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.jetbrains.bio.npy.NpzFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI end to end: .npz in, .npz out, exit codes, and no output file on bad input. */
class CliTest {
  @TempDir Path dir;

  record Result(int code, String out, String err) {}

  static Result cli(String... args) {
    PrintStream oldOut = System.out, oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = Main.run(args);
      return new Result(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  static float[] gaussian(Random r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
    return a;
  }

  @Test
  void attentionWithEveryInputMatchesTheControl() throws Exception {
    Random r = new Random(5);
    int b = 2, h = 4, hkv = 2, sq = 9, sk = 13, d = 6, dv = 5;
    float[] q = gaussian(r, b * h * sq * d), k = gaussian(r, b * hkv * sk * d);
    float[] v = gaussian(r, b * hkv * sk * dv), bias = gaussian(r, h * sq * sk);
    boolean[] keep = new boolean[sq * sk];
    for (int i = 0; i < keep.length; i++) keep[i] = r.nextInt(4) != 0;
    Path in = dir.resolve("in.npz"), out = dir.resolve("out.npz");
    try (NpzFile.Writer w = NpzFile.write(in, false)) {
      w.write("q", q, new int[] {b, h, sq, d});
      w.write("k", k, new int[] {b, hkv, sk, d});
      w.write("v", v, new int[] {b, hkv, sk, dv});
      w.write("keep", keep, new int[] {sq, sk});
      w.write("bias", bias, new int[] {h, sq, sk});
      w.write("key_lengths", new int[] {13, 4}, new int[] {2});
    }
    Result res =
        cli(
            "run",
            "attention",
            "--in",
            in.toString(),
            "--out",
            out.toString(),
            "--causal",
            "bottom-right",
            "--weights",
            "--scale",
            "0.3",
            "--backend",
            "cpu");
    assertEquals(0, res.code, res.err);

    AttentionOptions o =
        AttentionOptions.defaults()
            .withCausal(Causal.BOTTOM_RIGHT)
            .withScale(0.3f)
            .withMask(Mask.keep(keep, sq, sk))
            .withBias(Tensor.wrap(bias, h, sq, sk))
            .withKeyLengths(13, 4);
    ScalarReference.AttentionResult ref =
        ScalarReference.attention(
            Tensor.wrap(q, b, h, sq, d),
            Tensor.wrap(k, b, hkv, sk, d),
            Tensor.wrap(v, b, hkv, sk, dv),
            o);
    try (NpzFile.Reader rd = NpzFile.read(out)) {
      assertArrayEquals(new int[] {b, h, sq, dv}, rd.get("out", 1 << 20).getShape());
      assertClose(ref.out(), rd.get("out", 1 << 20).asFloatArray());
      assertClose(ref.lse(), rd.get("lse", 1 << 20).asFloatArray());
      assertClose(ref.weights(), rd.get("weights", 1 << 20).asFloatArray());
    }
  }

  static void assertClose(double[] want, float[] got) {
    assertEquals(want.length, got.length);
    for (int i = 0; i < want.length; i++) {
      if (Double.isInfinite(want[i])) assertEquals((float) want[i], got[i], "at " + i);
      else assertEquals(want[i], got[i], 1e-5 + 1e-4 * Math.abs(want[i]), "at " + i);
    }
  }

  @Test
  void softmaxAlongAnAxis() throws Exception {
    Path in = dir.resolve("x.npz"), out = dir.resolve("y.npz");
    try (NpzFile.Writer w = NpzFile.write(in, false)) {
      w.write("x", new float[] {1000, 1, 1001, 2, 1002, 3}, new int[] {3, 2});
    }
    Result res =
        cli("run", "softmax", "--in", in.toString(), "--out", out.toString(), "--axis", "0");
    assertEquals(0, res.code, res.err);
    try (NpzFile.Reader rd = NpzFile.read(out)) {
      assertArrayEquals(
          new float[] {0.090031f, 0.090031f, 0.244728f, 0.244728f, 0.665241f, 0.665241f},
          rd.get("y", 1 << 20).asFloatArray(),
          1e-6f);
    }
  }

  @Test
  void badInputIsOneLineExitTwoAndNoOutputFile() throws Exception {
    Path in = dir.resolve("bad.npz"), out = dir.resolve("out.npz");
    try (NpzFile.Writer w = NpzFile.write(in, false)) {
      w.write("q", new float[2 * 8], new int[] {1, 1, 2, 8});
      w.write("k", new float[3 * 7], new int[] {1, 1, 3, 7});
      w.write("v", new float[3 * 4], new int[] {1, 1, 3, 4});
    }
    Result res = cli("run", "attention", "--in", in.toString(), "--out", out.toString());
    assertEquals(2, res.code);
    assertEquals(
        "seqkernels: k: head dim 7 != q head dim 8",
        res.err
            .strip()
            .lines()
            .filter(l -> l.startsWith("seqkernels:"))
            .findFirst()
            .orElse(res.err));
    assertFalse(Files.exists(out));
    try (var files = Files.list(dir)) {
      assertEquals(1, files.count(), "only the input is left in " + dir);
    }

    res =
        cli(
            "run",
            "attention",
            "--in",
            dir.resolve("missing.npz").toString(),
            "--out",
            out.toString());
    assertEquals(2, res.code);
    assertTrue(res.err.contains("--in: no such file"), res.err);

    try (NpzFile.Writer w = NpzFile.write(in, false)) {
      w.write("x", new double[] {1, 2}, new int[] {2});
    }
    res = cli("run", "softmax", "--in", in.toString(), "--out", out.toString());
    assertEquals(2, res.code);
    assertTrue(res.err.contains("x: dtype must be float32, got float64"), res.err);

    res =
        cli(
            "run",
            "attention",
            "--in",
            in.toString(),
            "--out",
            out.toString(),
            "--causal",
            "diagonal");
    assertEquals(2, res.code);
    assertEquals(
        "seqkernels: --causal: must be one of none, top-left, bottom-right, got" + " 'diagonal'",
        res.err.strip());
    assertFalse(Files.exists(out));
  }

  @Test
  void misspeltArraysCorruptFilesAndBadOutputsAreOneLine() throws Exception {
    Path in = dir.resolve("in.npz"), out = dir.resolve("out.npz");
    try (NpzFile.Writer w = NpzFile.write(in, false)) {
      w.write("x", new float[] {1, 2}, new int[] {2});
      w.write("mask", new boolean[] {true, false}, new int[] {2});
    }
    Result res = cli("run", "softmax", "--in", in.toString(), "--out", out.toString());
    assertEquals(2, res.code);
    assertEquals("seqkernels: in.npz: unknown array 'mask' (softmax reads x)", res.err.strip());

    Path garbage = dir.resolve("garbage.npz");
    Files.writeString(garbage, "garbage\n");
    res = cli("run", "softmax", "--in", garbage.toString(), "--out", out.toString());
    assertEquals(2, res.code);
    assertTrue(
        res.err.startsWith("seqkernels: --in: " + garbage + " is not a readable .npz"), res.err);
    assertEquals(1, res.err.strip().lines().count(), res.err);

    res =
        cli(
            "run",
            "softmax",
            "--in",
            in.toString(),
            "--out",
            dir.resolve("no/such/dir/o.npz").toString());
    assertEquals(2, res.code);
    assertEquals(
        "seqkernels: --out: directory " + dir.resolve("no/such/dir") + " does not exist",
        res.err.strip());
    res = cli("run", "softmax", "--in", in.toString(), "--out", in.toString());
    assertEquals(2, res.code);
    assertEquals("seqkernels: --out: must not be the input file " + in, res.err.strip());
    assertFalse(Files.exists(out));
  }

  @Test
  void lstmWithEveryInputMatchesTheControl() throws Exception {
    Random r = new Random(9);
    int s = 5, b = 3, i = 4, h = 6, dirs = 2;
    float[] x = gaussian(r, s * b * i), w = gaussian(r, dirs * 4 * h * i);
    float[] rr = gaussian(r, dirs * 4 * h * h), bias = gaussian(r, dirs * 8 * h);
    float[] h0 = gaussian(r, dirs * b * h), c0 = gaussian(r, dirs * b * h);
    float[] p = gaussian(r, dirs * 3 * h);
    Path in = dir.resolve("lstm.npz"), out = dir.resolve("lstm-out.npz");
    try (NpzFile.Writer wr = NpzFile.write(in, false)) {
      wr.write("X", x, new int[] {s, b, i});
      wr.write("W", w, new int[] {dirs, 4 * h, i});
      wr.write("R", rr, new int[] {dirs, 4 * h, h});
      wr.write("B", bias, new int[] {dirs, 8 * h});
      wr.write("sequence_lens", new int[] {5, 2, 0}, new int[] {b});
      wr.write("initial_h", h0, new int[] {dirs, b, h});
      wr.write("initial_c", c0, new int[] {dirs, b, h});
      wr.write("P", p, new int[] {dirs, 3 * h});
    }
    Result res =
        cli(
            "run",
            "lstm",
            "--in",
            in.toString(),
            "--out",
            out.toString(),
            "--direction",
            "bidirectional",
            "--clip",
            "1.5",
            "--activations",
            "HardSigmoid,Tanh,Softsign,Sigmoid,ScaledTanh,Tanh",
            "--activation-alpha",
            "0.3,0.8",
            "--activation-beta",
            "0.4,1.2");
    assertEquals(0, res.code, res.err);
    io.github.seqkernels.RecurrentInputs ri =
        io.github.seqkernels.RecurrentInputs.of(
                Tensor.wrap(x, s, b, i),
                Tensor.wrap(w, dirs, 4 * h, i),
                Tensor.wrap(rr, dirs, 4 * h, h))
            .withB(Tensor.wrap(bias, dirs, 8 * h))
            .withSequenceLens(5, 2, 0)
            .withInitialH(Tensor.wrap(h0, dirs, b, h))
            .withInitialC(Tensor.wrap(c0, dirs, b, h))
            .withP(Tensor.wrap(p, dirs, 3 * h));
    io.github.seqkernels.RecurrentOptions o =
        io.github.seqkernels.RecurrentOptions.of(h)
            .withDirection(io.github.seqkernels.Direction.BIDIRECTIONAL)
            .withClip(1.5f)
            .withActivations(
                io.github.seqkernels.Activation.parse(
                    java.util.List.of(
                        "HardSigmoid", "Tanh", "Softsign", "Sigmoid", "ScaledTanh", "Tanh"),
                    new float[] {0.3f, 0.8f},
                    new float[] {0.4f, 1.2f}));
    var ref =
        io.github.seqkernels.reference.ScalarRecurrent.run(
            io.github.seqkernels.internal.RecurrentShape.Kind.LSTM, ri, o);
    try (NpzFile.Reader rd = NpzFile.read(out)) {
      assertArrayEquals(new int[] {s, dirs, b, h}, rd.get("Y", 1 << 20).getShape());
      assertClose(ref.y(), rd.get("Y", 1 << 20).asFloatArray());
      assertClose(ref.yH(), rd.get("Y_h", 1 << 20).asFloatArray());
      assertClose(ref.yC(), rd.get("Y_c", 1 << 20).asFloatArray());
    }

    try (NpzFile.Writer wr = NpzFile.write(in, false)) {
      wr.write("X", x, new int[] {s, b, i});
      wr.write("W", w, new int[] {dirs, 4 * h, i});
      wr.write("R", rr, new int[] {dirs, 4 * h, h});
    }
    res = cli("run", "gru", "--in", in.toString(), "--out", out.toString());
    assertEquals(2, res.code);
    assertEquals(
        "seqkernels: W: shape must be [1, 24, 4] [dirs (1: forward), 3·hidden_size (z, r, h),"
            + " I], got [2, 24, 4]",
        res.err.strip());
  }

  @Test
  void gemmWithTransposeAndBias() throws Exception {
    Random r = new Random(6);
    int m = 5, n = 7, k = 9;
    float[] a = gaussian(r, m * k), b = gaussian(r, n * k), c = gaussian(r, n);
    Path in = dir.resolve("gemm.npz"), out = dir.resolve("y.npz");
    try (NpzFile.Writer w = NpzFile.write(in, false)) {
      w.write("A", a, new int[] {m, k});
      w.write("B", b, new int[] {n, k});
      w.write("C", c, new int[] {n});
    }
    Result res =
        cli(
            "run",
            "gemm",
            "--in",
            in.toString(),
            "--out",
            out.toString(),
            "--trans-b",
            "--alpha",
            "0.5",
            "--beta",
            "-2");
    assertEquals(0, res.code, res.err);
    double[] ref =
        ScalarGemm.gemm(
                Tensor.wrap(a, m, k),
                Tensor.wrap(b, n, k),
                Tensor.wrap(c, n),
                new GemmOptions(false, true, 0.5f, -2f))
            .y();
    try (NpzFile.Reader rd = NpzFile.read(out)) {
      assertArrayEquals(new int[] {m, n}, rd.get("Y", 1 << 20).getShape());
      assertClose(ref, rd.get("Y", 1 << 20).asFloatArray());
    }
  }

  @Test
  void matmulBroadcastsBatchDims() throws Exception {
    Random r = new Random(7);
    float[] a = gaussian(r, 2 * 3 * 4), b = gaussian(r, 4 * 5);
    Path in = dir.resolve("mm.npz"), out = dir.resolve("y.npz");
    try (NpzFile.Writer w = NpzFile.write(in, false)) {
      w.write("A", a, new int[] {2, 3, 4});
      w.write("B", b, new int[] {4, 5});
    }
    Result res = cli("run", "matmul", "--in", in.toString(), "--out", out.toString());
    assertEquals(0, res.code, res.err);
    double[] ref = ScalarGemm.matmul(Tensor.wrap(a, 2, 3, 4), Tensor.wrap(b, 4, 5)).y();
    try (NpzFile.Reader rd = NpzFile.read(out)) {
      assertArrayEquals(new int[] {2, 3, 5}, rd.get("Y", 1 << 20).getShape());
      assertClose(ref, rd.get("Y", 1 << 20).asFloatArray());
    }
  }

  @Test
  void gemmBadShapesAreOneLineAndNoOutput() throws Exception {
    Path in = dir.resolve("bad.npz"), out = dir.resolve("y.npz");
    try (NpzFile.Writer w = NpzFile.write(in, false)) {
      w.write("A", new float[4 * 8], new int[] {4, 8});
      w.write("B", new float[7 * 5], new int[] {7, 5});
    }
    Result res = cli("run", "gemm", "--in", in.toString(), "--out", out.toString());
    assertEquals(2, res.code);
    assertEquals(
        "seqkernels: b: inner dim 7 != a inner dim 8 (a [4, 8], b [7, 5])", res.err.strip());
    res = cli("run", "matmul", "--in", in.toString(), "--out", out.toString());
    assertEquals(2, res.code);
    assertEquals(
        "seqkernels: b: inner dim 7 != a inner dim 8 (a [4, 8], b [7, 5])", res.err.strip());
    assertFalse(Files.exists(out));
  }

  @Test
  void linearWithFusedGelu() throws Exception {
    Random r = new Random(8);
    int m = 6, k = 10, n = 7;
    float[] x = gaussian(r, m * k), w = gaussian(r, n * k), b = gaussian(r, n);
    Path in = dir.resolve("lin.npz"), out = dir.resolve("y.npz");
    try (NpzFile.Writer wr = NpzFile.write(in, false)) {
      wr.write("x", x, new int[] {2, 3, k});
      wr.write("weight", w, new int[] {n, k});
      wr.write("bias", b, new int[] {n});
    }
    Result res =
        cli(
            "run",
            "linear",
            "--in",
            in.toString(),
            "--out",
            out.toString(),
            "--activation",
            "gelu");
    assertEquals(0, res.code, res.err);
    double[] z =
        ScalarTransformer.linear(Tensor.wrap(x, m, k), Tensor.wrap(w, n, k), Tensor.wrap(b, n)).y();
    for (int i = 0; i < z.length; i++) z[i] = Activation.of("Gelu").applyExact(z[i]);
    try (NpzFile.Reader rd = NpzFile.read(out)) {
      assertArrayEquals(new int[] {2, 3, n}, rd.get("y", 1 << 20).getShape());
      assertClose(z, rd.get("y", 1 << 20).asFloatArray());
    }
    res =
        cli(
            "run",
            "linear",
            "--in",
            in.toString(),
            "--out",
            out.toString(),
            "--activation",
            "nope");
    assertEquals(2, res.code);
    assertTrue(res.err.startsWith("seqkernels: --activation: unknown activation 'nope'"), res.err);
  }

  @Test
  void layerNormWithResidualAndGeluForms() throws Exception {
    Random r = new Random(9);
    int rows = 4, e = 9;
    float[] x = gaussian(r, rows * e), res0 = gaussian(r, rows * e);
    float[] scale = gaussian(r, e), bias = gaussian(r, e);
    Path in = dir.resolve("ln.npz"), out = dir.resolve("y.npz");
    try (NpzFile.Writer wr = NpzFile.write(in, false)) {
      wr.write("x", x, new int[] {rows, e});
      wr.write("scale", scale, new int[] {e});
      wr.write("bias", bias, new int[] {e});
      wr.write("residual", res0, new int[] {rows, e});
    }
    Result res =
        cli(
            "run",
            "layernorm",
            "--in",
            in.toString(),
            "--out",
            out.toString(),
            "--epsilon",
            "1e-12");
    assertEquals(0, res.code, res.err);
    double[] want =
        ScalarTransformer.layerNorm(
            Tensor.wrap(x, rows, e),
            Tensor.wrap(res0, rows, e),
            Tensor.wrap(scale, e),
            Tensor.wrap(bias, e),
            1e-12);
    try (NpzFile.Reader rd = NpzFile.read(out)) {
      assertClose(want, rd.get("y", 1 << 20).asFloatArray());
    }

    Path gin = dir.resolve("g.npz");
    try (NpzFile.Writer wr = NpzFile.write(gin, false)) {
      wr.write("x", x, new int[] {rows, e});
    }
    for (String form : new String[] {"none", "tanh"}) {
      res =
          cli(
              "run",
              "gelu",
              "--in",
              gin.toString(),
              "--out",
              out.toString(),
              "--approximate",
              form);
      assertEquals(0, res.code, res.err);
      Activation f = Activation.of(form.equals("none") ? "Gelu" : "GeluTanh");
      try (NpzFile.Reader rd = NpzFile.read(out)) {
        assertClose(
            ScalarTransformer.apply(Tensor.wrap(x, rows, e), f),
            rd.get("y", 1 << 20).asFloatArray());
      }
    }
    res =
        cli(
            "run",
            "gelu",
            "--in",
            gin.toString(),
            "--out",
            out.toString(),
            "--approximate",
            "fast");
    assertEquals(2, res.code);
    assertEquals("seqkernels: --approximate: must be none or tanh, got 'fast'", res.err.strip());
  }

  @Test
  void conv1dWithStridePadsDilationGroups() throws Exception {
    Random r = new Random(10);
    int b = 2, c = 6, l = 23, o = 4, k = 3;
    float[] x = gaussian(r, b * c * l), w = gaussian(r, o * 3 * k), bias = gaussian(r, o);
    Path in = dir.resolve("conv.npz"), out = dir.resolve("y.npz");
    try (NpzFile.Writer wr = NpzFile.write(in, false)) {
      wr.write("x", x, new int[] {b, c, l});
      wr.write("weight", w, new int[] {o, 3, k});
      wr.write("bias", bias, new int[] {o});
    }
    Result res =
        cli(
            "run",
            "conv1d",
            "--in",
            in.toString(),
            "--out",
            out.toString(),
            "--stride",
            "2",
            "--pads",
            "2,1",
            "--dilation",
            "2",
            "--groups",
            "2");
    assertEquals(0, res.code, res.err);
    Conv1dOptions opt = new Conv1dOptions(2, 2, 1, 2, 2);
    double[] want =
        ScalarTransformer.conv1d(
                Tensor.wrap(x, b, c, l), Tensor.wrap(w, o, 3, k), Tensor.wrap(bias, o), opt)
            .y();
    try (NpzFile.Reader rd = NpzFile.read(out)) {
      assertArrayEquals(new int[] {b, o, 11}, rd.get("y", 1 << 20).getShape());
      assertClose(want, rd.get("y", 1 << 20).asFloatArray());
    }
    res = cli("run", "conv1d", "--in", in.toString(), "--out", out.toString(), "--groups", "4");
    assertEquals(2, res.code);
    assertEquals("seqkernels: groups: 4 must divide x's channels C = 6", res.err.strip());
  }

  @Test
  void embeddingWithInt64IdsAndABadId() throws Exception {
    Random r = new Random(11);
    int v = 11, e = 5;
    float[] table = gaussian(r, v * e);
    Path in = dir.resolve("emb.npz"), out = dir.resolve("y.npz");
    try (NpzFile.Writer wr = NpzFile.write(in, false)) {
      wr.write("table", table, new int[] {v, e});
      wr.write("ids", new long[] {3, 0, 10, 3, 7, 1}, new int[] {2, 3});
    }
    Result res = cli("run", "embedding", "--in", in.toString(), "--out", out.toString());
    assertEquals(0, res.code, res.err);
    double[] want =
        ScalarTransformer.embedding(Tensor.wrap(table, v, e), new int[] {3, 0, 10, 3, 7, 1});
    try (NpzFile.Reader rd = NpzFile.read(out)) {
      assertArrayEquals(new int[] {2, 3, e}, rd.get("y", 1 << 20).getShape());
      assertClose(want, rd.get("y", 1 << 20).asFloatArray());
    }
    Path bad = dir.resolve("bad.npz"), badOut = dir.resolve("bad-y.npz");
    try (NpzFile.Writer wr = NpzFile.write(bad, false)) {
      wr.write("table", table, new int[] {v, e});
      wr.write("ids", new int[] {3, 11}, new int[] {2});
    }
    res = cli("run", "embedding", "--in", bad.toString(), "--out", badOut.toString());
    assertEquals(2, res.code);
    assertEquals("seqkernels: ids[1]: must be in [0, V = 11), got 11", res.err.strip());
    assertFalse(Files.exists(badOut));
  }

  @Test
  void infoListsBackends() {
    Result res = cli("info");
    assertEquals(0, res.code, res.err);
    assertTrue(res.out.contains("cpu      available"), res.out);
    assertTrue(res.out.contains("Species[float"), res.out);
  }
}
