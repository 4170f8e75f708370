package io.github.seqkernels.cli;

import static io.github.seqkernels.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.seqkernels.Backend;
import io.github.seqkernels.models.MiniLm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jetbrains.bio.npy.NpyArray;
import org.jetbrains.bio.npy.NpzFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code seqkernels embed}: lines, the .npz, the ONNX Runtime check and refusals. */
class EmbedCliTest {
  @TempDir Path dir;

  @Test
  void printsOneLinePerTextAndWritesTheEmbeddings() throws Exception {
    List<String> texts = List.of("The cat sat on the mat.", "Zürich, 3 °C — 42!");
    Path out = dir.resolve("e.npz");
    CliTest.Result r =
        cli(
            "embed",
            "--threads",
            "2",
            "--dims",
            "3",
            "--out",
            out.toString(),
            texts.get(0),
            texts.get(1));
    assertEquals(0, r.code(), r.err());
    String[] lines = r.out().strip().split("\n");
    assertEquals(2, lines.length, r.out());
    assertTrue(lines[0].startsWith("0\t["), lines[0]);
    assertTrue(lines[0].contains("\tnorm 1.000000\ttokens 9\tThe cat sat on the mat."), lines[0]);
    assertTrue(lines[1].contains("\tZürich, 3 °C — 42!"), lines[1]);
    // Three dims, then an ellipsis.
    assertEquals(
        4, lines[1].substring(lines[1].indexOf('[') + 1, lines[1].indexOf(']')).split(" ").length);

    NpyArray a;
    try (NpzFile.Reader z = NpzFile.read(out)) {
      a = z.get("embeddings", Integer.MAX_VALUE);
    }
    assertArrayEquals(new int[] {2, 384}, a.getShape());
    float[] got = a.asFloatArray();
    try (Backend be = Backend.create("cpu", 2);
        MiniLm m = MiniLm.load(be)) {
      float[][] want = m.embed(texts);
      for (int i = 0; i < 2; i++) {
        for (int c = 0; c < 384; c++) assertEquals(want[i][c], got[i * 384 + c], 1e-6f);
        String first = String.format(java.util.Locale.ROOT, "[%+.4f ", want[i][0]);
        assertTrue(lines[i].contains(first), lines[i] + " should show " + first);
      }
    }
  }

  @Test
  void checkComparesWithOnnxRuntime() {
    // ONNX Runtime is a provided dependency, so it is on the test class path.
    CliTest.Result r = cli("embed", "--threads", "2", "--check", "Hello world", "A second text.");
    assertEquals(0, r.code(), r.err());
    assertTrue(
        r.out().contains("\tcosine 0.99999") || r.out().contains("\tcosine 1.00000"), r.out());
    assertTrue(
        r.out()
            .matches(
                "(?s).*check: ONNX Runtime 1\\.22\\.0, min cosine [01]\\.\\d+ \\(text \\d\\), ok\n"),
        r.out());
  }

  @Test
  void badInputIsOneLineAndExitCode2() {
    Path out = dir.resolve("missing").resolve("e.npz");
    CliTest.Result r = cli("embed", "--out", out.toString(), "text");
    assertEquals(2, r.code());
    assertEquals("seqkernels: --out: directory " + out.getParent() + " does not exist\n", r.err());
    assertFalse(Files.exists(out));
    r = cli("embed", "--threads", "0", "text");
    assertEquals(2, r.code());
    assertEquals("seqkernels: --threads: must be >= 1, got 0\n", r.err());
    r = cli("embed", "fine", "");
    assertEquals(2, r.code());
    assertEquals("seqkernels: TEXT[1]: must not be empty\n", r.err());
    r = cli("embed");
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("seqkernels: Missing required parameter: 'TEXT'"), r.err());
  }
}
