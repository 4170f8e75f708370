package io.github.seqkernels.bench;

import io.github.seqkernels.AttentionOp;
import io.github.seqkernels.AttentionOptions;
import io.github.seqkernels.Backend;
import io.github.seqkernels.Causal;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.reference.ScalarReference;
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
 * One self-attention forward pass, q, k, v {@code [batch, heads, seqLen, headDim]}, on the CPU
 * backend. FLOPs: {@code 4 · batch · heads · seqLen² · headDim}, half of that when causal.
 */
@BenchmarkMode(Mode.SampleTime) // percentiles: the report compares medians
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class AttentionBench {
  @Param("1")
  int batch;

  @Param("8")
  int heads;

  @Param("1024")
  int seqLen;

  @Param("64")
  int headDim;

  /** CLI spelling of {@link Causal}: none, top-left or bottom-right. */
  @Param({"none", "top-left"})
  String causal;

  @Param("2")
  int threads;

  private Backend backend;
  private AttentionOp attention;
  private AttentionOptions options;
  private Tensor q, k, v, out;

  @Setup(Level.Trial)
  public void setUp() {
    backend = Backend.create("cpu", threads);
    attention = backend.attention();
    options = AttentionOptions.defaults().withCausal(Causal.parse(causal));
    // Scores then spread over a few units, so the softmax is neither flat nor one-hot.
    q = Control.uniform(1, 2f, batch, heads, seqLen, headDim);
    k = Control.uniform(2, 2f, batch, heads, seqLen, headDim);
    v = Control.uniform(3, 1f, batch, heads, seqLen, headDim);
    out = Tensor.allocate(batch, heads, seqLen, headDim);
    attention.forward(q, k, v, options, out);
    // The control is O(S²·D) scalar loops, too slow for every head at S = 1024: check the first
    // and the last (batch, head), which also catches a kernel that mixes up heads.
    checkHead(0, 0);
    checkHead(batch - 1, heads - 1);
  }

  private void checkHead(int b, int h) {
    double[] ref =
        ScalarReference.attention(head(q, b, h), head(k, b, h), head(v, b, h), options).out();
    Control.requireClose(
        "attention out[" + b + ", " + h + "] (" + causal + ")", head(out, b, h).toArray(), ref);
  }

  /** The {@code [1, 1, S, D]} view of batch entry b, head h. */
  private static Tensor head(Tensor t, int b, int h) {
    return Tensor.view(
        t.segment(),
        t.offset() + b * t.stride(0) + h * t.stride(1),
        new long[] {1, 1, t.size(2), t.size(3)},
        t.strides());
  }

  @Benchmark
  public void forward() {
    attention.forward(q, k, v, options, out);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (Tensor t : new Tensor[] {q, k, v, out}) t.close();
    backend.close();
  }
}
