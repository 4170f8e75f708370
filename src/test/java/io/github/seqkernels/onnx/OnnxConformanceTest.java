package io.github.seqkernels.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.seqkernels.Activation;
import io.github.seqkernels.Backend;
import io.github.seqkernels.Conv1dOptions;
import io.github.seqkernels.Direction;
import io.github.seqkernels.GemmOptions;
import io.github.seqkernels.MatMulOp;
import io.github.seqkernels.RecurrentInputs;
import io.github.seqkernels.RecurrentOp;
import io.github.seqkernels.RecurrentOptions;
import io.github.seqkernels.RecurrentOutputs;
import io.github.seqkernels.SoftmaxOptions;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.Broadcast;
import io.github.seqkernels.onnx.proto.Onnx.AttributeProto;
import io.github.seqkernels.onnx.proto.Onnx.GraphProto;
import io.github.seqkernels.onnx.proto.Onnx.ModelProto;
import io.github.seqkernels.onnx.proto.Onnx.NodeProto;
import io.github.seqkernels.onnx.proto.Onnx.OperatorSetIdProto;
import io.github.seqkernels.onnx.proto.Onnx.TensorProto;
import io.github.seqkernels.onnx.proto.Onnx.TensorProto.DataType;
import io.github.seqkernels.onnx.proto.Onnx.ValueInfoProto;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.TestAbortedException;

/**
 * ONNX's own backend tests, run through the library. Debian's libonnx-testdata (installed by
 * .ci/run) ships each case as a directory holding a one-node {@code model.onnx} and {@code
 * test_data_set_N/input_K.pb, output_K.pb} (serialized TensorProto, read with the generated
 * onnx.proto classes and {@link OnnxTensors}). Each (case, data set) is one dynamic test: the
 * node's op_type and attributes, with defaults as the ONNX spec gives them at the model's opset,
 * become a call of the CPU backend, and every graph output is compared with the shipped one.
 *
 * <p>{@code *_expanded} cases hold the same data as their twin, but their graph is the operator's
 * decomposition into primitive ops; the library computes the operator itself, so the node is taken
 * from the twin's model and the data from the expanded case.
 *
 * <p>The Transformer pieces: LayerNormalization (every axis: the dims from axis on are one row of a
 * contiguous view, which is LayerNormOp's last axis; only Y is compared, since LayerNormOp returns
 * no Mean / InvStdDev, and stash_type must be the default float32); Gather on axis 0 of a float
 * table with non-negative indices as EmbeddingOp (negative indices are skipped: EmbeddingOp takes
 * ids in [0, V)); Add where B broadcasts to A's shape; Conv with one spatial dim as Conv1dOp
 * (PyTorch's Conv1d cases; the node suite's Conv cases are 2-D and are skipped as such).
 *
 * <p>A case that cannot apply (an operator, attribute or data type the library does not take) is
 * reported as skipped with its reason, never as passed; a summary of every case ends the run.
 * Override the data root with {@code -Dseqkernels.onnx.testdata=DIR}.
 */
class OnnxConformanceTest {
  static final Path ROOT =
      Path.of(System.getProperty("seqkernels.onnx.testdata", "/usr/share/libonnx-testdata/data"));

  /** The cases this test covers, per suite directory. */
  static final Map<String, Pattern> SUITES =
      Map.of(
          "node",
          Pattern.compile(
              "test_(lstm|gru|simple_rnn)_.*|test_rnn_seq_length"
                  + "|test_(log)?softmax_.*|test_matmul_.*|test_gemm_.*"
                  + "|test_layer_normalization_.*|test_gather_(0|1|2d_indices|negative_indices)"
                  + "|test_add|test_add_bcast|test_basic_conv_.*|test_conv_with_.*"),
          "pytorch-converted",
          Pattern.compile(
              "test_(Softmax|LogSoftmax|Linear.*|softmax_.*|log_softmax_.*|Conv1d.*|Embedding.*)"));

