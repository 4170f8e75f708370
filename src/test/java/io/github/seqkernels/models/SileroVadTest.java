package io.github.seqkernels.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.seqkernels.Backend;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Silero VAD v5 on seqkernels against ONNX Runtime running the same ONNX file on the committed
 * speech recording (src/test/resources/audio, made by make_speech.sh), one stream over the whole
 * file so that the carried state is checked too. The model comes from ci/fetch-models.
 */
class SileroVadTest {
  /**
   * Per-chunk probabilities agree to 1e-4: both sides compute in float32 and differ only in the
   * order of the sums (about 1e-6 relative in the layers), which a sigmoid near 0 or 1 shrinks.
   */
  static final double TOLERANCE = 1e-4;

  static Backend backend;

  @BeforeAll
  static void open() {
    backend = Backend.create("cpu", 2);
  }

  @AfterAll
  static void close() {
    backend.close();
  }

  static Path resource(String name) {
    try {
      String dir = name.equals("speech_16k.wav") ? "/io/github/seqkernels/demo/" : "/audio/";
      return Path.of(SileroVadTest.class.getResource(dir + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static float[] compareWithOnnxRuntime(String wav, int rate) {
    WavAudio audio = WavAudio.read(resource(wav));
    assertEquals(rate, audio.sampleRate());
    SileroVad vad = SileroVad.load(backend, null, rate);
    float[] ours = vad.probabilities(audio.samples());
    float[] ref;
    try (OrtSileroVad ort = new OrtSileroVad(ModelFiles.find(null, SileroVad.V5_FILE), 2)) {
      ref = ort.probabilities(audio.samples(), rate);
    }
    assertEquals(ref.length, ours.length);
    double worst = 0;
    int at = -1;
    for (int i = 0; i < ref.length; i++) {
      double d = Math.abs(ours[i] - ref[i]);
      if (!(d <= worst)) {
        worst = d;
        at = i;
      }
    }
    System.out.printf(
        "silero v5 %d Hz: %d chunks, max |seqkernels - onnxruntime| = %.3g at chunk %d%n",
        rate, ref.length, worst, at);
    assertTrue(
        worst <= TOLERANCE,
        "chunk " + at + ": seqkernels " + ours[at] + ", onnxruntime " + ref[at]);
    return ours;
  }

  @Test
  void matchesOnnxRuntimeAt16k() {
    float[] p = compareWithOnnxRuntime("speech_16k.wav", 16000);
    // Not a constant model: the recording has chunks of sure speech and of sure silence.
    float min = 1, max = 0;
    for (float v : p) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assertTrue(min < 0.01 && max > 0.99, "probabilities span [" + min + ", " + max + "]");
  }

  @Test
  void matchesOnnxRuntimeAt8k() {
    compareWithOnnxRuntime("speech_8k.wav", 8000);
  }

  /** The sentences' times, as make_speech.sh wrote them: {start, end} seconds per line. */
  static List<double[]> sentences() throws IOException {
    List<double[]> out = new ArrayList<>();
    for (String line : Files.readAllLines(resource("speech_16k.segments"))) {
      if (line.startsWith("#") || line.isBlank()) continue;
      String[] f = line.trim().split("\\s+");
      out.add(new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1])});
    }
    return out;
  }

  /**
   * One segment per sentence, at 16 and 8 kHz: each covers its sentence but for 0.1 s at either end
   * (the 32 ms chunks, and a voice's soft onset and fade) and reaches at most 0.25 s past it (the
   * 30 ms pad, and the model's probability decaying over a few chunks after speech).
   */
  @Test
  void segmentsAreWhereTheSentencesAre() throws IOException {
    List<double[]> want = sentences();
    assertEquals(2, want.size());
    for (String wav : new String[] {"speech_16k.wav", "speech_8k.wav"}) {
      WavAudio audio = WavAudio.read(resource(wav));
      SileroVad vad = SileroVad.load(backend, null, audio.sampleRate());
      List<SpeechSegments.Segment> got =
          SpeechSegments.find(
              vad.probabilities(audio.samples()),
              vad.chunkSamples(),
              audio.samples().length,
              audio.sampleRate(),
              SpeechSegments.Options.defaults());
      System.out.println(wav + ": " + got);
      assertEquals(want.size(), got.size(), wav + ": " + got);
      for (int i = 0; i < want.size(); i++) {
        double s = got.get(i).startSeconds(), e = got.get(i).endSeconds();
        double ws = want.get(i)[0], we = want.get(i)[1];
        String msg = wav + " sentence " + i + ": want " + ws + "-" + we + ", got " + s + "-" + e;
        assertTrue(s <= ws + 0.1 && s >= ws - 0.25, msg);
        assertTrue(e >= we - 0.1 && e <= we + 0.25, msg);
      }
    }
  }

  /** Two streams through two detectors, chunks interleaved, keep apart; reset starts afresh. */
  @Test
  void detectorsCarryTheirOwnStateAndResetToTheStart() {
    float[] a = WavAudio.read(resource("speech_16k.wav")).samples();
    float[] b = new float[a.length];
    for (int i = 0; i < b.length; i++) b[i] = a[a.length - 1 - i]; // the file backwards
    SileroVad vad = SileroVad.load(backend, null, 16000);
    float[] pa = vad.probabilities(a), pb = vad.probabilities(b);
    int chunk = vad.chunkSamples(), n = a.length / chunk;
    try (SileroVad.Detector da = vad.newDetector();
        SileroVad.Detector db = vad.newDetector()) {
      for (int i = 0; i < n; i++) {
        assertEquals(pa[i], da.process(a, i * chunk), 0f, "stream a, chunk " + i);
        assertEquals(pb[i], db.process(b, i * chunk), 0f, "stream b, chunk " + i);
      }
      da.reset();
      for (int i = 0; i < n; i++) {
        assertEquals(pa[i], da.process(a, i * chunk), 0f, "stream a after reset, chunk " + i);
      }
    }
  }

  @Test
  void badInputIsRefusedWithTheRuleAndTheFix() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> SileroVad.load(backend, null, 44100));
    assertTrue(e.getMessage().contains("44100") && e.getMessage().contains("sox"), e.getMessage());

    e =
        assertThrows(
            IllegalArgumentException.class, () -> ModelFiles.find(null, "no_such_model.onnx"));
    assertTrue(e.getMessage().contains("ci/fetch-models"), e.getMessage());

    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> SileroVad.load(backend, Path.of("/nonexistent/vad.onnx"), 16000));
    assertTrue(e.getMessage().contains("/nonexistent/vad.onnx"), e.getMessage());

    SileroVad vad = SileroVad.load(backend, null, 16000);
    try (SileroVad.Detector d = vad.newDetector()) {
      e = assertThrows(IllegalArgumentException.class, () -> d.process(new float[600], 100));
      assertTrue(e.getMessage().contains("512"), e.getMessage());
    }
  }
}
