package io.github.seqkernels.cli;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.github.seqkernels.models.MiniLm;
import java.io.IOException;
import java.io.InputStream;
import java.nio.LongBuffer;
import java.util.Map;

/**
 * all-MiniLM-L6-v2 on ONNX Runtime, for {@code embed --check}: the same .onnx file on the same
 * token ids, its last hidden state mean-pooled and normalised in float64.
 *
 * <p>ONNX Runtime is a provided dependency: compiled against, not shipped. Only this class names
 * its types, so the CLI loads without it; {@link EmbedCommand#ortAvailable()} says whether this
 * class may be used (not a method here: linking this class may need ONNX Runtime's).
 */
final class OrtReference implements AutoCloseable {
  private final OrtEnvironment env;
  private final OrtSession session;

  static String version() {
    return OrtEnvironment.getEnvironment().getVersion();
  }

  OrtReference() throws IOException {
    this(0);
  }

  /** A session with {@code threads} intra-op threads (0: ONNX Runtime's default, all cores). */
  OrtReference(int threads) throws IOException {
    env = OrtEnvironment.getEnvironment();
    byte[] model;
    try (InputStream in =
        OrtReference.class.getClassLoader().getResourceAsStream(MiniLm.MODEL_RESOURCE)) {
      if (in == null)
        throw new IllegalStateException(MiniLm.MODEL_RESOURCE + " not on the class path");
      model = in.readAllBytes();
    }
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      if (threads > 0) {
        so.setIntraOpNumThreads(threads);
        so.setInterOpNumThreads(1);
      }
      session = env.createSession(model, so);
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime cannot load " + MiniLm.MODEL_RESOURCE, e);
    }
  }

  /** Mean-pooled, L2-normalised embeddings {@code [batch][hidden]} of ORT's last hidden state. */
  double[][] embeddings(MiniLm.Tokens t) {
    long[] shape = {t.batch(), t.length()};
    long[] ids = new long[t.ids().length], types = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = t.ids()[i];
      types[i] = t.typeIds()[i];
    }
    float[][][] hidden;
    try (OnnxTensor a = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
        OnnxTensor m = OnnxTensor.createTensor(env, LongBuffer.wrap(t.attentionMask()), shape);
        OnnxTensor y = OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape);
        OrtSession.Result r =
            session.run(Map.of("input_ids", a, "attention_mask", m, "token_type_ids", y))) {
      hidden = (float[][][]) r.get(0).getValue();
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed on the batch", e);
    }
    double[][] out = new double[t.batch()][];
    for (int b = 0; b < t.batch(); b++) {
      double[] p = new double[hidden[b][0].length];
      for (int j = 0; j < t.lengths()[b]; j++) {
        for (int c = 0; c < p.length; c++) p[c] += hidden[b][j][c];
      }
      double norm = 0;
      for (double v : p) norm += v * v;
      norm = Math.sqrt(norm);
      for (int c = 0; c < p.length; c++) p[c] /= norm;
      out[b] = p;
    }
    return out;
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime: cannot close the session", e);
    }
  }
}
