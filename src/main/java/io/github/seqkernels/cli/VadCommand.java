package io.github.seqkernels.cli;

import io.github.seqkernels.Backend;
import io.github.seqkernels.models.ModelFiles;
import io.github.seqkernels.models.OrtSileroVad;
import io.github.seqkernels.models.SileroVad;
import io.github.seqkernels.models.SpeechSegments;
import io.github.seqkernels.models.WavAudio;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code seqkernels vad file.wav}: Silero VAD v5 over a mono 16 or 8 kHz WAV, printing one line
 * {@code speech START-END} (seconds) per segment, and with {@code --probs} first one line {@code
 * prob TIME P} per 32 ms chunk.
 */
@Command(
    name = "vad",
    mixinStandardHelpOptions = true,
    description = {
      "Find speech in a mono 16 or 8 kHz WAV with Silero VAD v5 on seqkernels.",
      "Prints 'speech START-END' (seconds) per segment; with --probs first 'prob TIME P' per"
          + " 32 ms chunk. Segments follow silero-vad's rules: start at P >= threshold, end after"
          + " 100 ms below threshold - 0.15, drop segments of 250 ms or less, pad by 30 ms."
    })
final class VadCommand implements Callable<Integer> {
  /** The largest difference from ONNX Runtime that --check accepts, as in SileroVadTest. */
  static final double CHECK_TOLERANCE = 1e-4;

  @Parameters(index = "0", paramLabel = "FILE", description = "mono WAV, 16000 or 8000 Hz")
  Path file;

  @Option(names = "--probs", description = "also print each chunk's speech probability")
  boolean probs;

  @Option(
      names = "--threshold",
      defaultValue = "0.5",
      description = "speech threshold in (0, 1) (default: ${DEFAULT-VALUE})")
  float threshold;

  @Option(
      names = "--model",
      paramLabel = "PATH",
      description = "silero_vad_v5.onnx (default: the one ci/fetch-models put in the cache)")
  Path model;

  @Option(
      names = "--check",
      description = "also run ONNX Runtime (needs it on the class path) and compare the chunks")
  boolean check;

  @Option(names = "--threads", defaultValue = "1", description = "CPU threads (default: 1)")
  int threads;

  // The default stays the CPU: the model's steps are small (one 512-sample chunk at a time), where
  // a GPU's per-launch cost outweighs its throughput.
  @Option(
      names = "--backend",
      defaultValue = "cpu",
      description = "cpu, cuda, cuda-emulator or auto (default: ${DEFAULT-VALUE})")
  String backend;

  @Override
  public Integer call() {
    if (threads < 1) throw new IllegalArgumentException("--threads: must be >= 1, got " + threads);
    SpeechSegments.Options options = SpeechSegments.Options.defaults().withThreshold(threshold);
    if (check && !onnxRuntimePresent()) {
      throw new IllegalArgumentException(
          "--check: needs ONNX Runtime (com.microsoft.onnxruntime:onnxruntime) on the class path,"
              + " which the CLI jar does not bundle; run with java -cp seqkernels.jar:<its jar>"
              + " io.github.seqkernels.cli.Main vad --check ...");
    }
    float[] p;
    int chunk;
    Path modelFile;
    WavAudio audio;
    // The backend first: a --backend this machine cannot give fails before any file is read.
    try (Backend be = Backend.create(backend, threads)) {
      modelFile = ModelFiles.find(model, SileroVad.V5_FILE);
      audio = WavAudio.read(file);
      SileroVad.requireRate(audio.sampleRate());
      SileroVad vad = SileroVad.load(be, modelFile, audio.sampleRate());
      chunk = vad.chunkSamples();
      p = vad.probabilities(audio.samples());
    }
    if (probs) {
      for (int i = 0; i < p.length; i++) {
        System.out.printf(
            Locale.ROOT, "prob %.3f %.4f%n", (double) i * chunk / audio.sampleRate(), p[i]);
      }
    }
    List<SpeechSegments.Segment> segments =
        SpeechSegments.find(p, chunk, audio.samples().length, audio.sampleRate(), options);
    for (SpeechSegments.Segment s : segments) {
      System.out.printf(Locale.ROOT, "speech %.3f-%.3f%n", s.startSeconds(), s.endSeconds());
    }
    if (!check) return 0;

    float[] ref;
    try (OrtSileroVad ort = new OrtSileroVad(modelFile, threads)) {
      ref = ort.probabilities(audio.samples(), audio.sampleRate());
    }
    double worst = 0;
    int at = 0;
    for (int i = 0; i < ref.length; i++) {
      double d = Math.abs(p[i] - ref[i]);
      if (!(d <= worst)) {
        worst = d;
        at = i;
      }
    }
    boolean ok = worst <= CHECK_TOLERANCE;
    System.out.printf(
        Locale.ROOT,
        "check %s: max |seqkernels - onnxruntime| = %.3g over %d chunks (chunk %d), tolerance %.0e%n",
        ok ? "ok" : "FAILED",
        worst,
        ref.length,
        at,
        CHECK_TOLERANCE);
    return ok ? 0 : 1;
  }

  private static boolean onnxRuntimePresent() {
    try {
      Class.forName("ai.onnxruntime.OrtEnvironment", false, VadCommand.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }
}
