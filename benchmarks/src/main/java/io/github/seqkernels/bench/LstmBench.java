package io.github.seqkernels.bench;

import io.github.seqkernels.Backend;
import io.github.seqkernels.RecurrentInputs;
import io.github.seqkernels.RecurrentOp;
import io.github.seqkernels.RecurrentOptions;
import io.github.seqkernels.RecurrentOutputs;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.RecurrentShape;
import io.github.seqkernels.reference.ScalarRecurrent;
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
 * One forward LSTM layer, x {@code [seqLen, batch, input]}, hidden {@code hidden}, as PyTorch's
 * nn.LSTM runs it (one direction, biases). FLOPs: {@code 2 · S · B · 4H · (I + H)}.
 */
@BenchmarkMode(Mode.SampleTime) // percentiles: the report compares medians
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class LstmBench {
  @Param("100")
  int seqLen;

  @Param("16")
  int batch;

  @Param("256")
  int input;

  @Param("512")
  int hidden;

  @Param("2")
  int threads;

  private Backend backend;
  private RecurrentOp lstm;
  private RecurrentInputs in;
  private RecurrentOptions options;
  private RecurrentOutputs out;

  @Setup(Level.Trial)
  public void setUp() {
    backend = Backend.create("cpu", threads);
    lstm = backend.lstm();
    int g = 4 * hidden;
    // Weights at PyTorch's default init scale 1/sqrt(H), so the gates are neither flat nor
    // saturated.
    float ws = (float) (1 / Math.sqrt(hidden));
    in =
        RecurrentInputs.of(
                Control.uniform(1, 1f, seqLen, batch, input),
                Control.uniform(2, ws, 1, g, input),
                Control.uniform(3, ws, 1, g, hidden))
            .withB(Control.uniform(4, ws, 1, 2 * g));
    options = RecurrentOptions.of(hidden);
    out =
        new RecurrentOutputs(
            Tensor.allocate(seqLen, 1, batch, hidden),
            Tensor.allocate(1, batch, hidden),
            Tensor.allocate(1, batch, hidden));
    lstm.forward(in, options, out);
    // The control on the first 3 steps of the whole batch, which already exercises every gate and
    // the recurrence (the full 100 steps in float64 take minutes).
    int steps = Math.min(3, seqLen);
    Tensor x3 =
        Tensor.view(in.x().segment(), 0, new long[] {steps, batch, input}, in.x().strides());
    RecurrentInputs in3 = new RecurrentInputs(x3, in.w(), in.r(), in.b(), null, null, null, null);
    double[] ref = ScalarRecurrent.run(RecurrentShape.Kind.LSTM, in3, options).y();
    float[] got = java.util.Arrays.copyOf(out.y().toArray(), steps * batch * hidden);
    Control.requireClose("lstm y[0.." + steps + ")", got, ref);
  }

  @Benchmark
  public void forward() {
    lstm.forward(in, options, out);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    backend.close();
  }
}
