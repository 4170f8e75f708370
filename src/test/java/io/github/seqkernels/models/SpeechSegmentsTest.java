package io.github.seqkernels.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.seqkernels.models.SpeechSegments.Options;
import io.github.seqkernels.models.SpeechSegments.Segment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The segment rules on hand-made probabilities, with expected samples worked out by hand. 512
 * samples per chunk at 16 kHz: min speech 250 ms = 4000 samples, min silence 100 ms = 1600, pad 30
 * ms = 480.
 */
class SpeechSegmentsTest {
  static final int CHUNK = 512, RATE = 16000;

  /** Runs of (count, probability). */
  static float[] probs(double... runs) {
    List<Float> out = new ArrayList<>();
    for (int i = 0; i < runs.length; i += 2) {
      for (int k = 0; k < (int) runs[i]; k++) out.add((float) runs[i + 1]);
    }
    float[] a = new float[out.size()];
    for (int i = 0; i < a.length; i++) a[i] = out.get(i);
    return a;
  }

  static List<long[]> find(float[] p, Options o) {
    List<long[]> out = new ArrayList<>();
    for (Segment s : SpeechSegments.find(p, CHUNK, (long) p.length * CHUNK, RATE, o)) {
      out.add(new long[] {s.start(), s.end()});
    }
    return out;
  }

  static void assertSegments(List<long[]> got, long... want) {
    StringBuilder g = new StringBuilder();
    for (long[] s : got) g.append(s[0]).append('-').append(s[1]).append(' ');
    assertEquals(want.length / 2, got.size(), "segments " + g);
    for (int i = 0; i < got.size(); i++) {
      assertEquals(want[2 * i], got.get(i)[0], "start of segment " + i + " in " + g);
      assertEquals(want[2 * i + 1], got.get(i)[1], "end of segment " + i + " in " + g);
    }
  }

  @Test
  void twoSentencesArePaddedBy30ms() {
    // Speech in chunks 10..29 and 40..59: raw [5120, 15360] and [20480, 30720].
    float[] p = probs(10, 0.02, 20, 0.9, 10, 0.1, 20, 0.8, 10, 0.0);
    assertSegments(find(p, Options.defaults()), 4640, 15840, 20000, 31200);
  }

  @Test
  void aBurstOf250msOrLessIsDropped() {
    // 7 chunks = 3584 samples <= 4000; 8 chunks = 4096 > 4000 is kept.
    assertSegments(find(probs(5, 0, 7, 0.9, 10, 0), Options.defaults()));
    assertSegments(find(probs(5, 0, 8, 0.9, 10, 0), Options.defaults()), 2080, 7136);
  }

  @Test
  void aDipShorterThan100msDoesNotEndSpeech() {
    // Below 0.35 for 3 chunks (1536 < 1600 samples): one segment, chunks 5..27.
    float[] p = probs(5, 0, 10, 0.9, 3, 0.2, 10, 0.9, 10, 0);
    assertSegments(find(p, Options.defaults()), 2080, 14816);
    // Between the thresholds speech goes on however long it lasts: chunks 5..44.
    p = probs(5, 0, 10, 0.9, 20, 0.4, 10, 0.9, 10, 0);
    assertSegments(find(p, Options.defaults()), 2080, 23520);
  }

  @Test
  void aGapNarrowerThanTwoPadsIsSplit() {
    // No min silence or min speech: chunk 3 ends the first segment at 1536, chunk 4 starts the
    // next at 2048; the 512-sample gap is under 960, so each side takes 256 of it.
    Options o = new Options(0.5f, 0.35f, 0, 0, 30);
    assertSegments(find(probs(3, 0.9, 1, 0.1, 3, 0.9, 1, 0.1), o), 0, 1792, 1792, 4064);
  }

  @Test
  void speechRunningToTheEndEndsThere() {
    assertSegments(find(probs(5, 0, 20, 0.9), Options.defaults()), 2080, 12800);
  }

  @Test
  void thresholdsAreChecked() {
    assertThrows(IllegalArgumentException.class, () -> Options.defaults().withThreshold(1.5f));
    assertThrows(IllegalArgumentException.class, () -> new Options(0.5f, 0.6f, 250, 100, 30));
    assertEquals(0.35f, Options.defaults().withThreshold(0.5f).negThreshold(), 1e-6f);
  }
}
