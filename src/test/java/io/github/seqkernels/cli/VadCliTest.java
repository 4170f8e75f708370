package io.github.seqkernels.cli;

import static io.github.seqkernels.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code seqkernels vad} on the committed recording: output lines, --check, exit codes. */
class VadCliTest {
  @TempDir Path dir;

  static String speech() {
    try {
      return Path.of(
              VadCliTest.class.getResource("/io/github/seqkernels/demo/speech_16k.wav").toURI())
          .toString();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static List<String> lines(String out, String prefix) {
    return Arrays.stream(out.split("\n")).filter(l -> l.startsWith(prefix)).toList();
  }

  @Test
  void printsTwoSegmentsAndWithProbsOneLinePerChunk() {
    CliTest.Result r = cli("vad", speech());
    assertEquals(0, r.code(), r.err());
    List<String> speech = lines(r.out(), "speech ");
    assertEquals(2, speech.size(), r.out());
    // The first sentence starts at 1.000 s in the file; the segment a chunk and a pad before it.
    String[] first = speech.get(0).substring(7).split("-");
    double start = Double.parseDouble(first[0]), end = Double.parseDouble(first[1]);
    assertTrue(start > 0.75 && start <= 1.1 && end > start, speech.get(0));

    r = cli("vad", "--probs", speech());
    assertEquals(0, r.code(), r.err());
    List<String> probs = lines(r.out(), "prob ");
    assertEquals(313, probs.size()); // ceil(160160 samples / 512)
    assertEquals("prob 0.032", probs.get(1).substring(0, 10));
    assertEquals(speech, lines(r.out(), "speech "));
  }

  @Test
  void checkAgreesWithOnnxRuntime() {
    CliTest.Result r = cli("vad", "--check", speech());
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("check ok"), r.out());
  }

  @Test
  void aHighThresholdFindsLessSpeech() {
    CliTest.Result r = cli("vad", "--threshold", "0.999", speech());
    assertEquals(0, r.code(), r.err());
    double total = 0;
    for (String l : lines(r.out(), "speech ")) {
      String[] f = l.substring(7).split("-");
      total += Double.parseDouble(f[1]) - Double.parseDouble(f[0]);
    }
    assertTrue(total < 6.5, "speech at 0.999: " + total + " s\n" + r.out());
  }

  @Test
  void badInputIsOneLineAndExitCode2() throws IOException {
    Path wav44 = dir.resolve("cd.wav");
    byte[] silence = new byte[4410 * 2];
    AudioFormat f = new AudioFormat(44100, 16, 1, true, false);
    try (AudioInputStream in =
        new AudioInputStream(new ByteArrayInputStream(silence), f, silence.length / 2)) {
      AudioSystem.write(in, AudioFileFormat.Type.WAVE, wav44.toFile());
    }
    String[][] cases = {
      {"vad", wav44.toString()},
      {"vad", "--threshold", "1.5", speech()},
      {"vad", "--model", dir.resolve("none.onnx").toString(), speech()},
      {"vad", dir.resolve("none.wav").toString()},
      {"vad", "--threads", "0", speech()}
    };
    String[] expect = {"sox", "threshold", "none.onnx", "none.wav", "--threads"};
    for (int i = 0; i < cases.length; i++) {
      CliTest.Result r = cli(cases[i]);
      assertEquals(2, r.code(), Arrays.toString(cases[i]) + ": " + r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
      assertTrue(r.err().contains(expect[i]), r.err());
      assertEquals("", r.out());
    }
  }
}
