package io.github.seqkernels.bench;

import io.github.seqkernels.Backend;
import io.github.seqkernels.SoftmaxOp;
import io.github.seqkernels.SoftmaxOptions;
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
 * Softmax over the last axis of a {@code rows x length} matrix, out of place. The odd length (127)
 * exercises the vector tail on every row.
 */
@BenchmarkMode(Mode.SampleTime) // percentiles: the report compares medians
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class SoftmaxBench {
  /** {@code ROWSxLENGTH}. */
  @Param({"4096x1024", "8192x127"})
  String shape;

  @Param("false")
  boolean log;

  @Param("2")
  int threads;

  private Backend backend;
  private SoftmaxOp softmax;
  private SoftmaxOptions options;
  private Tensor x, y;

  @Setup(Level.Trial)
  public void setUp() {
    String[] dims = shape.split("x");
    if (dims.length != 2) {
      throw new IllegalArgumentException("shape: must be ROWSxLENGTH, got '" + shape + "'");
    }
    long rows = Long.parseLong(dims[0]), length = Long.parseLong(dims[1]);
    backend = Backend.create("cpu", threads);
    softmax = backend.softmax();
    options = SoftmaxOptions.defaults().withAxis(-1).withLog(log);
    x = Control.uniform(4, 8f, rows, length);
    y = Tensor.allocate(rows, length);
    softmax.forward(x, y, options);
    // The control is linear in the size, so the whole matrix is checked.
    Control.requireClose(
        "softmax " + shape + (log ? " (log)" : ""),
        y.toArray(),
        ScalarReference.softmax(x, -1, options.scale(), log));
  }

  @Benchmark
  public void forward() {
    softmax.forward(x, y, options);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    x.close();
    y.close();
    backend.close();
  }
}
