package io.github.seqkernels.cli;

import io.github.seqkernels.Backend;
import io.github.seqkernels.cpu.CpuVectors;
import java.io.PrintWriter;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code seqkernels} command line. Results go to stdout, diagnostics to stderr. Exit codes: 0
 * success, 1 a self-check failed or an internal error, 2 bad input (one line on stderr).
 */
@Command(
    name = "seqkernels",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Attention and recurrent-cell kernels for sequence models.",
    subcommands = {
      DemoCommand.class,
      Main.Info.class,
      RunCommand.class,
      SelfCheck.class,
      VadCommand.class,
      EmbedCommand.class
    })
public final class Main implements Runnable {
  /** Held so that the level set here is not lost with a collected logger. */
  private static final Logger LIBRARY_LOG = Logger.getLogger("io.github.seqkernels");

  @Option(
      names = {"-v", "--verbose"},
      description = "log the library's choices to stderr")
  boolean verbose;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and returns its exit code (for tests). */
  public static int run(String... args) {
    Main main = new Main();
    CommandLine cl = new CommandLine(main);
    // Library log lines (the backend choice) are diagnostics: one line each, and only with -v,
    // so that bad input stays one line on stderr.
    cl.setExecutionStrategy(
        parsed -> {
          if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "seqkernels: %5$s%n");
          }
          LIBRARY_LOG.setLevel(main.verbose ? Level.INFO : Level.WARNING);
          // SLF4J (used by the tokenizer of `embed`) warns on stderr that no logging backend is
          // bound; that is expected here, so only -v shows it.
          if (!main.verbose && System.getProperty("slf4j.internal.verbosity") == null) {
            System.setProperty("slf4j.internal.verbosity", "ERROR");
          }
          return new CommandLine.RunLast().execute(parsed);
        });
    cl.setParameterExceptionHandler(
        (e, a) -> {
          e.getCommandLine()
              .getErr()
              .println(
                  "seqkernels: "
                      + e.getMessage()
                      + " (see "
                      + e.getCommandLine().getCommandSpec().qualifiedName()
                      + " --help)");
          return 2;
        });
    cl.setExecutionExceptionHandler(
        (e, c, p) -> {
          PrintWriter err = c.getErr();
          // Bad input, or a backend asked for by name that this machine cannot give (no
          // driver, a module the driver refuses): one line, exit code 2.
          if (e instanceof IllegalArgumentException
              || e instanceof io.github.seqkernels.cuda.CudaLoadException) {
            err.println("seqkernels: " + String.valueOf(e.getMessage()).replace('\n', ' '));
            return 2;
          }
          err.println("seqkernels: internal error: " + e);
          e.printStackTrace(err);
          return 1;
        });
    return cl.execute(args);
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"seqkernels " + (v == null ? "(development build)" : v)};
    }
  }

  @Command(name = "info", description = "Print backends, vector width and cores.")
  static final class Info implements Runnable {
    @Override
    public void run() {
      int cores = Runtime.getRuntime().availableProcessors();
      System.out.println(
          "java:     " + System.getProperty("java.vm.name") + " " + Runtime.version());
      System.out.println("cores:    " + cores);
      System.out.println(
          "vector:   "
              + CpuVectors.SPECIES
              + " ("
              + CpuVectors.LANES
              + " float lanes; -Dseqkernels.cpu.vectorBits narrows it)");
      try (Backend cpu = Backend.create("cpu", cores)) {
        System.out.println("backends: cpu      available: " + cpu.description());
      }
      io.github.seqkernels.cuda.CudaDriver.Availability gpu =
          io.github.seqkernels.cuda.CudaDriver.probe();
      boolean cudaLoads = false;
      if (!gpu.available()) {
        System.out.println("          cuda     not available: " + gpu.reason());
        // What a GPU here would run its products on, from the library probe alone.
        io.github.seqkernels.cuda.CudaDriver.Availability blas =
            io.github.seqkernels.cuda.Cublas.probe();
        System.out.println(
            "          cuda     cuBLAS: "
                + (blas.available()
                    ? blas.reason()
                    : "not usable, GEMMs would run on the own gemm_f32: " + blas.reason()));
      } else {
        try (io.github.seqkernels.cuda.CudaBackend cuda =
            io.github.seqkernels.cuda.CudaBackend.open()) {
          var d = (io.github.seqkernels.cuda.DriverLauncher) cuda.launcher();
          int cc = d.computeCapability(), dv = d.driverVersion();
          int rv = io.github.seqkernels.cuda.DriverLauncher.runtimeVersion();
          System.out.println("          cuda     available: " + d.deviceName());
          System.out.println(
              "          cuda     compute capability "
                  + cc / 10
                  + "."
                  + cc % 10
                  + ", driver CUDA "
                  + version(dv)
                  + ", runtime "
                  + (rv < 0
                      ? "not loaded (the backend uses the driver API)"
                      : "CUDA " + version(rv)));
          System.out.println("          cuda     modules loaded: " + d.loadedModules());
          System.out.println("          cuda     GEMMs on " + cuda.gemmEngine());
          cudaLoads = true;
        } catch (RuntimeException e) {
          System.out.println("          cuda     failed to load: " + e.getMessage());
        }
      }
      System.out.println(
          "          cuda     kernels: "
              + io.github.seqkernels.cuda.CudaBackend.ENTRIES.stream()
                  .map(e -> e[0] + "/" + e[1])
                  .toList());
      System.out.println("          auto     -> " + (cudaLoads ? "cuda" : "cpu"));
    }

    /** A CUDA version number (major·1000 + minor·10) as major.minor. */
    private static String version(int v) {
      return v / 1000 + "." + v % 1000 / 10;
    }
  }
}
