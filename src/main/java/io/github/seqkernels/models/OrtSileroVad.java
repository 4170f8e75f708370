package io.github.seqkernels.models;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;

/**
 * Silero VAD run by ONNX Runtime, the way its wrappers call it: chunks with the previous chunk's
 * tail in front, the state output fed back as the next state input. The reference that {@link
 * SileroVad} is checked against. ONNX Runtime is not a dependency of the library (Maven scope
 * provided): see that its classes are there before touching this class.
 */
public final class OrtSileroVad implements AutoCloseable {
  private final OrtEnvironment env;
  private final OrtSession session;

  /** A session on {@code model} with {@code threads} intra-op threads. */
  public OrtSileroVad(Path model, int threads) {
    try {
      env = OrtEnvironment.getEnvironment();
      OrtSession.SessionOptions so = new OrtSession.SessionOptions();
      so.setIntraOpNumThreads(threads);
      so.setInterOpNumThreads(1);
      session = env.createSession(model.toString(), so);
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime: cannot open " + model + ": " + e, e);
    }
  }

  /**
   * The probability of every chunk of {@code audio} at {@code rate}, one stream, the last chunk
   * zero-padded: the same protocol as {@link SileroVad#probabilities}.
   */
  public float[] probabilities(float[] audio, int rate) {
    SileroVad.requireRate(rate);
    int chunk = 512 * rate / 16000, context = chunk / 8;
    int n = (audio.length + chunk - 1) / chunk;
    float[] probs = new float[n];
    float[] frame = new float[context + chunk];
    float[] state = new float[2 * 128];
    try (OnnxTensor sr = OnnxTensor.createTensor(env, new long[] {rate})) {
      for (int i = 0; i < n; i++) {
        System.arraycopy(frame, chunk, frame, 0, context);
        int off = i * chunk, len = Math.min(chunk, audio.length - off);
        System.arraycopy(audio, off, frame, context, len);
        java.util.Arrays.fill(frame, context + len, frame.length, 0f);
        try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(frame), shape(frame));
            OnnxTensor s =
                OnnxTensor.createTensor(env, FloatBuffer.wrap(state), new long[] {2, 1, 128});
            OrtSession.Result r = session.run(Map.of("input", x, "state", s, "sr", sr))) {
          probs[i] = ((float[][]) r.get("output").orElseThrow().getValue())[0][0];
          FloatBuffer next = ((OnnxTensor) r.get("stateN").orElseThrow()).getFloatBuffer();
          next.get(state);
        }
      }
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime: " + e, e);
    }
    return probs;
  }

  private static long[] shape(float[] frame) {
    return new long[] {1, frame.length};
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime: " + e, e);
    }
  }
}
