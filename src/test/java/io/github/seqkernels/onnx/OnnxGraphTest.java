package io.github.seqkernels.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.seqkernels.onnx.proto.Onnx.AttributeProto;
import io.github.seqkernels.onnx.proto.Onnx.AttributeProto.AttributeType;
import io.github.seqkernels.onnx.proto.Onnx.GraphProto;
import io.github.seqkernels.onnx.proto.Onnx.ModelProto;
import io.github.seqkernels.onnx.proto.Onnx.NodeProto;
import io.github.seqkernels.onnx.proto.Onnx.TensorProto;
import io.github.seqkernels.onnx.proto.Onnx.TensorProto.DataType;
import java.io.ByteArrayInputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A small hand-built model shaped like an exported Linear layer, with weights also inside an If's
 * branches and a Loop body nested in one of them.
 */
class OnnxGraphTest {
  private static TensorProto floats(String name, long[] dims, float... values) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1);
    for (long d : dims) t.addDims(d);
    for (float v : values) t.addFloatData(v);
    return t.build();
  }

  private static NodeProto node(String op, String name, List<String> in, List<String> out) {
    return NodeProto.newBuilder()
        .setOpType(op)
        .setName(name)
        .addAllInput(in)
        .addAllOutput(out)
        .build();
  }

  private static NodeProto constant(String out, AttributeProto value) {
    return NodeProto.newBuilder()
        .setOpType("Constant")
        .setName(out + "_node")
        .addOutput(out)
        .addAttribute(value)
        .build();
  }

  private static AttributeProto graphAttr(String name, GraphProto g) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeType.GRAPH).setG(g).build();
  }

  /**
   * y = x·W + b (MatMul then Add, bias first as PyTorch exports it); an If whose then-branch holds
   * a Constant tensor and a Loop whose body holds a value_ints Constant; the else-branch a
   * value_float Constant.
   */
  static ModelProto model() {
    GraphProto loopBody =
        GraphProto.newBuilder()
            .setName("body")
            .addNode(
                constant(
                    "body_ints",
                    AttributeProto.newBuilder()
                        .setName("value_ints")
                        .setType(AttributeType.INTS)
                        .addInts(3)
                        .addInts(-4)
                        .build()))
            .build();
    GraphProto thenBranch =
        GraphProto.newBuilder()
            .setName("then")
            .addNode(
                constant(
                    "then_w",
                    AttributeProto.newBuilder()
                        .setName("value")
                        .setType(AttributeType.TENSOR)
                        .setT(floats("", new long[] {2}, 5f, 6f))
                        .build()))
            .addNode(
                NodeProto.newBuilder()
                    .setOpType("Loop")
                    .setName("loop")
                    .addInput("")
                    .addInput("cond")
                    .addOutput("loop_out")
                    .addAttribute(graphAttr("body", loopBody)))
            .build();
    GraphProto elseBranch =
        GraphProto.newBuilder()
            .setName("else")
            .addNode(
                constant(
                    "else_f",
                    AttributeProto.newBuilder()
                        .setName("value_float")
                        .setType(AttributeType.FLOAT)
                        .setF(0.25f)
                        .build()))
            .build();
    GraphProto main =
        GraphProto.newBuilder()
            .setName("main")
            .addInitializer(floats("onnx::MatMul_1", new long[] {2, 3}, 1, 2, 3, 4, 5, 6))
            .addInitializer(floats("dense.bias", new long[] {3}, 0.5f, -0.5f, 1f))
            .addNode(node("MatMul", "mm", List.of("x", "onnx::MatMul_1"), List.of("mm_out")))
            .addNode(node("Add", "add", List.of("dense.bias", "mm_out"), List.of("y")))
            .addNode(node("Relu", "relu", List.of("y"), List.of("r")))
            .addNode(node("Sigmoid", "sig1", List.of("y"), List.of("s1")))
            .addNode(node("Sigmoid", "sig2", List.of("y"), List.of("s2")))
            .addNode(
                NodeProto.newBuilder()
                    .setOpType("If")
                    .setName("if")
                    .addInput("cond")
                    .addOutput("if_out")
                    .addAttribute(graphAttr("then_branch", thenBranch))
                    .addAttribute(graphAttr("else_branch", elseBranch)))
            .build();
    return ModelProto.newBuilder().setIrVersion(8).setGraph(main).build();
  }

  @Test
  void walksFromANamedBiasToItsUnnamedWeight() {
    OnnxGraph g = OnnxGraph.of(model());
    NodeProto add = g.consumer("dense.bias", "Add");
    NodeProto mm = g.producer(OnnxGraph.otherInput(add, "dense.bias"), "MatMul");
    assertEquals("mm", mm.getName());
    String weight = OnnxGraph.otherInput(mm, "x");
    assertEquals("onnx::MatMul_1", weight);
    assertArrayEquals(new long[] {2, 3}, g.floatTensor(weight).shape());
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, g.floatTensor(weight).toArray());
    assertTrue(g.producer("x").isEmpty());
    assertTrue(g.producer("onnx::MatMul_1").isEmpty());
    assertEquals("add", g.producer("y").orElseThrow().getName());
    assertEquals(3, g.consumers("y").size());
    assertTrue(g.consumers("r").isEmpty());
  }

  @Test
  void constantsInsideSubgraphsAtAnyDepth() {
    OnnxGraph g = OnnxGraph.of(model());
    assertArrayEquals(new float[] {5f, 6f}, g.floatTensor("then_w").toArray());
    assertEquals("then_w", g.constant("then_w").getName());
    TensorProto f = g.constant("else_f");
    assertEquals(0, f.getDimsCount());
    assertArrayEquals(new float[] {0.25f}, OnnxTensors.toFloats(f));
    TensorProto ints = g.constant("body_ints");
    assertEquals(DataType.INT64, OnnxTensors.dataType(ints));
    assertArrayEquals(new long[] {2}, OnnxTensors.shape(ints));
    assertArrayEquals(new long[] {3, -4}, OnnxTensors.toLongs(ints));
    assertEquals(
        List.of("onnx::MatMul_1", "dense.bias", "then_w", "body_ints", "else_f"),
        List.copyOf(g.constantNames()),
        "depth first: the Loop body inside the then-branch before the else-branch");
    // The main graph's 6 nodes, then the branches' (then: Constant + Loop; Loop body; else).
    assertEquals(6, g.nodes().size());
    assertEquals(10, g.allNodes().size());
    // The Loop inside the then-branch reads "cond" from the outer scope; the omitted input is not
    // a value.
    assertEquals(2, g.consumers("cond").size());
    assertTrue(g.consumers("").isEmpty());
  }

  @Test
  void survivesAFileRoundTrip() throws Exception {
    byte[] bytes = model().toByteArray();
    OnnxGraph g = OnnxGraph.read(new ByteArrayInputStream(bytes));
    assertArrayEquals(new float[] {0.5f, -0.5f, 1f}, g.floatTensor("dense.bias").toArray());
    assertTrue(g.hasConstant("body_ints"));
    assertFalse(g.hasConstant("y"));
  }

  @Test
  void attributesByName() {
    NodeProto ifNode = OnnxGraph.of(model()).producer("if_out", "If");
    assertTrue(OnnxGraph.attribute(ifNode, "then_branch").isPresent());
    assertTrue(OnnxGraph.attribute(ifNode, "nope").isEmpty());
  }

  @Test
  void refusalsNameTheValueAndTheRule() {
    OnnxGraph g = OnnxGraph.of(model());
    var e = assertThrows(IllegalArgumentException.class, () -> g.constant("y"));
    assertEquals(
        "'y': not an initializer or Constant value, it is computed by Add node 'add'",
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> g.constant("nothing"));
    assertEquals("'nothing': not an initializer or Constant value of this model", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> g.consumer("y", "Sigmoid"));
    assertEquals("'y': read by more than one Sigmoid node ('sig1', 'sig2')", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> g.consumer("y", "Tanh"));
    assertEquals("'y': no Tanh node reads it (read by [Relu, Sigmoid, Sigmoid])", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> g.producer("y", "MatMul"));
    assertEquals("'y': must be the output of a MatMul node, comes from Add", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> g.producer("x", "MatMul"));
    assertEquals(
        "'x': must be the output of a MatMul node, is a graph input or initializer",
        e.getMessage());
    NodeProto relu = g.producer("r", "Relu");
    e = assertThrows(IllegalArgumentException.class, () -> OnnxGraph.otherInput(relu, "y"));
    assertEquals("Relu node 'relu': must have 2 inputs, has [y]", e.getMessage());
    NodeProto add = g.producer("y", "Add");
    e = assertThrows(IllegalArgumentException.class, () -> OnnxGraph.otherInput(add, "x"));
    assertEquals("Add node 'add': does not read 'x'", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> OnnxGraph.of(null));
  }

  @Test
  void aValueDefinedTwiceIsRefused() {
    ModelProto m = model();
    // An initializer with the name of a node output elsewhere.
    ModelProto twice =
        m.toBuilder()
            .setGraph(m.getGraph().toBuilder().addInitializer(floats("y", new long[] {1}, 0f)))
            .build();
    var e = assertThrows(IllegalArgumentException.class, () -> OnnxGraph.of(twice));
    assertEquals(
        "'y': defined more than once (again in graph); value names must be unique", e.getMessage());
    // A Constant in a subgraph with the name of a main-graph initializer.
    GraphProto clash =
        GraphProto.newBuilder()
            .addNode(
                constant(
                    "dense.bias",
                    AttributeProto.newBuilder().setName("value_float").setF(1f).build()))
            .build();
    ModelProto nested =
        m.toBuilder()
            .setGraph(
                m.getGraph().toBuilder()
                    .addNode(
                        NodeProto.newBuilder()
                            .setOpType("If")
                            .setName("if2")
                            .addInput("cond")
                            .addOutput("if2_out")
                            .addAttribute(graphAttr("then_branch", clash))))
            .build();
    e = assertThrows(IllegalArgumentException.class, () -> OnnxGraph.of(nested));
    assertTrue(
        e.getMessage().startsWith("'dense.bias': defined more than once (again in graph/If"));
  }
}
