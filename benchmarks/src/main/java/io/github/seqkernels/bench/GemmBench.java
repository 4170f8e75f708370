package io.github.seqkernels.bench;

import io.github.seqkernels.Backend;
import io.github.seqkernels.GemmOp;
import io.github.seqkernels.GemmOptions;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.reference.ScalarGemm;
import java.util.SplittableRandom;
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
 * {@code Y = A·B}, a {@code [m, k]}, b {@code [k, n]}, float32, row-major, on the CPU backend: what
 * numpy's {@code a @ b} computes. FLOPs: {@code 2·m·n·k}.
 */
@BenchmarkMode(Mode.SampleTime) // percentiles: the report compares medians
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GemmBench {
  @Param("1024")
  int m;

  @Param("1024")
  int n;

  @Param("1024")
  int k;

  @Param("2")
  int threads;

  private Backend backend;
  private GemmOp gemm;
  private Tensor a, b, y;

  @Setup(Level.Trial)
  public void setUp() {
    backend = Backend.create("cpu", threads);
    gemm = backend.gemm();
    a = Control.uniform(5, 1f, m, k);
    b = Control.uniform(6, 1f, k, n);
    y = Tensor.allocate(m, n);
    gemm.forward(a, b, y);
    // The control is O(m·n·k) scalar loops: check whole rows (every column block) for the first
    // and last row and a few random ones, so every row block's packing is exercised too.
    SplittableRandom rows = new SplittableRandom(7);
    checkRow(0);
    checkRow(m - 1);
    for (int i = 0; i < 6; i++) checkRow(rows.nextInt(m));
  }

  private void checkRow(int i) {
    Tensor ai =
        Tensor.view(a.segment(), a.offset() + i * a.stride(0), new long[] {1, k}, a.strides());
    Tensor yi =
        Tensor.view(y.segment(), y.offset() + i * y.stride(0), new long[] {1, n}, y.strides());
    ScalarGemm.Product ref = ScalarGemm.gemm(ai, b, null, GemmOptions.defaults());
    Control.requireWithin("gemm row " + i, yi.toArray(), ref.y(), ref.abs(), k);
  }

  @Benchmark
  public void forward() {
    gemm.forward(a, b, y);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (Tensor t : new Tensor[] {a, b, y}) t.close();
    backend.close();
  }
}
