package io.github.seqkernels.models;

import io.github.seqkernels.Activation;
import io.github.seqkernels.Backend;
import io.github.seqkernels.Conv1dOp;
import io.github.seqkernels.Conv1dOptions;
import io.github.seqkernels.RecurrentCell;
import io.github.seqkernels.RecurrentOptions;
import io.github.seqkernels.RecurrentState;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.onnx.OnnxTensors;
import io.github.seqkernels.onnx.proto.Onnx.AttributeProto;
import io.github.seqkernels.onnx.proto.Onnx.GraphProto;
import io.github.seqkernels.onnx.proto.Onnx.ModelProto;
import io.github.seqkernels.onnx.proto.Onnx.NodeProto;
import io.github.seqkernels.onnx.proto.Onnx.TensorProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Silero VAD v5 (MIT licence, snakers4/silero-vad) on seqkernels operators: the speech probability
 * of each 32 ms chunk of 16 kHz (or 8 kHz) mono audio.
 *
 * <p>The network, per chunk of N samples (512 at 16 kHz, 256 at 8 kHz) with C samples of context
 * (64 / 32, the tail of the previous chunk, zeros at the start) in front:
 *
 * <pre>
 * frame [1, 1, C+N] -> reflect-pad P on the right           (P = 64 / 32)
 *   -> Conv1d with the STFT basis [2F, 1, W], stride W/2     (F = 129 / 65 bins, W = 256 / 128)
 *   -> magnitude sqrt(re² + im²) [1, F, 4]
 *   -> 4 x (Conv1d k3 pad 1, strides 1 2 2 1, + ReLU)      [1, 128, 4] [1, 64, 2] [1, 64, 1] [1, 128, 1]
 *   -> LSTM cell, hidden 128, state (h, c) carried to the next chunk
 *   -> ReLU(h) -> Conv1d 1x1 to one channel -> sigmoid       the probability
 * </pre>
 *
 * The convolutions, ReLUs, sigmoid and the LSTM cell run on the {@link Backend}'s operators; the
 * reflection padding and the magnitude are a few lines of host code.
 *
 * <p>On a backend with device memory ({@link Backend#usesDeviceMemory()}) the weights are copied to
 * the device once, at load, and each {@link Detector} keeps its buffers and the LSTM state there
 * between chunks: a chunk copies its frame in and the STFT out (the magnitude is host code), the
 * magnitudes in and the probability out, four copies whatever the network's size. {@link #close()}
 * gives the device weights back (the backend's close does too). The context in front of each chunk
 * is not in the graph: the model's own wrappers (silero-vad's {@code OnnxWrapper}, vad-web's {@code
 * Silero}) prepend it, and so does {@link Detector}.
 *
 * <p>The weights come from the ONNX file: the graph branches on the sample rate ({@code If(sr ==
 * 16000)}), each branch holding its own weights as Constant nodes, read here by name together with
 * the attributes of the Conv nodes that use them. The LSTM weights are stored in PyTorch's gate
 * order (i, f, g, o), and the graph reorders them to ONNX's (i, o, f, c) with Slice and Concat
 * before its LSTM node; {@link #load} does the same reordering once.
 *
 * <p>Threads: a chunk is about 0.6 M multiply-adds split over a dozen operator calls, too little to
 * pay for waking a thread pool, so give it a one-thread backend (the CLI's default). On the 2-core
 * development machine, under load, a 2-thread backend was many times slower per chunk than one
 * thread (VadBench smoke run: 76 against 1970 chunks/s), mostly in the STFT's product (258 x 4, k =
 * 256), which the GEMM then split across the pool. The prepared convolutions now run such small
 * products on the calling thread, so a 2-thread backend costs little (VadBench, 2 threads: about
 * 9000 chunks/s).
 */
public final class SileroVad implements AutoCloseable {
  /** The file {@code ci/fetch-models} puts in {@link ModelFiles#cacheDir()}. */
  public static final String V5_FILE = "silero_vad_v5.onnx";

  private static final int HIDDEN = 128;

  private final Backend backend;
  private final int sampleRate, chunk, context, pad, bins, window;
  private final Conv1dOptions basisOptions;
  private final Tensor[] encW = new Tensor[4]; // for their shapes; the prepared convs hold copies
  private final Conv1dOptions[] encOptions = new Conv1dOptions[4];
  private final RecurrentCell cell;
  private final boolean onDevice;
  private final List<Conv1dOp.Prepared> convs = new ArrayList<>();
  private final Conv1dOp.Prepared stft, decoder;
  private final Conv1dOp.Prepared[] encoder = new Conv1dOp.Prepared[4];

  private SileroVad(Backend backend, int sampleRate, Branch br) {
    this.backend = backend;
    this.onDevice = backend.usesDeviceMemory();
    this.sampleRate = sampleRate;
    chunk = 512 * sampleRate / 16000;
    context = chunk / 8;

    Tensor basis = br.tensor("stft.forward_basis_buffer");
    if (basis.rank() != 3 || basis.size(1) != 1 || basis.size(0) % 2 != 0) {
      throw br.bad("stft.forward_basis_buffer must be [2F, 1, W], got " + shape(basis));
    }
    bins = (int) basis.size(0) / 2;
    window = (int) basis.size(2);
    basisOptions = br.convOptions("stft.forward_basis_buffer");
    long[] padSpec = br.longs("/stft/padding/Constant_1_output_0");
    if (padSpec.length != 2 || padSpec[0] != 0 || padSpec[1] < 1) {
      throw br.bad("the STFT's reflection padding must be [0, p], got " + Arrays.toString(padSpec));
    }
    pad = (int) padSpec[1];

    Tensor[] encB = new Tensor[4];
    for (int i = 0; i < 4; i++) {
      String w = "encoder." + i + ".reparam_conv.weight";
      encW[i] = br.tensor(w);
      encB[i] = br.tensor("encoder." + i + ".reparam_conv.bias");
      encOptions[i] = br.convOptions(w);
    }
    Tensor decW = br.tensor("decoder.decoder.2.weight");
    Tensor decB = br.tensor("decoder.decoder.2.bias");
    Conv1dOptions decOptions = br.convOptions("decoder.decoder.2.weight");

    // PyTorch's LSTM blocks (i, f, g, o) to ONNX's (i, o, f, c): the graph's own Slice + Concat.
    float[] wih = onnxGateOrder(br.floats("decoder.rnn.weight_ih"));
    float[] whh = onnxGateOrder(br.floats("decoder.rnn.weight_hh"));
    float[] bih = onnxGateOrder(br.floats("decoder.rnn.bias_ih"));
    float[] bhh = onnxGateOrder(br.floats("decoder.rnn.bias_hh"));
    int in = (int) encW[3].size(0);
    if (wih.length != 4 * HIDDEN * in || whh.length != 4 * HIDDEN * HIDDEN) {
      throw br.bad("decoder.rnn weights must be [512, " + in + "] and [512, 128]");
    }
    float[] b = new float[8 * HIDDEN];
    System.arraycopy(bih, 0, b, 0, 4 * HIDDEN);
    System.arraycopy(bhh, 0, b, 4 * HIDDEN, 4 * HIDDEN);
    // With device memory the weights go up first, so that the cell's own copies are made (and
    // stay) on the device; the uploads themselves are not needed after that.
    Tensor[] lstm = {
      Tensor.wrap(wih, 4 * HIDDEN, in),
      Tensor.wrap(whh, 4 * HIDDEN, HIDDEN),
      Tensor.wrap(b, 8 * HIDDEN)
    };
    if (onDevice) {
      for (int i = 0; i < lstm.length; i++) lstm[i] = backend.upload(lstm[i]);
    }
    try {
      cell = backend.lstmCell(lstm[0], lstm[1], lstm[2], null, RecurrentOptions.of(HIDDEN));
    } finally {
      if (onDevice) {
        for (Tensor t : lstm) t.close();
      }
    }

    // The shapes a chunk goes through must end in one frame for the LSTM (checked once here).
    long len = basisOptions.outputLength(context + chunk + pad, window);
    long ch = bins;
    for (int i = 0; i < 4; i++) {
      if (encW[i].size(1) != ch) {
        throw br.bad("encoder." + i + " takes " + encW[i].size(1) + " channels, gets " + ch);
      }
      len = encOptions[i].outputLength(len, encW[i].size(2));
      ch = encW[i].size(0);
    }
    if (len != 1 || ch != in) {
      throw br.bad("the encoder must end in [1, " + in + ", 1], got [1, " + ch + ", " + len + "]");
    }

    // The convolutions over their fixed weights: the backend keeps its own copies (on the CPU w
    // packed for the GEMM once, not per chunk; with device memory, in it).
    Conv1dOp conv = backend.conv1d();
    stft = prepared(conv.prepare(basis, null, basisOptions));
    for (int i = 0; i < 4; i++)
      encoder[i] = prepared(conv.prepare(encW[i], encB[i], encOptions[i]));
    decoder = prepared(conv.prepare(decW, decB, decOptions));
  }

  private Conv1dOp.Prepared prepared(Conv1dOp.Prepared p) {
    convs.add(p);
    return p;
  }

  /** Gives the backend's copies of the convolution weights back (device memory on cuda). */
  @Override
  public void close() {
    for (Conv1dOp.Prepared p : convs) p.close();
    convs.clear();
  }

  /**
   * Loads Silero VAD v5 for {@code sampleRate} (16000 or 8000) from {@code model}, or from the
   * cache directory ({@link ModelFiles}) when {@code model} is null.
   */
  public static SileroVad load(Backend backend, Path model, int sampleRate) {
    if (backend == null) throw new IllegalArgumentException("backend: must not be null");
    requireRate(sampleRate);
    Path file = ModelFiles.find(model, V5_FILE);
    ModelProto proto;
    try {
      proto = ModelProto.parseFrom(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new UncheckedIOException("model: cannot read " + file, e);
    }
    return new SileroVad(backend, sampleRate, Branch.of(proto.getGraph(), sampleRate, file));
  }

  /** Throws unless the model runs at {@code rate}; the message says how to resample. */
  public static void requireRate(int rate) {
    if (rate != 16000 && rate != 8000) {
      throw new IllegalArgumentException(
          "sample rate: Silero VAD runs at 16000 or 8000 Hz, got "
              + rate
              + "; resample first, e.g. sox in.wav -r 16000 -c 1 -b 16 out.wav");
    }
  }

  public int sampleRate() {
    return sampleRate;
  }

  /** Samples per chunk: 512 at 16 kHz, 256 at 8 kHz (32 ms). */
  public int chunkSamples() {
    return chunk;
  }

  /** Samples of the previous chunk put in front of each chunk: 64 at 16 kHz, 32 at 8 kHz. */
  public int contextSamples() {
    return context;
  }

  /** A new detector at the start of a stream (zero state and context). */
  public Detector newDetector() {
    return new Detector();
  }

  /**
   * The speech probability of every chunk of {@code audio}, in one stream; the last chunk is padded
   * with zeros, as silero-vad's {@code get_speech_timestamps} does.
   */
  public float[] probabilities(float[] audio) {
    int n = (audio.length + chunk - 1) / chunk;
    float[] probs = new float[n];
    float[] last = new float[chunk];
    try (Detector d = newDetector()) {
      for (int i = 0; i < n; i++) {
        int off = i * chunk;
        if (off + chunk <= audio.length) {
          probs[i] = d.process(audio, off);
        } else {
          System.arraycopy(audio, off, last, 0, audio.length - off);
          probs[i] = d.process(last, 0);
        }
      }
    }
    return probs;
  }

  /**
   * One audio stream: fed consecutive chunks, it carries the LSTM state and the context from each
   * chunk to the next. Every buffer of its own is allocated here, once; {@link #process} adds only
   * what the operators allocate per call. Not thread-safe; one detector per stream.
   */
  public final class Detector implements AutoCloseable {
    private final float[] frame = new float[context + chunk + pad];
    private final Tensor frameT = Tensor.wrap(frame, 1, 1, frame.length);
    private final float[] spec, mag;
    private final Tensor specT, magT;
    private final Tensor[] enc = new Tensor[4];
    private final Tensor lstmIn;
    private final RecurrentState state;
    private final float[] hRelu = new float[HIDDEN];
    private final Tensor hReluT, hRelu3;
    private final float[] out = new float[1];
    private final Tensor outT = Tensor.wrap(out, 1, 1, 1);
    private final Tensor specD, outD; // device buffers of the STFT and the probability, or null
    private final List<Tensor> mine = new ArrayList<>(); // what close() frees
    private final int frames;

    private Detector() {
      frames = (int) basisOptions.outputLength(frame.length, window);
      spec = new float[2 * bins * frames];
      specT = Tensor.wrap(spec, 1, 2L * bins, frames);
      mag = new float[bins * frames];
      magT = Tensor.wrap(mag, 1, bins, frames);
      try {
        long len = frames;
        for (int i = 0; i < 4; i++) {
          len = encOptions[i].outputLength(len, encW[i].size(2));
          long c = encW[i].size(0);
          enc[i] = onDevice ? own(1, c, len) : Tensor.wrap(new float[(int) (c * len)], 1, c, len);
        }
        lstmIn = enc[3].reshape(1, enc[3].size(1));
        if (onDevice) {
          state = new RecurrentState(own(1, HIDDEN), own(1, HIDDEN));
          hReluT = own(1, HIDDEN);
          specD = own(1, 2L * bins, frames);
          outD = own(1, 1, 1);
        } else {
          state = cell.newState(1);
          mine.add(state.h());
          mine.add(state.c());
          hReluT = Tensor.wrap(hRelu, 1, HIDDEN);
          specD = outD = null;
        }
        hRelu3 = hReluT.reshape(1, HIDDEN, 1);
      } catch (RuntimeException e) {
        close();
        throw e;
      }
    }

    private Tensor own(long... shape) {
      Tensor t = backend.allocate(shape);
      mine.add(t);
      return t;
    }

    /**
     * The speech probability of the {@link #chunkSamples()} samples of {@code audio} from {@code
     * offset}; the next call continues the stream.
     */
    public float process(float[] audio, int offset) {
      if (offset < 0 || audio.length - offset < chunk) {
        throw new IllegalArgumentException(
            "audio: a chunk is "
                + chunk
                + " samples, offset "
                + offset
                + " leaves "
                + Math.max(0, audio.length - offset)
                + " of "
                + audio.length);
      }
      // Frame: the previous chunk's last C samples, this chunk, then P samples mirrored about the
      // last one (ONNX Pad mode=reflect, which does not repeat the edge sample).
      int body = context + chunk;
      System.arraycopy(frame, body - context, frame, 0, context);
      System.arraycopy(audio, offset, frame, context, chunk);
      for (int i = 0; i < pad; i++) frame[body + i] = frame[body - 2 - i];

      // STFT as a strided convolution with the basis, then the magnitude of each bin (host code:
      // with device memory the spectrum comes back for it and the magnitudes go in).
      if (onDevice) {
        stft.forward(frameT, specD);
        backend.copy(specD, specT);
      } else {
        stft.forward(frameT, specT);
      }
      int im = bins * frames;
      for (int i = 0; i < im; i++) {
        float re = spec[i], imag = spec[im + i];
        mag[i] = (float) Math.sqrt(re * re + imag * imag);
      }

      // Encoder.
      Tensor x = magT;
      for (int i = 0; i < 4; i++) {
        encoder[i].forward(x, enc[i]);
        backend.elementwise().apply(enc[i], RELU, enc[i]);
        x = enc[i];
      }

      // Decoder: one LSTM step, ReLU, 1x1 convolution, sigmoid.
      // TODO(perf): the cell's step allocates ~14 KB per call (validation and views); the rest
      // of a chunk allocates under 1 KB.
      cell.step(lstmIn, state, state);
      backend.elementwise().apply(state.h(), RELU, hReluT);
      Tensor o = onDevice ? outD : outT;
      decoder.forward(hRelu3, o);
      backend.elementwise().apply(o, Activation.SIGMOID_DEFAULT, o);
      if (onDevice) backend.copy(outD, outT);
      return out[0];
    }

    /** Back to the start of a stream: zero LSTM state and context. */
    public void reset() {
      Arrays.fill(frame, 0f);
      Tensor zeros = Tensor.wrap(new float[HIDDEN], 1, HIDDEN);
      backend.copy(zeros, state.h());
      backend.copy(zeros, state.c());
    }

    @Override
    public void close() {
      for (Tensor t : mine) t.close();
      mine.clear();
    }
  }

  private static final Activation RELU = Activation.of("Relu");

  /** PyTorch's four gate blocks (i, f, g, o) of a weight or bias, as ONNX's (i, o, f, g). */
  private static float[] onnxGateOrder(float[] a) {
    int block = a.length / 4;
    float[] o = new float[a.length];
    System.arraycopy(a, 0, o, 0, block); // i
    System.arraycopy(a, 3 * block, o, block, block); // o
    System.arraycopy(a, block, o, 2 * block, 2 * block); // f, g
    return o;
  }

  private static String shape(Tensor t) {
    return Arrays.toString(t.shape());
  }

  /** One sample-rate branch of the graph: its constants by name, and the Conv nodes using them. */
  private record Branch(
      Path file,
      Map<String, TensorProto> constants,
      Map<String, TensorProto> byOutput,
      Map<String, NodeProto> convByWeight) {

    static Branch of(GraphProto g, int rate, Path file) {
      // sr == R ? then_branch : else_branch, with R the Constant that sr is compared with.
      Map<String, TensorProto> top = new HashMap<>();
      for (NodeProto n : g.getNodeList()) {
        if (n.getOpType().equals("Constant")) top.put(n.getOutput(0), value(n));
      }
      String cond = null;
      long ref = -1;
      for (NodeProto n : g.getNodeList()) {
        if (n.getOpType().equals("Equal") && n.getInputList().contains("sr")) {
          String other = n.getInput(0).equals("sr") ? n.getInput(1) : n.getInput(0);
          TensorProto t = top.get(other);
          if (t != null) {
            cond = n.getOutput(0);
            ref = OnnxTensors.toLongs(t)[0];
          }
        }
      }
      for (NodeProto n : g.getNodeList()) {
        if (n.getOpType().equals("If") && cond != null && n.getInput(0).equals(cond)) {
          String want = rate == ref ? "then_branch" : "else_branch";
          for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(want)) return of(a.getG(), file);
          }
        }
      }
      throw new IllegalArgumentException(
          "model: " + file + " is not Silero VAD v5 (no If on sr == <rate> in its graph)");
    }

    private static Branch of(GraphProto g, Path file) {
      Map<String, TensorProto> constants = new HashMap<>(), byOutput = new HashMap<>();
      Map<String, String> nameOf = new HashMap<>();
      for (NodeProto n : g.getNodeList()) {
        if (!n.getOpType().equals("Constant")) continue;
        TensorProto t = value(n);
        if (t == null) continue;
        byOutput.put(n.getOutput(0), t);
        if (!t.getName().isEmpty()) {
          constants.put(t.getName(), t);
          nameOf.put(n.getOutput(0), t.getName());
        }
      }
      Map<String, NodeProto> convs = new HashMap<>();
      for (NodeProto n : g.getNodeList()) {
        if (n.getOpType().equals("Conv") && n.getInputCount() > 1) {
          String w = nameOf.get(n.getInput(1));
          if (w != null) convs.put(w, n);
        }
      }
      return new Branch(file, constants, byOutput, convs);
    }

    private static TensorProto value(NodeProto n) {
      for (AttributeProto a : n.getAttributeList()) {
        if (a.getName().equals("value") && a.hasT()) return a.getT();
      }
      return null;
    }

    TensorProto proto(String name) {
      TensorProto t = constants.get(name);
      if (t == null) throw bad("no constant " + name);
      return t;
    }

    float[] floats(String name) {
      return OnnxTensors.toFloats(proto(name));
    }

    Tensor tensor(String name) {
      return OnnxTensors.toTensor(proto(name));
    }

    /** The value of the Constant node whose output name ends with {@code suffix}. */
    long[] longs(String suffix) {
      for (Map.Entry<String, TensorProto> e : byOutput.entrySet()) {
        if (e.getKey().endsWith(suffix)) return OnnxTensors.toLongs(e.getValue());
      }
      throw bad("no constant " + suffix);
    }

    /** The attributes of the Conv node whose weight is the constant {@code weight}. */
    Conv1dOptions convOptions(String weight) {
      NodeProto n = convByWeight.get(weight);
      if (n == null) throw bad("no Conv node uses " + weight);
      Conv1dOptions o = Conv1dOptions.defaults();
      for (AttributeProto a : n.getAttributeList()) {
        List<Long> v = a.getIntsList();
        switch (a.getName()) {
          case "strides" -> o = o.withStride(one(n, a, v));
          case "dilations" -> o = o.withDilation(one(n, a, v));
          case "group" -> o = o.withGroups((int) a.getI());
          case "pads" -> {
            if (v.size() != 2) throw bad(n.getName() + ": pads must have 2 values, got " + v);
            o = o.withPadding(v.get(0).intValue(), v.get(1).intValue());
          }
          case "auto_pad" -> {
            String s = a.getS().toStringUtf8();
            if (!s.isEmpty() && !s.equals("NOTSET")) throw bad(n.getName() + ": auto_pad " + s);
          }
          default -> {}
        }
      }
      return o;
    }

    private int one(NodeProto n, AttributeProto a, List<Long> v) {
      if (v.size() != 1) throw bad(n.getName() + ": " + a.getName() + " must be 1-D, got " + v);
      return v.get(0).intValue();
    }

    IllegalArgumentException bad(String what) {
      return new IllegalArgumentException(
          "model: " + file + " is not the Silero VAD v5 this code reads: " + what);
    }
  }
}
