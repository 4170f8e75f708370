package io.github.seqkernels.models;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import javax.sound.sampled.UnsupportedAudioFileException;

/**
 * Mono PCM audio as floats in [-1, 1), read with the JDK's {@code javax.sound.sampled}: 8-, 16-,
 * 24- or 32-bit integer PCM, either byte order. A 16-bit sample s becomes {@code s / 32768}, as
 * soundfile and torchaudio read it.
 */
public record WavAudio(float[] samples, int sampleRate) {
  /** Duration in seconds. */
  public double seconds() {
    return (double) samples.length / sampleRate;
  }

  /** Reads a mono PCM file; anything else throws {@link IllegalArgumentException} saying why. */
  public static WavAudio read(Path file) {
    if (!Files.isRegularFile(file)) throw new IllegalArgumentException("audio: no file at " + file);
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file));
        AudioInputStream in = AudioSystem.getAudioInputStream(raw)) {
      AudioFormat f = in.getFormat();
      if (f.getChannels() != 1) {
        throw new IllegalArgumentException(
            "audio: "
                + file
                + " has "
                + f.getChannels()
                + " channels, must be mono; mix it down, e.g. sox "
                + file
                + " -c 1 mono.wav");
      }
      AudioFormat.Encoding enc = f.getEncoding();
      int bits = f.getSampleSizeInBits();
      if (!(enc.equals(AudioFormat.Encoding.PCM_SIGNED)
              || enc.equals(AudioFormat.Encoding.PCM_UNSIGNED))
          || bits % 8 != 0
          || bits < 8
          || bits > 32) {
        throw new IllegalArgumentException(
            "audio: "
                + file
                + " is "
                + enc
                + " "
                + bits
                + "-bit, must be integer PCM of 8 to 32 bits; convert it, e.g. sox "
                + file
                + " -e signed-integer -b 16 out.wav");
      }
      byte[] bytes = in.readAllBytes();
      int width = bits / 8;
      int n = bytes.length / width;
      float[] out = new float[n];
      boolean big = f.isBigEndian();
      boolean unsigned = enc.equals(AudioFormat.Encoding.PCM_UNSIGNED);
      double scale = 1.0 / (1L << (bits - 1));
      for (int i = 0; i < n; i++) {
        long v = 0;
        for (int k = 0; k < width; k++) {
          int b = bytes[i * width + (big ? k : width - 1 - k)] & 0xff;
          v = (v << 8) | b;
        }
        // Sign-extend from the top bit of the sample, or move unsigned PCM's zero to the middle.
        if (unsigned) v -= 1L << (bits - 1);
        else v = (v << (64 - bits)) >> (64 - bits);
        out[i] = (float) (v * scale);
      }
      return new WavAudio(out, Math.round(f.getSampleRate()));
    } catch (UnsupportedAudioFileException e) {
      throw new IllegalArgumentException(
          "audio: " + file + " is not a WAV/AIFF/AU file the JDK reads (" + e.getMessage() + ")");
    } catch (IOException e) {
      throw new UncheckedIOException("audio: cannot read " + file, e);
    }
  }
}