  /*
   * 1e-5 relative, and 1e-5 absolute where |ref| < 1. The shipped outputs come from ONNX's numpy
   * reference implementations stored as float32; ours are float32 with another summation order and
   * other exp/tanh, so a correct result differs by a few ulps (1e-5 is ~80 ulps), while a wrong
   * axis, gate order, transpose or missing bias moves values by 1e-2 or more. The absolute floor is
   * for outputs near 0 (softmax tails, almost-closed gates), whose relative error says nothing.
   */
  static final double TOL = 1e-5;

  static Backend backend;

  /** "STATUS name detail" per case, in the order they ran (one at a time, as JUnit runs them). */
  static final List<String> outcomes = new ArrayList<>();

  @BeforeAll
  static void open() {
    backend = Backend.create("cpu", 2);
  }

  @AfterAll
  static void close() {
    backend.close();
    System.out.printf(
        "ONNX conformance (%s): ran %d, passed %d, failed %d, skipped %d%n",
        ROOT, outcomes.size(), count("PASS"), count("FAIL"), count("SKIP"));
    for (String line : outcomes) if (!line.startsWith("PASS")) System.out.println("  " + line);
  }

  private static long count(String status) {
    return outcomes.stream().filter(l -> l.startsWith(status + " ")).count();
  }

