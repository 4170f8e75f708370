package io.github.seqkernels.cli;

import static io.github.seqkernels.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.github.seqkernels.cuda.Cublas;
import io.github.seqkernels.cuda.CudaDriver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --backend} on every command that opens a backend: on a machine without the NVIDIA driver,
 * {@code cuda} fails with exit code 2 and one line on stderr that names the driver's library, and
 * {@code info} says why auto takes the CPU. (With a driver, GpuCheck covers the GPU side.)
 */
class BackendOptionCliTest {
  @TempDir Path dir;

  /** Every command with a --backend option, with arguments that would otherwise run. */
  private List<List<String>> commands() {
    Path in = dir.resolve("x.npz"), out = dir.resolve("y.npz");
    Npz.write(in, List.of(new Npz.Out("x", new float[] {1, -2, 3}, new long[] {3})));
    List<List<String>> c = new ArrayList<>();
    c.add(List.of("run", "softmax", "--in", in.toString(), "--out", out.toString()));
    c.add(List.of("run", "gelu", "--in", in.toString(), "--out", out.toString()));
    c.add(List.of("selfcheck"));
    c.add(List.of("embed", "hello"));
    c.add(List.of("demo", "--no-check", "--png", dir.resolve("d.png").toString()));
    c.add(List.of("vad", VadCliTest.speech()));
    return c;
  }

  @Test
  void cudaWithoutADriverIsOneLineAndExitCode2() {
    assumeFalse(CudaDriver.probe().available(), "this machine has an NVIDIA driver");
    for (List<String> cmd : commands()) {
      List<String> args = new ArrayList<>(cmd);
      args.add("--backend");
      args.add("cuda");
      CliTest.Result r = cli(args.toArray(String[]::new));
      String what = String.join(" ", args);
      assertEquals(2, r.code(), what + ": " + r.out() + r.err());
      String err = r.err().strip();
      assertEquals(1, err.lines().count(), what + ": " + err);
      assertTrue(err.startsWith("seqkernels: cuda: not available: "), what + ": " + err);
      assertTrue(err.contains(CudaDriver.LIBRARY), what + ": " + err);
      assertTrue(!Files.exists(dir.resolve("y.npz")), what + ": wrote an output");
    }
  }

  @Test
  void unknownBackendIsRefusedByName() {
    for (List<String> cmd : commands()) {
      List<String> args = new ArrayList<>(cmd);
      args.add("--backend");
      args.add("tpu");
      CliTest.Result r = cli(args.toArray(String[]::new));
      String what = String.join(" ", args);
      assertEquals(2, r.code(), what + ": " + r.out() + r.err());
      assertTrue(
          r.err().contains("backend: must be one of auto, cpu, cuda, cuda-emulator, got 'tpu'"),
          what + ": " + r.err());
    }
  }

  @Test
  void vadRunsOnTheCpuBackendByName() {
    CliTest.Result r = cli("vad", "--backend", "cpu", VadCliTest.speech());
    assertEquals(0, r.code(), r.err());
    assertEquals(2, VadCliTest.lines(r.out(), "speech ").size(), r.out());
  }

  @Test
  void infoSaysWhyAutoTakesTheCpu() {
    assumeFalse(CudaDriver.probe().available(), "this machine has an NVIDIA driver");
    CliTest.Result r = cli("info");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("cuda     not available: " + CudaDriver.LIBRARY), r.out());
    assertTrue(r.out().contains("auto     -> cpu"), r.out());
    assertTrue(r.out().contains("recurrent/lstm_gates_f32"), r.out());
    // Whether a GPU here would use cuBLAS, and why not.
    assertTrue(
        r.out().contains("cuda     cuBLAS: " + (Cublas.probe().available() ? "" : "not usable"))
            && r.out().contains(Cublas.probe().reason()),
        r.out());
  }
}
