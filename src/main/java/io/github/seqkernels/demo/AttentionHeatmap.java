package io.github.seqkernels.demo;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Draws attention weights of one layer as a grid of heatmaps, one panel per head: row i of a panel
 * is query token i, column j key token j, the colour the weight (0 dark, the panel's maximum
 * bright). Query labels run down the left of the first column, key labels along the top of the
 * first row. Written with the JDK's ImageIO.
 */
public final class AttentionHeatmap {
  private static final int CELL = 18;
  private static final int GAP = 26;
  private static final int COLUMNS = 4;

  // Anchors of a perceptually ordered dark-blue -> green -> yellow map.
  private static final float[][] MAP = {
    {0.267f, 0.005f, 0.329f},
    {0.230f, 0.322f, 0.546f},
    {0.128f, 0.567f, 0.551f},
    {0.369f, 0.789f, 0.383f},
    {0.993f, 0.906f, 0.144f}
  };

  private AttentionHeatmap() {}

  /**
   * Writes {@code weights} ({@code [heads, S, S]} row-major, rows summing to 1) for {@code tokens}
   * (length S) as a PNG.
   */
  public static void write(Path out, String title, List<String> tokens, float[] weights, int heads)
      throws IOException {
    int s = tokens.size();
    if (weights.length != (long) heads * s * s) {
      throw new IllegalArgumentException(
          "weights: must hold heads·S·S = " + heads * s * s + " values, got " + weights.length);
    }
    Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    Font bold = font.deriveFont(Font.BOLD, 15f);
    BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
    Graphics2D pg = probe.createGraphics();
    FontMetrics fm = pg.getFontMetrics(font);
    int label = 0;
    for (String t : tokens) label = Math.max(label, fm.stringWidth(t));
    pg.dispose();
    label += 8;

    int rows = (heads + COLUMNS - 1) / COLUMNS;
    int panel = s * CELL;
    int top = 40 + label;
    int width = label + COLUMNS * panel + (COLUMNS - 1) * GAP + 20;
    int height = top + rows * (panel + GAP + 4) + 10;
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);
    g.setColor(Color.BLACK);
    g.setFont(bold);
    g.drawString(title, 10, 22);
    g.setFont(font);

    for (int h = 0; h < heads; h++) {
      int x0 = label + (h % COLUMNS) * (panel + GAP);
      int y0 = top + (h / COLUMNS) * (panel + GAP + 4);
      float max = 0;
      for (int i = 0; i < s * s; i++) max = Math.max(max, weights[h * s * s + i]);
      for (int i = 0; i < s; i++) {
        for (int j = 0; j < s; j++) {
          float w = weights[(h * s + i) * s + j];
          g.setColor(colour(max > 0 ? w / max : 0));
          g.fillRect(x0 + j * CELL, y0 + i * CELL, CELL, CELL);
        }
      }
      g.setColor(Color.DARK_GRAY);
      g.setStroke(new BasicStroke(1f));
      g.drawRect(x0, y0, panel, panel);
      g.setColor(Color.BLACK);
      g.drawString("head " + h, x0, y0 + panel + 15);
      if (h % COLUMNS == 0) {
        for (int i = 0; i < s; i++) {
          String t = tokens.get(i);
          g.drawString(t, x0 - fm.stringWidth(t) - 4, y0 + i * CELL + CELL - 5);
        }
      }
      if (h < COLUMNS) {
        AffineTransform saved = g.getTransform();
        for (int j = 0; j < s; j++) {
          g.setTransform(saved);
          g.translate(x0 + j * CELL + CELL - 5, y0 - 4);
          g.rotate(-Math.PI / 2);
          g.drawString(tokens.get(j), 0, 0);
        }
        g.setTransform(saved);
      }
    }
    g.dispose();
    Path parent = out.toAbsolutePath().getParent();
    if (parent != null) Files.createDirectories(parent);
    if (!ImageIO.write(img, "png", out.toFile())) {
      throw new IOException("no PNG writer in this JDK");
    }
  }

  static Color colour(float v) {
    float x = Math.max(0, Math.min(1, v)) * (MAP.length - 1);
    int i = Math.min((int) x, MAP.length - 2);
    float f = x - i;
    float[] a = MAP[i], b = MAP[i + 1];
    return new Color(a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2]));
  }
}
