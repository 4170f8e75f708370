package io.github.seqkernels.cli;

import static io.github.seqkernels.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code seqkernels demo} end to end: both models checked against ONNX Runtime (on the test class
 * path), the nearest neighbours make sense, the speech is found, and the heatmap is a real PNG.
 */
class DemoCliTest {
  @TempDir Path dir;

  @Test
  void runsBothModelsChecksThemAndDrawsTheHeatmap() throws IOException {
    Path png = dir.resolve("pictures/attention.png");
    CliTest.Result r = cli("demo", "--repeat", "1", "--layer", "5", "--png", png.toString());
    assertEquals(0, r.code(), r.out() + r.err());
    String out = r.out();
    assertTrue(out.contains("check MiniLM vs ONNX Runtime: min cosine"), out);
    assertTrue(out.contains("check VAD vs ONNX Runtime: max |difference|"), out);
    assertTrue(out.contains("demo: all checks passed"), out);
    // Nearest neighbour of the museum query is the museum sentence.
    List<String> lines = List.of(out.split("\n"));
    int q = lines.indexOf("  Where can I see old maps?");
    assertTrue(q >= 0 && lines.get(q + 1).contains("medieval maps"), out);
    assertEquals(2, lines.stream().filter(l -> l.startsWith("  speech ")).count(), out);
    // Progress goes to stderr, one line per stage.
    assertTrue(r.err().contains("drawing layer 5's attention"), r.err());

    BufferedImage img = ImageIO.read(png.toFile());
    assertTrue(img.getWidth() > 600 && img.getHeight() > 600, img.toString());
    // Not a blank canvas: the panels hold many colours.
    java.util.Set<Integer> colours = new java.util.HashSet<>();
    for (int y = 0; y < img.getHeight(); y += 3) {
      for (int x = 0; x < img.getWidth(); x += 3) colours.add(img.getRGB(x, y));
    }
    assertTrue(colours.size() > 50, "colours: " + colours.size());
  }

  @Test
  void badLayerIsRefusedWithItsRange() {
    CliTest.Result r = cli("demo", "--layer", "6", "--png", dir.resolve("a.png").toString());
    assertEquals(2, r.code(), r.out());
    assertTrue(r.err().contains("--layer: must be in [0, 5], got 6"), r.err());
  }
}