  @TestFactory
  List<DynamicTest> onnxBackendNodeTests() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (String suite : SUITES.keySet().stream().sorted().toList()) {
      Path dir = ROOT.resolve(suite);
      if (!Files.isDirectory(dir)) continue;
      for (Path caseDir : list(dir)) {
        if (!SUITES.get(suite).matcher(caseDir.getFileName().toString()).matches()) continue;
        List<Path> dataSets =
            list(caseDir).stream()
                .filter(p -> p.getFileName().toString().startsWith("test_data_set_"))
                .toList();
        String name = suite + "/" + caseDir.getFileName();
        if (dataSets.isEmpty()) {
          tests.add(test(name, caseDir, () -> abort("no test_data_set_* directory")));
        }
        for (Path ds : dataSets) {
          String dsName = name + "/" + ds.getFileName();
          tests.add(test(dsName, ds, () -> runCase(caseDir, ds)));
        }
      }
    }
    if (tests.isEmpty()) {
      fail(
          "no ONNX test cases under "
              + ROOT
              + ": install Debian's libonnx-testdata (.ci/run does) or pass"
              + " -Dseqkernels.onnx.testdata=DIR");
    }
    return tests;
  }

  /** One dynamic test that prints and records its outcome. */
  private static DynamicTest test(String name, Path source, Case body) {
    return DynamicTest.dynamicTest(
        name,
        source.toUri(),
        () -> {
          try {
            record("PASS", name, body.run());
          } catch (TestAbortedException e) {
            record("SKIP", name, e.getMessage());
            throw e;
          } catch (Throwable e) {
            String msg =
                e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
            record("FAIL", name, e.getClass().getSimpleName() + ": " + msg);
            throw e;
          }
        });
  }

  private static void record(String status, String name, String detail) {
    String line = status + " " + name + "  " + detail;
    System.out.println("onnx " + line);
    outcomes.add(line);
  }

  @FunctionalInterface
  private interface Case {
    /** Runs the case; returns a one-line description of what it ran. */
    String run() throws Exception;
  }

  // ---- one case -------------------------------------------------------------------------------

  /** A graph value: float32 data as a Tensor, or integers (sequence_lens). */
  private record Value(Tensor tensor, long[] ints, String type, long[] shape) {
    Value(Tensor tensor, long[] ints, String type) {
      this(tensor, ints, type, tensor == null ? null : tensor.shape());
    }
  }

  /** An output the node names but the library's operator does not return (LayerNorm's Mean). */
  private static final Value NOT_PRODUCED = new Value(null, null, "not produced");

  private static String runCase(Path caseDir, Path dataSet) throws IOException {
    String caseName = caseDir.getFileName().toString();
    ModelProto model = readModel(caseDir.resolve("model.onnx"));
    String note = "";
    if (caseName.endsWith("_expanded")) {
      String twin = caseName.substring(0, caseName.length() - "_expanded".length());
      Path twinModel = caseDir.resolveSibling(twin).resolve("model.onnx");
      if (!Files.exists(twinModel)) {
        abort("expanded graph without its un-expanded twin " + twin + " to take the operator from");
      }
      model = readModel(twinModel);
      note = " (operator from " + twin + ")";
    }
    GraphProto graph = model.getGraph();
    int opset = opset(model);

    // Values: initializers, then the data set's inputs in the order of the graph inputs that no
    // initializer provides (old exporters list initializers among the inputs too).
    Map<String, Value> env = new HashMap<>();
    Set<String> initialized = new HashSet<>();
    for (TensorProto t : graph.getInitializerList()) {
      env.put(t.getName(), value(t, "initializer '" + t.getName() + "'"));
      initialized.add(t.getName());
    }
    List<String> feeds =
        graph.getInputList().stream()
            .map(ValueInfoProto::getName)
            .filter(n -> !initialized.contains(n))
            .toList();
    for (int i = 0; i < feeds.size(); i++) {
      TensorProto t = readTensor(dataSet.resolve("input_" + i + ".pb"));
      env.put(feeds.get(i), value(t, "input '" + feeds.get(i) + "'"));
    }
    List<TensorProto> expected = new ArrayList<>();
    for (int i = 0; i < graph.getOutputCount(); i++) {
      expected.add(readTensor(dataSet.resolve("output_" + i + ".pb")));
    }

    List<String> ran = new ArrayList<>();
    for (NodeProto node : graph.getNodeList()) ran.add(evaluate(node, opset, env));

    List<String> notCompared = new ArrayList<>();
    for (int i = 0; i < expected.size(); i++) {
      String out = graph.getOutput(i).getName();
      Value v = env.get(out);
      if (v == NOT_PRODUCED) {
        notCompared.add(out);
        continue;
      }
      if (OnnxTensors.dataType(expected.get(i)) != DataType.FLOAT) {
        abort("output '" + out + "' is " + OnnxTensors.dataType(expected.get(i)));
      }
      if (v == null || v.tensor() == null) fail("graph output '" + out + "' was not computed");
      compare(out, expected.get(i), v.tensor());
    }
    if (!notCompared.isEmpty()) {
      note +=
          " (not compared, the operator does not return them: "
              + String.join(", ", notCompared)
              + ")";
    }
    return String.join(" -> ", ran) + " opset " + opset + note;
  }

  /** Runs one node on the library; returns its description, e.g. {@code Softmax{axis=0}}. */
  private static String evaluate(NodeProto node, int opset, Map<String, Value> env) {
    String op = node.getOpType();
    if (!node.getDomain().isEmpty() && !node.getDomain().equals("ai.onnx")) {
      abort("operator " + node.getDomain() + "." + op + " is not an ONNX standard operator");
    }
    Attrs a = new Attrs(node);
    Inputs in = new Inputs(node, env);
    switch (op) {
      case "Softmax", "LogSoftmax" -> {
        a.only("axis");
        env.put(
            node.getOutput(0), floats(softmax(in.tensor(0), op.equals("LogSoftmax"), a, opset)));
      }
      case "Gemm" -> {
        // Before opset 7, broadcast=0 required C to be exactly [M, N], which broadcasting leaves
        // unchanged; so the attribute needs no mapping.
        a.only("alpha", "beta", "transA", "transB", "broadcast");
        Tensor x = in.tensor(0), w = in.tensor(1), c = in.tensor(2);
        GemmOptions o =
            new GemmOptions(
                a.i("transA", 0) != 0, a.i("transB", 0) != 0, a.f("alpha", 1f), a.f("beta", 1f));
        Tensor y = allocate(rows(x, o.transA()), cols(w, o.transB()));
        backend.gemm().forward(x, w, c, o, y);
        env.put(node.getOutput(0), floats(y));
      }
      case "MatMul" -> {
        a.only();
        Tensor x = in.tensor(0), w = in.tensor(1);
        Tensor y = allocate(MatMulOp.outputShape(x.shape(), w.shape()));
        backend.matmul().forward(x, w, y);
        env.put(node.getOutput(0), floats(y));
      }
      case "LSTM", "GRU", "RNN" -> recurrent(node, a, in, env);
      case "Transpose" -> {
        // A view: the next operator reads the strides.
        a.only("perm");
        Tensor x = in.tensor(0);
        long[] perm = a.ints("perm");
        int[] order = new int[x.rank()];
        for (int d = 0; d < order.length; d++) {
          order[d] = perm == null ? order.length - 1 - d : Math.toIntExact(perm[d]);
        }
        env.put(node.getOutput(0), floats(x.permute(order)));
      }
      case "LayerNormalization" -> layerNorm(node, a, in, env, opset);
      case "Gather" -> {
        a.only("axis");
        if (a.i("axis", 0) != 0)
          abort("Gather on axis " + a.i("axis", 0) + ", EmbeddingOp is axis 0");
        Tensor data = in.tensor(0);
        long[] idx = in.ints(1);
        Value iv = in.get(1);
        if (data.rank() < 1) abort("Gather of a scalar");
        long rowLen = data.numel() / Math.max(1, data.size(0));
        int[] ids = new int[idx.length];
        for (int i = 0; i < ids.length; i++) {
          if (idx[i] < 0) abort("negative index " + idx[i] + "; EmbeddingOp takes ids in [0, V)");
          ids[i] = Math.toIntExact(idx[i]);
        }
        long[] ishape = iv.shape();
        long[] outShape = Arrays.copyOf(ishape, ishape.length + data.rank() - 1);
        for (int d = 1; d < data.rank(); d++) outShape[ishape.length + d - 1] = data.size(d);
        Tensor table = contiguous(data).reshape(data.size(0), rowLen);
        Tensor y = allocate(outShape);
        backend.embedding().forward(table, ids, y.reshape(ids.length, rowLen));
        env.put(node.getOutput(0), floats(y));
      }
      case "Add" -> {
        a.only();
        Tensor x = in.tensor(0), b = in.tensor(1);
        long[] out = Broadcast.broadcastShapes("A", x.shape(), "B", b.shape());
        if (!Arrays.equals(out, x.shape())) {
          abort(
              "B "
                  + Arrays.toString(b.shape())
                  + " does not broadcast to A's shape; ElementwiseOp.add broadcasts B only");
        }
        Tensor y = allocate(x.shape());
        backend.elementwise().add(x, b, y);
        env.put(node.getOutput(0), floats(y));
      }
      case "Conv" -> conv(node, a, in, env);
      default -> abort("operator " + op + " is not mapped to the library");
    }
    return op + a;
  }

  /**
   * LayerNormalization: the dims from axis on are one row (a contiguous view of X), which is
   * LayerNormOp's last axis. Mean and InvStdDev, when the node names them, are marked as not
   * produced: LayerNormOp returns Y only.
   */
  private static void layerNorm(
      NodeProto node, Attrs a, Inputs in, Map<String, Value> env, int opset) {
    a.only("axis", "epsilon", "stash_type");
    if (a.i("stash_type", 1) != 1) abort("stash_type " + a.i("stash_type", 1) + " (not float32)");
    Tensor x = in.tensor(0), scale = in.tensor(1), bias = in.tensor(2);
    int r = x.rank(), axis = (int) a.i("axis", -1);
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r) abort("axis " + a.i("axis", -1) + " is out of range for rank " + r);
    long rows = 1, e = 1;
    for (int d = 0; d < r; d++) {
      if (d < axis) rows *= x.size(d);
      else e *= x.size(d);
    }
    if (scale.numel() != e || (bias != null && bias.numel() != e)) {
      abort("Scale / B broadcast within the normalized dims; LayerNormOp takes [E]");
    }
    Tensor y = allocate(x.shape());
    backend
        .layerNorm()
        .forward(
            contiguous(x).reshape(rows, e),
            contiguous(scale).reshape(e),
            bias == null ? null : contiguous(bias).reshape(e),
            a.f("epsilon", 1e-5f),
            y.reshape(rows, e));
    env.put(node.getOutput(0), floats(y));
    for (int k = 1; k < node.getOutputCount(); k++) {
      if (!node.getOutput(k).isEmpty()) env.put(node.getOutput(k), NOT_PRODUCED);
    }
  }

  /** Conv with one spatial dim: X [B, C, L], W [O, C/group, K], optional B [O]. */
  private static void conv(NodeProto node, Attrs a, Inputs in, Map<String, Value> env) {
    a.only("kernel_shape", "pads", "strides", "dilations", "group", "auto_pad");
    String autoPad = a.s("auto_pad", "NOTSET");
    if (!autoPad.equals("NOTSET"))
      abort("auto_pad " + autoPad + " (pads are explicit in Conv1dOp)");
    Tensor x = in.tensor(0), w = in.tensor(1), b = in.tensor(2);
    if (x.rank() != 3) abort("Conv with " + (x.rank() - 2) + " spatial dims; Conv1dOp is 1-D");
    long[] pads = a.ints("pads"), strides = a.ints("strides"), dil = a.ints("dilations");
    Conv1dOptions o =
        new Conv1dOptions(
            strides == null ? 1 : Math.toIntExact(strides[0]),
            pads == null ? 0 : Math.toIntExact(pads[0]),
            pads == null ? 0 : Math.toIntExact(pads[1]),
            dil == null ? 1 : Math.toIntExact(dil[0]),
            Math.toIntExact(a.i("group", 1)));
    long lout = o.outputLength(x.size(2), w.size(2));
    Tensor y = allocate(x.size(0), w.size(0), lout);
    backend.conv1d().forward(x, w, b, o, y);
    env.put(node.getOutput(0), floats(y));
  }

  private static Tensor contiguous(Tensor t) {
    return t.isContiguous() ? t : Tensor.wrap(t.toArray(), t.shape());
  }

  private static Tensor softmax(Tensor x, boolean log, Attrs a, int opset) {
    Tensor y = allocate(x.shape());
    if (opset >= 13) {
      SoftmaxOptions o = SoftmaxOptions.defaults().withAxis((int) a.i("axis", -1)).withLog(log);
      backend.softmax().forward(x, y, o);
      return y;
    }
    // Before opset 13 the input is coerced to 2-D, [prod(dims[:axis]), prod(dims[axis:])], and
    // each row of that is normalised: all dims from axis on form one axis. Default axis 1.
    int r = x.rank(), axis = (int) a.i("axis", 1);
    if (axis < 0) axis += r;
    if (axis < 0 || axis > r) abort("axis " + a.i("axis", 1) + " is out of range for rank " + r);
    long rows = 1, cols = 1;
    for (int d = 0; d < r; d++) {
      if (d < axis) rows *= x.size(d);
      else cols *= x.size(d);
    }
    Tensor x2 = (x.isContiguous() ? x : Tensor.wrap(x.toArray(), x.shape())).reshape(rows, cols);
    backend.softmax().forward(x2, y.reshape(rows, cols), SoftmaxOptions.defaults().withLog(log));
    return y;
  }

  private static void recurrent(NodeProto node, Attrs a, Inputs in, Map<String, Value> env) {
    String op = node.getOpType();
    boolean lstm = op.equals("LSTM"), gru = op.equals("GRU");
    List<String> known =
        new ArrayList<>(
            List.of(
                "activation_alpha",
                "activation_beta",
                "activations",
                "clip",
                "direction",
                "hidden_size",
                "layout"));
    if (lstm) known.add("input_forget");
    if (gru) known.add("linear_before_reset");
    a.only(known.toArray(String[]::new));

    // Inputs: X, W, R, B, sequence_lens, initial_h, and for LSTM initial_c, P.
    Tensor x = in.tensor(0), w = in.tensor(1), r = in.tensor(2);
    long[] lens = in.ints(4);
    RecurrentInputs inputs =
        new RecurrentInputs(
            x,
            w,
            r,
            in.tensor(3),
            lens == null ? null : Arrays.stream(lens).mapToInt(Math::toIntExact).toArray(),
            in.tensor(5),
            lstm ? in.tensor(6) : null,
            lstm ? in.tensor(7) : null);

    // Attributes; hidden_size is R's last dim when the attribute is absent.
    int layout = (int) a.i("layout", 0); // the attribute exists from opset 14; 0 before
    RecurrentOptions o =
        RecurrentOptions.of((int) a.i("hidden_size", r.size(2)))
            .withDirection(Direction.parse(a.s("direction", "forward")))
            .withClip(a.f("clip", Float.POSITIVE_INFINITY))
            .withLayout(layout)
            .withInputForget(a.i("input_forget", 0) != 0)
            .withLinearBeforeReset(a.i("linear_before_reset", 0) != 0);
    if (a.has("activations")) {
      o =
          o.withActivations(
              Activation.parse(
                  a.strings("activations"),
                  a.floats("activation_alpha"),
                  a.floats("activation_beta")));
    }

    // Outputs Y, Y_h, Y_c: only those the node names.
    long s = layout == 0 ? x.size(0) : x.size(1), b = layout == 0 ? x.size(1) : x.size(0);
    long dirs = o.direction().count(), h = o.hiddenSize();
    long[] yShape = layout == 0 ? new long[] {s, dirs, b, h} : new long[] {b, s, dirs, h};
    long[] stateShape = layout == 0 ? new long[] {dirs, b, h} : new long[] {b, dirs, h};
    Tensor y = named(node, 0) ? allocate(yShape) : null;
    Tensor yH = named(node, 1) ? allocate(stateShape) : null;
    Tensor yC = lstm && named(node, 2) ? allocate(stateShape) : null;

    RecurrentOp rop = lstm ? backend.lstm() : gru ? backend.gru() : backend.rnn();
    rop.forward(inputs, o, new RecurrentOutputs(y, yH, yC));
    if (y != null) env.put(node.getOutput(0), floats(y));
    if (yH != null) env.put(node.getOutput(1), floats(yH));
    if (yC != null) env.put(node.getOutput(2), floats(yC));
  }

  // ---- comparison -----------------------------------------------------------------------------

  private static void compare(String name, TensorProto expected, Tensor actual) {
    long[] shape = OnnxTensors.shape(expected);
    assertArrayEquals(shape, actual.shape(), () -> "output '" + name + "': shape");
    float[] want = OnnxTensors.toFloats(expected), got = actual.toArray();
    StringBuilder sb = new StringBuilder();
    int bad = 0;
    for (int i = 0; i < want.length; i++) {
      double e = want[i], g = got[i];
      boolean ok =
          Double.isNaN(e) || Double.isInfinite(e)
              ? Double.compare(e, g) == 0
              : Math.abs(g - e) <= TOL * Math.max(1, Math.abs(e));
      if (!ok && bad++ < 5) {
        sb.append(String.format("%n  %s expected %.8g actual %.8g", index(i, shape), e, g));
      }
    }
    if (bad > 0) {
      fail(
          String.format(
              "output '%s' %s: %d of %d elements differ beyond %.0e·max(1, |ref|)%s",
              name, Arrays.toString(shape), bad, want.length, TOL, sb));
    }
  }

  private static String index(long flat, long[] shape) {
    long[] idx = new long[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      idx[d] = flat % shape[d];
      flat /= shape[d];
    }
    return Arrays.toString(idx);
  }

  // ---- helpers --------------------------------------------------------------------------------

  /** The node's inputs by position; an empty name or a missing position is an absent input. */
  private record Inputs(NodeProto node, Map<String, Value> env) {
    Value get(int k) {
      if (k >= node.getInputCount() || node.getInput(k).isEmpty()) return null;
      Value v = env.get(node.getInput(k));
      if (v == null) fail("input '" + node.getInput(k) + "' has no value");
      return v;
    }

    Tensor tensor(int k) {
      Value v = get(k);
      if (v != null && v.tensor() == null) {
        abort("input '" + node.getInput(k) + "' is " + v.type() + "; the operator takes float32");
      }
      return v == null ? null : v.tensor();
    }

    long[] ints(int k) {
      Value v = get(k);
      if (v != null && v.ints() == null) {
        abort("input '" + node.getInput(k) + "' is " + v.type() + "; expected integers");
      }
      return v == null ? null : v.ints();
    }
  }

  /** The node's attributes, with the spec's defaults supplied by the caller. */
  private static final class Attrs {
    private final String op;
    private final Map<String, AttributeProto> map = new HashMap<>();

    Attrs(NodeProto node) {
      op = node.getOpType();
      for (AttributeProto a : node.getAttributeList()) map.put(a.getName(), a);
    }

    /** Skips the case when the node sets an attribute this mapping would ignore. */
    void only(String... known) {
      Set<String> extra = new HashSet<>(map.keySet());
      extra.removeAll(List.of(known));
      if (!extra.isEmpty()) abort(op + " attributes " + extra + " are not mapped to the library");
    }

    boolean has(String name) {
      return map.containsKey(name);
    }

    long i(String name, long dflt) {
      return has(name) ? map.get(name).getI() : dflt;
    }

    float f(String name, float dflt) {
      return has(name) ? map.get(name).getF() : dflt;
    }

    String s(String name, String dflt) {
      return has(name) ? map.get(name).getS().toStringUtf8() : dflt;
    }

    long[] ints(String name) {
      return has(name) ? map.get(name).getIntsList().stream().mapToLong(v -> v).toArray() : null;
    }

    float[] floats(String name) {
      if (!has(name)) return null;
      List<Float> l = map.get(name).getFloatsList();
      float[] out = new float[l.size()];
      for (int k = 0; k < out.length; k++) out[k] = l.get(k);
      return out;
    }

    List<String> strings(String name) {
      return map.get(name).getStringsList().stream().map(b -> b.toStringUtf8()).toList();
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder("{");
      map.keySet().stream()
          .sorted()
          .forEach(
              n -> {
                AttributeProto a = map.get(n);
                Object v =
                    switch (a.getType()) {
                      case FLOAT -> a.getF();
                      case INT -> a.getI();
                      case STRING -> a.getS().toStringUtf8();
                      case INTS -> a.getIntsList();
                      case FLOATS -> a.getFloatsList();
                      case STRINGS -> strings(n);
                      default -> a.getType();
                    };
                sb.append(sb.length() > 1 ? ", " : "").append(n).append('=').append(v);
              });
      return sb.append('}').toString();
    }
  }

  private static Value value(TensorProto t, String what) {
    DataType type = OnnxTensors.dataType(t);
    return switch (type) {
      case FLOAT -> new Value(OnnxTensors.toTensor(t), null, type.name());
      case INT32, INT64 ->
          new Value(null, OnnxTensors.toLongs(t), type.name(), OnnxTensors.shape(t));
      default -> abort(what + " is " + type + "; the library computes in float32");
    };
  }

  private static Value floats(Tensor t) {
    return new Value(t, null, "FLOAT");
  }

  private static Tensor allocate(long... shape) {
    long n = 1;
    for (long d : shape) n = Math.multiplyExact(n, d);
    return Tensor.wrap(new float[Math.toIntExact(n)], shape);
  }

  private static long rows(Tensor a, boolean trans) {
    return a.size(trans ? 1 : 0);
  }

  private static long cols(Tensor b, boolean trans) {
    return b.size(trans ? 0 : 1);
  }

  private static boolean named(NodeProto node, int k) {
    return k < node.getOutputCount() && !node.getOutput(k).isEmpty();
  }

  /** The version of the default (ai.onnx) operator set the model imports. */
  private static int opset(ModelProto m) {
    for (OperatorSetIdProto id : m.getOpsetImportList()) {
      if (id.getDomain().isEmpty() || id.getDomain().equals("ai.onnx")) {
        return Math.toIntExact(id.getVersion());
      }
    }
    return abort("the model imports no ai.onnx operator set");
  }

  private static ModelProto readModel(Path p) throws IOException {
    try (InputStream s = Files.newInputStream(p)) {
      return ModelProto.parseFrom(s);
    }
  }

  private static TensorProto readTensor(Path p) throws IOException {
    if (!Files.exists(p)) fail(p + " is missing");
    try (InputStream s = Files.newInputStream(p)) {
      return TensorProto.parseFrom(s);
    }
  }

  private static List<Path> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isDirectory).sorted().toList();
    }
  }

  /** Ends the case as skipped, with the reason; typed so that it can stand for any value. */
  private static <T> T abort(String reason) {
    return Assumptions.abort(reason);
  }
}
