package io.github.seqkernels.models;

import java.util.ArrayList;
import java.util.List;

/**
 * Speech segments from per-chunk speech probabilities, with the rules of silero-vad's {@code
 * get_speech_timestamps} and its defaults:
 *
 * <ul>
 *   <li>speech starts at the first chunk with probability >= {@code threshold} (0.5);
 *   <li>it ends where the probability drops below {@code negThreshold} (threshold - 0.15 = 0.35)
 *       and stays below threshold for at least {@code minSilenceMs} (100 ms); the end is the start
 *       of that quiet stretch;
 *   <li>segments no longer than {@code minSpeechMs} (250 ms) are dropped;
 *   <li>each segment is widened by {@code speechPadMs} (30 ms) on both sides, clipped to the audio;
 *       where two segments are closer than twice that, the gap is split between them.
 * </ul>
 *
 * Not followed: {@code max_speech_duration_s} (default unlimited there, so never split here) and
 * the optional merging of short gaps; probabilities between the two thresholds keep the current
 * state, as there.
 */
public final class SpeechSegments {
  private SpeechSegments() {}

  /** One stretch of speech, in samples of the audio, [start, end). */
  public record Segment(long start, long end, int sampleRate) {
    public double startSeconds() {
      return (double) start / sampleRate;
    }

    public double endSeconds() {
      return (double) end / sampleRate;
    }
  }

  /** The thresholds and durations; {@link #defaults()} are silero-vad's. */
  public record Options(
      float threshold, float negThreshold, int minSpeechMs, int minSilenceMs, int speechPadMs) {
    public Options {
      if (!(threshold > 0 && threshold < 1)) {
        throw new IllegalArgumentException("threshold: must be in (0, 1), got " + threshold);
      }
      if (!(negThreshold >= 0 && negThreshold <= threshold)) {
        throw new IllegalArgumentException(
            "negThreshold: must be in [0, threshold = " + threshold + "], got " + negThreshold);
      }
      if (minSpeechMs < 0 || minSilenceMs < 0 || speechPadMs < 0) {
        throw new IllegalArgumentException(
            "durations: must be >= 0 ms, got minSpeech "
                + minSpeechMs
                + ", minSilence "
                + minSilenceMs
                + ", speechPad "
                + speechPadMs);
      }
    }

    public static Options defaults() {
      return new Options(0.5f, 0.35f, 250, 100, 30);
    }

    /** This threshold, with the negative threshold 0.15 below it (at least 0.01), as silero. */
    public Options withThreshold(float t) {
      return new Options(t, Math.max(0.01f, t - 0.15f), minSpeechMs, minSilenceMs, speechPadMs);
    }
  }

  /**
   * The segments of an audio of {@code audioSamples} samples at {@code sampleRate} whose chunk i
   * (of {@code chunkSamples} samples) has speech probability {@code probs[i]}.
   */
  public static List<Segment> find(
      float[] probs, int chunkSamples, long audioSamples, int sampleRate, Options o) {
    if (chunkSamples < 1) {
      throw new IllegalArgumentException("chunkSamples: must be >= 1, got " + chunkSamples);
    }
    if (sampleRate < 1) {
      throw new IllegalArgumentException("sampleRate: must be >= 1, got " + sampleRate);
    }
    long minSpeech = (long) sampleRate * o.minSpeechMs() / 1000;
    long minSilence = (long) sampleRate * o.minSilenceMs() / 1000;
    long pad = (long) sampleRate * o.speechPadMs() / 1000;

    // Raw segments: a two-threshold trigger, with a pending end that speech can cancel.
    List<long[]> raw = new ArrayList<>();
    boolean speaking = false;
    long start = 0, pendingEnd = -1;
    for (int i = 0; i < probs.length; i++) {
      long at = (long) i * chunkSamples;
      float p = probs[i];
      if (p >= o.threshold()) {
        pendingEnd = -1;
        if (!speaking) {
          speaking = true;
          start = at;
        }
        continue;
      }
      if (speaking && p < o.negThreshold()) {
        if (pendingEnd < 0) pendingEnd = at;
        if (at - pendingEnd >= minSilence) {
          if (pendingEnd - start > minSpeech) raw.add(new long[] {start, pendingEnd});
          speaking = false;
          pendingEnd = -1;
        }
      }
    }
    if (speaking && audioSamples - start > minSpeech) raw.add(new long[] {start, audioSamples});

    // Padding: pad each side, or split a gap narrower than two pads between its neighbours.
    List<Segment> out = new ArrayList<>();
    for (int i = 0; i < raw.size(); i++) {
      long[] s = raw.get(i);
      if (i == 0) s[0] = Math.max(0, s[0] - pad);
      if (i + 1 < raw.size()) {
        long[] next = raw.get(i + 1);
        long gap = next[0] - s[1];
        if (gap < 2 * pad) {
          s[1] += gap / 2;
          next[0] = Math.max(0, next[0] - gap / 2);
        } else {
          s[1] = Math.min(audioSamples, s[1] + pad);
          next[0] = Math.max(0, next[0] - pad);
        }
      } else {
        s[1] = Math.min(audioSamples, s[1] + pad);
      }
      out.add(new Segment(s[0], s[1], sampleRate));
    }
    return out;
  }
}
