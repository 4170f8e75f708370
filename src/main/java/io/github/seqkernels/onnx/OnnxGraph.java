package io.github.seqkernels.onnx;

import io.github.seqkernels.Tensor;
import io.github.seqkernels.onnx.proto.Onnx.AttributeProto;
import io.github.seqkernels.onnx.proto.Onnx.GraphProto;
import io.github.seqkernels.onnx.proto.Onnx.ModelProto;
import io.github.seqkernels.onnx.proto.Onnx.NodeProto;
import io.github.seqkernels.onnx.proto.Onnx.TensorProto;
import io.github.seqkernels.onnx.proto.Onnx.TensorProto.DataType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An ONNX model indexed for taking its weights out: every initializer and every Constant node's
 * value by name, the node that produces each value and the nodes that consume it, across the main
 * graph and every subgraph (If branches, Loop and Scan bodies, at any depth).
 *
 * <p>Exporters do not always name weights after their layer (PyTorch's exporter calls a transposed
 * Linear weight {@code onnx::MatMul_787}), so a model loader finds a weight by walking the graph
 * from something it can name: "the MatMul whose output the Add with {@code layer.0.query.bias}
 * consumes" is {@code consumer(bias, "Add")}, then {@code producer(otherInput(add, bias))}.
 *
 * <p>Names are one namespace here: a value defined twice (two initializers, or an initializer and a
 * node output, in any graphs) is refused when the graph is read, so a lookup by name is never
 * ambiguous. Weights stay in the protobuf until asked for; {@link #floatTensor} converts one.
 */
public final class OnnxGraph {
  private final ModelProto model;
  private final Map<String, TensorProto> constants = new LinkedHashMap<>();
  private final Map<String, NodeProto> producers = new HashMap<>();
  private final Map<String, List<NodeProto>> consumers = new HashMap<>();
  private final List<NodeProto> allNodes = new ArrayList<>();

  private OnnxGraph(ModelProto model) {
    this.model = model;
    index(model.getGraph(), "graph");
  }

  /** The model in {@code file}. */
  public static OnnxGraph read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return read(in);
    }
  }

  /** The model read from {@code in} (not closed here). */
  public static OnnxGraph read(InputStream in) throws IOException {
    return of(ModelProto.parseFrom(in));
  }

  public static OnnxGraph of(ModelProto model) {
    if (model == null) throw new IllegalArgumentException("model: must not be null");
    return new OnnxGraph(model);
  }

  public ModelProto model() {
    return model;
  }

  /** The main graph's nodes, in the file's (topological) order. */
  public List<NodeProto> nodes() {
    return model.getGraph().getNodeList();
  }

  /**
   * Every node of the main graph and of its subgraphs, depth first: a graph's nodes, then each
   * subgraph in the order of the nodes that hold them.
   */
  public List<NodeProto> allNodes() {
    return Collections.unmodifiableList(allNodes);
  }

  /** Names of every initializer and Constant value, in the order of {@link #allNodes}. */
  public Set<String> constantNames() {
    return Collections.unmodifiableSet(constants.keySet());
  }

  public boolean hasConstant(String name) {
    return constants.containsKey(name);
  }

  /**
   * The initializer or Constant node value called {@code name}, in any graph. A Constant given as
   * {@code value_float(s)} or {@code value_int(s)} comes back as a FLOAT or INT64 tensor.
   */
  public TensorProto constant(String name) {
    TensorProto t = constants.get(name);
    if (t == null) {
      NodeProto p = producers.get(name);
      throw new IllegalArgumentException(
          "'"
              + name
              + "': not an initializer or Constant value"
              + (p == null
                  ? " of this model"
                  : ", it is computed by " + p.getOpType() + " node '" + p.getName() + "'"));
    }
    return t;
  }

  /** {@link #constant} as a float32 {@link Tensor} (see {@link OnnxTensors#toTensor}). */
  public Tensor floatTensor(String name) {
    return OnnxTensors.toTensor(constant(name));
  }

  /** The node whose output {@code value} is, empty for a graph input or a constant initializer. */
  public Optional<NodeProto> producer(String value) {
    return Optional.ofNullable(producers.get(value));
  }

  /** The nodes that read {@code value}, in file order; empty when none does. */
  public List<NodeProto> consumers(String value) {
    return Collections.unmodifiableList(consumers.getOrDefault(value, List.of()));
  }

  /**
   * The one node of type {@code opType} that reads {@code value}; throws IllegalArgumentException
   * when there is none or more than one, naming the value and what reads it.
   */
  public NodeProto consumer(String value, String opType) {
    NodeProto found = null;
    for (NodeProto n : consumers(value)) {
      if (!n.getOpType().equals(opType)) continue;
      if (found != null) {
        throw new IllegalArgumentException(
            "'"
                + value
                + "': read by more than one "
                + opType
                + " node ('"
                + found.getName()
                + "', '"
                + n.getName()
                + "')");
      }
      found = n;
    }
    if (found == null) {
      List<String> ops = new ArrayList<>();
      for (NodeProto n : consumers(value)) ops.add(n.getOpType());
      throw new IllegalArgumentException(
          "'" + value + "': no " + opType + " node reads it (read by " + ops + ")");
    }
    return found;
  }

  /**
   * The one node of type {@code opType} whose output {@code value} is; throws
   * IllegalArgumentException naming the value and its actual producer otherwise.
   */
  public NodeProto producer(String value, String opType) {
    NodeProto p = producers.get(value);
    if (p == null || !p.getOpType().equals(opType)) {
      throw new IllegalArgumentException(
          "'"
              + value
              + "': must be the output of a "
              + opType
              + " node, "
              + (p == null ? "is a graph input or initializer" : "comes from " + p.getOpType()));
    }
    return p;
  }

  /**
   * The input of a two-input node that is not {@code known} (the weight beside an activation, the
   * bias beside a MatMul); throws IllegalArgumentException unless the node has exactly two inputs
   * and {@code known} is one of them.
   */
  public static String otherInput(NodeProto node, String known) {
    if (node.getInputCount() != 2) {
      throw new IllegalArgumentException(
          node.getOpType()
              + " node '"
              + node.getName()
              + "': must have 2 inputs, has "
              + node.getInputList());
    }
    if (node.getInput(0).equals(known)) return node.getInput(1);
    if (node.getInput(1).equals(known)) return node.getInput(0);
    throw new IllegalArgumentException(
        node.getOpType() + " node '" + node.getName() + "': does not read '" + known + "'");
  }

  /** The attribute called {@code name} of {@code node}, if it has one. */
  public static Optional<AttributeProto> attribute(NodeProto node, String name) {
    for (AttributeProto a : node.getAttributeList()) {
      if (a.getName().equals(name)) return Optional.of(a);
    }
    return Optional.empty();
  }

  /** Indexes one graph, then its subgraphs; {@code where} names the graph in error messages. */
  private void index(GraphProto g, String where) {
    for (TensorProto t : g.getInitializerList()) define(t.getName(), t, where + " initializer");
    for (NodeProto n : g.getNodeList()) {
      allNodes.add(n);
      for (String in : n.getInputList()) {
        // An empty name is an omitted optional input, not a value.
        if (!in.isEmpty()) consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
      }
      for (String out : n.getOutputList()) {
        if (out.isEmpty()) continue;
        if (producers.put(out, n) != null || constants.containsKey(out)) {
          throw duplicate(out, where);
        }
      }
      if (n.getOpType().equals("Constant") && n.getOutputCount() == 1) {
        TensorProto value = constantValue(n);
        if (value != null) constants.put(n.getOutput(0), value);
      }
    }
    for (NodeProto n : g.getNodeList()) {
      for (AttributeProto a : n.getAttributeList()) {
        String sub = where + "/" + n.getOpType() + " '" + n.getName() + "'." + a.getName();
        if (a.hasG()) index(a.getG(), sub);
        for (int i = 0; i < a.getGraphsCount(); i++) index(a.getGraphs(i), sub + "[" + i + "]");
      }
    }
  }

  private void define(String name, TensorProto t, String where) {
    if (constants.put(name, t) != null || producers.containsKey(name)) throw duplicate(name, where);
  }

  private static IllegalArgumentException duplicate(String name, String where) {
    return new IllegalArgumentException(
        "'"
            + name
            + "': defined more than once (again in "
            + where
            + "); value names must be unique");
  }

  /**
   * A Constant node's value as a tensor; null for the forms no reader here takes (sparse_value,
   * strings), which then are simply not constants of this index.
   */
  private static TensorProto constantValue(NodeProto n) {
    for (AttributeProto a : n.getAttributeList()) {
      TensorProto.Builder t = TensorProto.newBuilder().setName(n.getOutput(0));
      switch (a.getName()) {
        case "value" -> {
          return a.getT().toBuilder().setName(n.getOutput(0)).build();
        }
        case "value_float" -> {
          return t.setDataType(DataType.FLOAT.getNumber()).addFloatData(a.getF()).build();
        }
        case "value_floats" -> {
          return t.setDataType(DataType.FLOAT.getNumber())
              .addDims(a.getFloatsCount())
              .addAllFloatData(a.getFloatsList())
              .build();
        }
        case "value_int" -> {
          return t.setDataType(DataType.INT64.getNumber()).addInt64Data(a.getI()).build();
        }
        case "value_ints" -> {
          return t.setDataType(DataType.INT64.getNumber())
              .addDims(a.getIntsCount())
              .addAllInt64Data(a.getIntsList())
              .build();
        }
        default -> {}
      }
    }
    return null;
  }
}
