package io.github.seqkernels.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jetbrains.bio.npy.NpyArray;
import org.jetbrains.bio.npy.NpzEntry;
import org.jetbrains.bio.npy.NpzFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run mha / encoder-layer / decoder-layer / additive-attention / luong-attention} end to
 * end, on the PyTorch cases of src/test/resources/pytorch/transformer.npz.
 */
class NnCliTest {
  @TempDir Path dir;

  static NpyArray ref(String name) throws Exception {
    Path p = Path.of(NnCliTest.class.getResource("/pytorch/transformer.npz").toURI());
    try (NpzFile.Reader r = NpzFile.read(p)) {
      return r.get(name, 1 << 20);
    }
  }

  static List<String> names(String prefix) throws Exception {
    Path p = Path.of(NnCliTest.class.getResource("/pytorch/transformer.npz").toURI());
    List<String> out = new ArrayList<>();
    try (NpzFile.Reader r = NpzFile.read(p)) {
      for (NpzEntry e : r.introspect()) if (e.getName().startsWith(prefix)) out.add(e.getName());
    }
    return out;
  }

  /** Copies reference arrays into an input file: {from, to} pairs. */
  static void write(Path in, String[][] arrays) throws Exception {
    try (NpzFile.Writer w = NpzFile.write(in, false)) {
      for (String[] a : arrays) {
        NpyArray x = ref(a[0]);
        if (x.getData() instanceof boolean[] b) w.write(a[1], b, x.getShape());
        else w.write(a[1], x.asFloatArray(), x.getShape());
      }
    }
  }

  /** The module's state-dict arrays of a case, under their own names. */
  static List<String[]> stateDict(String prefix) throws Exception {
    List<String[]> out = new ArrayList<>();
    for (String n : names(prefix + ".")) {
      String key = n.substring(prefix.length() + 1);
      if (!key.equals("out")) out.add(new String[] {n, key});
    }
    return out;
  }

  static void assertMatches(Path out, String name, String refName) throws Exception {
    try (NpzFile.Reader rd = NpzFile.read(out)) {
      NpyArray got = rd.get(name, 1 << 20), want = ref(refName);
      assertArrayEquals(want.getShape(), got.getShape(), name);
      float[] g = got.asFloatArray(), w = want.asFloatArray();
      for (int i = 0; i < w.length; i++) {
        assertEquals(w[i], g[i], 1e-5 + 1e-4 * Math.abs(w[i]), name + " at " + i);
      }
    }
  }

  CliTest.Result run(String op, Path in, Path out, String... flags) {
    List<String> args = new ArrayList<>(List.of("run", op, "--in", in.toString()));
    args.addAll(List.of("--out", out.toString(), "--backend", "cpu", "--threads", "2"));
    args.addAll(List.of(flags));
    return CliTest.cli(args.toArray(String[]::new));
  }

  @Test
  void mhaCrossAttentionWithSeparateWeightsAndIntegerPaddingMask() throws Exception {
    Path in = dir.resolve("in.npz"), out = dir.resolve("out.npz");
    try (NpzFile.Writer w = NpzFile.write(in, false)) {
      for (String n :
          new String[] {
            "query",
            "key",
            "value",
            "q_proj_weight",
            "k_proj_weight",
            "v_proj_weight",
            "in_proj_bias"
          }) {
        NpyArray x = ref("mha_cross." + n);
        w.write(n, x.asFloatArray(), x.getShape());
      }
      w.write(
          "out_proj_weight", ref("mha_cross.out_proj.weight").asFloatArray(), new int[] {12, 12});
      w.write("out_proj_bias", ref("mha_cross.out_proj.bias").asFloatArray(), new int[] {12});
      boolean[] pad = (boolean[]) ref("mha_cross.key_padding_mask").getData();
      int[] ints = new int[pad.length];
      for (int i = 0; i < pad.length; i++) ints[i] = pad[i] ? 1 : 0;
      w.write("key_padding_mask", ints, new int[] {2, 7});
    }
    CliTest.Result res = run("mha", in, out, "--heads", "2", "--weights");
    assertEquals(0, res.code(), res.err());
    assertMatches(out, "out", "mha_cross.out");
    assertMatches(out, "weights", "mha_cross.weights");
  }

