package io.github.seqkernels.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** WAV files written by the JDK with known samples, read back as floats. */
class WavAudioTest {
  @TempDir Path dir;

  Path write(String name, AudioFormat f, byte[] data) throws IOException {
    Path p = dir.resolve(name);
    try (AudioInputStream in =
        new AudioInputStream(new ByteArrayInputStream(data), f, data.length / f.getFrameSize())) {
      AudioSystem.write(in, AudioFileFormat.Type.WAVE, p.toFile());
    }
    return p;
  }

  @Test
  void sixteenBitSamplesAreDividedBy32768() throws IOException {
    short[] s = {0, 1, -1, 16384, -32768, 32767};
    byte[] b = new byte[2 * s.length];
    for (int i = 0; i < s.length; i++) {
      b[2 * i] = (byte) s[i];
      b[2 * i + 1] = (byte) (s[i] >> 8);
    }
    WavAudio a = WavAudio.read(write("a.wav", new AudioFormat(16000, 16, 1, true, false), b));
    assertEquals(16000, a.sampleRate());
    float[] want = new float[s.length];
    for (int i = 0; i < s.length; i++) want[i] = s[i] / 32768f;
    assertArrayEquals(want, a.samples(), 0f);
  }

  @Test
  void eightBitUnsignedIsCentredOn128() throws IOException {
    byte[] b = {(byte) 128, (byte) 0, (byte) 255, (byte) 192};
    WavAudio a = WavAudio.read(write("u8.wav", new AudioFormat(8000, 8, 1, false, false), b));
    assertArrayEquals(new float[] {0f, -1f, 127 / 128f, 0.5f}, a.samples(), 0f);
  }

  @Test
  void stereoAndMissingFilesAreRefusedWithTheFix() throws IOException {
    Path st = write("st.wav", new AudioFormat(16000, 16, 2, true, false), new byte[16]);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> WavAudio.read(st));
    assertTrue(e.getMessage().contains("2 channels") && e.getMessage().contains("sox"));
    e = assertThrows(IllegalArgumentException.class, () -> WavAudio.read(dir.resolve("no.wav")));
    assertTrue(e.getMessage().contains("no.wav"), e.getMessage());
    Path junk = dir.resolve("junk.wav");
    Files.writeString(junk, "not audio");
    e = assertThrows(IllegalArgumentException.class, () -> WavAudio.read(junk));
    assertTrue(e.getMessage().contains("junk.wav"), e.getMessage());
  }
}
