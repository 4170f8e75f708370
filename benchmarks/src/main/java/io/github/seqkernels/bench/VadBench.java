package io.github.seqkernels.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.github.seqkernels.Backend;
import io.github.seqkernels.models.ModelFiles;
import io.github.seqkernels.models.OrtSileroVad;
import io.github.seqkernels.models.SileroVad;
import io.github.seqkernels.models.WavAudio;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Silero VAD v5 streaming, one 512-sample chunk (32 ms at 16 kHz) per call, over the tests' speech
 * recording in a loop: seqkernels' {@link SileroVad.Detector} against ONNX Runtime Java called as
 * silero's wrapper calls it (context in front, state fed back), both on {@code threads} threads.
 * Throughput is chunks per second; real time is 31.25 chunks/s.
 *
 * <p>ONNX Runtime gets its best Java path: input and state tensors over direct buffers made once,
 * refilled in place, so each call is one {@code session.run}. The setup checks that both give the
 * same probabilities on the first chunks.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--add-modules",
      "jdk.incubator.vector",
      "--enable-native-access=ALL-UNNAMED",
      "--sun-misc-unsafe-memory-access=allow"
    })
public class VadBench {
  @Param({"seqkernels", "onnxruntime"})
  String impl;

  @Param("2")
  int threads;

  /** The recording, from the repository root or from benchmarks/. */
  @Param("src/main/resources/io/github/seqkernels/demo/speech_16k.wav")
  String wav;

  static final int RATE = 16000, CHUNK = 512, CONTEXT = 64;

  private float[] audio;
  private int chunks, next;

  private Backend backend;
  private SileroVad.Detector detector;

  private OrtEnvironment env;
  private OrtSession session;
  private FloatBuffer frame, state;
  private OnnxTensor frameT, stateT, srT;
  private Map<String, OnnxTensor> inputs;

  @Setup(Level.Trial)
  public void setUp() throws OrtException {
    Path p = Path.of(wav);
    if (!Files.exists(p)) p = Path.of("..").resolve(wav);
    audio = WavAudio.read(p).samples();
    chunks = audio.length / CHUNK;
    Path model = ModelFiles.find(null, SileroVad.V5_FILE);
    float[] ref;
    try (OrtSileroVad ort = new OrtSileroVad(model, 1)) {
      ref = ort.probabilities(java.util.Arrays.copyOf(audio, 40 * CHUNK), RATE);
    }

    if (impl.equals("seqkernels")) {
      backend = Backend.create("cpu", threads);
      detector = SileroVad.load(backend, model, RATE).newDetector();
    } else {
      env = OrtEnvironment.getEnvironment();
      OrtSession.SessionOptions so = new OrtSession.SessionOptions();
      so.setIntraOpNumThreads(threads);
      so.setInterOpNumThreads(1);
      session = env.createSession(model.toString(), so);
      frame = direct(CONTEXT + CHUNK);
      state = direct(2 * 128);
      frameT = OnnxTensor.createTensor(env, frame, new long[] {1, CONTEXT + CHUNK});
      stateT = OnnxTensor.createTensor(env, state, new long[] {2, 1, 128});
      srT = OnnxTensor.createTensor(env, new long[] {RATE});
      inputs = Map.of("input", frameT, "state", stateT, "sr", srT);
    }
    float[] got = new float[ref.length];
    for (int i = 0; i < ref.length; i++) got[i] = chunk();
    double[] want = new double[ref.length];
    for (int i = 0; i < ref.length; i++) want[i] = ref[i];
    Control.requireClose(impl + " probabilities, first " + ref.length + " chunks", got, want);
  }

  private static FloatBuffer direct(int n) {
    return ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
  }

  /** The next chunk's probability; at the end of the recording the stream starts over. */
  @Benchmark
  public float chunk() throws OrtException {
    if (next == chunks) {
      next = 0;
      if (detector != null) detector.reset();
      else {
        for (int i = 0; i < state.capacity(); i++) state.put(i, 0f);
        for (int i = 0; i < CONTEXT; i++) frame.put(i, 0f);
      }
    }
    int off = next++ * CHUNK;
    if (detector != null) return detector.process(audio, off);

    for (int i = 0; i < CONTEXT; i++) frame.put(i, frame.get(CHUNK + i));
    frame.put(CONTEXT, audio, off, CHUNK);
    try (OrtSession.Result r = session.run(inputs)) {
      float p = ((float[][]) r.get("output").orElseThrow().getValue())[0][0];
      state.put(0, ((OnnxTensor) r.get("stateN").orElseThrow()).getFloatBuffer(), 0, 256);
      return p;
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws OrtException {
    if (detector != null) {
      detector.close();
      backend.close();
    } else {
      frameT.close();
      stateT.close();
      srT.close();
      session.close();
    }
  }
}