  @Test
  void mhaSelfAttentionPerHeadWeightsAndCausal() throws Exception {
    Path in = dir.resolve("in.npz"), out = dir.resolve("out.npz");
    write(
        in,
        new String[][] {
          {"mha_causal.x", "query"},
          {"mha_self.in_proj_weight", "in_proj_weight"},
          {"mha_self.in_proj_bias", "in_proj_bias"},
          {"mha_self.out_proj.weight", "out_proj.weight"},
          {"mha_self.out_proj.bias", "out_proj.bias"}
        });
    CliTest.Result res = run("mha", in, out, "--heads", "3", "--causal", "--per-head-weights");
    assertEquals(0, res.code(), res.err());
    assertMatches(out, "out", "mha_causal.out");
    assertMatches(out, "weights", "mha_causal.weights_per_head");

    Path out2 = dir.resolve("out2.npz");
    res = run("mha", in, out2, "--heads", "5");
    assertEquals(2, res.code());
    assertEquals(
        "seqkernels: heads: embed_dim 12 must be divisible by heads, got heads = 5",
        res.err().strip());
    assertFalse(Files.exists(out2));
  }

  @Test
  void encoderLayerPreNormGeluCausalWithPadding() throws Exception {
    Path in = dir.resolve("in.npz"), out = dir.resolve("out.npz");
    List<String[]> arrays = stateDict("enc_pre_gelu");
    arrays.add(new String[] {"enc.x", "x"});
    arrays.add(new String[] {"enc.key_padding_mask", "key_padding_mask"});
    write(in, arrays.toArray(String[][]::new));
    CliTest.Result res =
        run(
            "encoder-layer",
            in,
            out,
            "--heads",
            "3",
            "--norm-first",
            "--activation",
            "gelu",
            "--epsilon",
            "1e-6",
            "--causal");
    assertEquals(0, res.code(), res.err());
    assertMatches(out, "out", "enc_pre_gelu.out");
  }

  @Test
  void decoderLayerWithMemoryPadding() throws Exception {
    Path in = dir.resolve("in.npz"), out = dir.resolve("out.npz");
    List<String[]> arrays = stateDict("dec_post");
    arrays.add(new String[] {"dec.tgt", "tgt"});
    arrays.add(new String[] {"dec.memory", "memory"});
    arrays.add(new String[] {"dec.memory_key_padding_mask", "memory_key_padding_mask"});
    write(in, arrays.toArray(String[][]::new));
    CliTest.Result res = run("decoder-layer", in, out, "--heads", "3");
    assertEquals(0, res.code(), res.err());
    assertMatches(out, "out", "dec_post.out");

    // A misspelt state-dict entry: exit 2, one line naming it, no output file.
    Path bad = dir.resolve("bad.npz"), badOut = dir.resolve("bad-out.npz");
    arrays.add(new String[] {"dec_post.norm3.bias", "norm3.bais"});
    write(bad, arrays.toArray(String[][]::new));
    res = run("decoder-layer", bad, badOut, "--heads", "3");
    assertEquals(2, res.code());
    assertEquals(1, res.err().strip().lines().count(), res.err());
    org.junit.jupiter.api.Assertions.assertTrue(
        res.err().contains("unexpected [norm3.bais]"), res.err());
    assertFalse(Files.exists(badOut));
  }

  @Test
  void additiveAndLuongAttention() throws Exception {
    Path in = dir.resolve("in.npz"), out = dir.resolve("out.npz");
    write(
        in,
        new String[][] {
          {"att.query", "query"},
          {"att.key", "key"},
          {"att.value", "value"},
          {"att.w_query", "w_query"},
          {"att.w_key", "w_key"},
          {"att.bias", "bias"},
          {"att.v", "v"},
          {"att.key_padding_mask", "key_padding_mask"}
        });
    CliTest.Result res = run("additive-attention", in, out, "--weights");
    assertEquals(0, res.code(), res.err());
    assertMatches(out, "context", "att.additive_context");
    assertMatches(out, "weights", "att.additive_weights");

    Path in2 = dir.resolve("in2.npz"), out2 = dir.resolve("out2.npz");
    write(
        in2,
        new String[][] {
          {"att.query", "query"},
          {"att.key", "key"},
          {"att.value", "value"},
          {"att.w", "w"},
          {"att.key_padding_mask", "key_padding_mask"}
        });
    res = run("luong-attention", in2, out2, "--weights", "--causal");
    assertEquals(0, res.code(), res.err());
    assertMatches(out2, "context", "att.luong_causal_context");
    assertMatches(out2, "weights", "att.luong_causal_weights");

    res = run("luong-attention", in, dir.resolve("out3.npz"));
    assertEquals(2, res.code());
    assertEquals(
        "seqkernels: in.npz: unknown array 'w_query' (luong-attention reads query, key, value,"
            + " key_padding_mask, key_lengths, w)",
        res.err().strip());
    assertFalse(Files.exists(dir.resolve("out3.npz")));
  }
}
