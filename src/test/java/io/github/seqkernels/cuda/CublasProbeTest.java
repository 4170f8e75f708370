package io.github.seqkernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cuBLAS probe (like case L1 for the driver): a missing libcublas.so.12 is a quiet, cached
 * false whose reason names it and any other cuBLAS found, no JCublas class is loaded for it, and
 * the backend's GEMM engine falls back to gemm_f32 with that reason logged once, no stack trace.
 */
class CublasProbeTest {
  @Test
  void aMissingLibraryIsAQuietFalseNamingItAndOtherVersions(@TempDir Path dir) throws IOException {
    Files.createFile(dir.resolve("libcublas.so.13"));
    Files.createFile(dir.resolve("libcublasLt.so.13")); // not cuBLAS itself
    CudaDriver.Availability a = Cublas.probe("libcublas-absent-for-test.so.12", List.of(dir));
    assertFalse(a.available());
    String why = a.reason();
    assertTrue(why.startsWith("libcublas-absent-for-test.so.12 could not be loaded ("), why);
    assertTrue(why.contains("JCublas 12.6 needs CUDA 12's cuBLAS"), why);
    assertTrue(why.contains(dir.toRealPath().resolve("libcublas.so.13").toString()), why);
    assertTrue(why.contains("which JCublas 12.6 cannot use"), why);
    assertFalse(why.contains("libcublasLt"), why);
    assertFalse(why.contains("\n"), why);
    assertFalse(
        Cublas.probe("libcublas-absent-for-test.so.12", List.of()).reason().contains("found"));
  }

  @Test
  void onThisMachineTheReasonNamesWhatIsThere() throws IOException {
    assertSame(Cublas.probe(), Cublas.probe());
    assumeFalse(Cublas.probe().available(), "this machine has libcublas.so.12");
    String why = Cublas.probe().reason();
    assertTrue(why.startsWith(Cublas.LIBRARY + " could not be loaded ("), why);
    // CUDA 13's cuBLAS, where a toolkit holds it, is named as found and unusable.
    List<Path> thirteen = new ArrayList<>();
    if (Files.isDirectory(Path.of("/usr/local"))) {
      try (Stream<Path> s = Files.find(Path.of("/usr/local"), 5, (p, at) -> isCublas13(p))) {
        s.forEach(thirteen::add);
      }
    }
    for (Path p : thirteen) {
      assertTrue(why.contains(p.toRealPath().toString()), p + " not named in: " + why);
    }
    // The library step does not go further than the probe: no JCublas load is attempted.
    assertSame(Cublas.probe(), Cublas.library());
  }

  private static boolean isCublas13(Path p) {
    return p.getFileName() != null && p.getFileName().toString().equals("libcublas.so.13");
  }

  @Test
  void jcudasLoaderMessageIsCutToTheLineThatSaysWhat() {
    // The message of JCublas2's UnsatisfiedLinkError on a machine without libcublas.so.12
    // (JCuda 12.6.0's LibUtils, shortened): each load attempt's stack trace inside.
    String jcuda =
        """
        Error while loading native library "JCublas2-12.6.0-linux-x86_64"
        Operating system name: Linux
        ---(start of nested stack traces)---
        Stack trace from the attempt to load the library as a file:
        java.lang.UnsatisfiedLinkError: no JCublas2-12.6.0-linux-x86_64 in java.library.path: /usr/lib
        \tat java.base/java.lang.ClassLoader.loadLibrary(ClassLoader.java:2285)
        Stack trace from the attempt to load the library as a resource:
        java.lang.UnsatisfiedLinkError: /tmp/libJCublas2-12.6.0-linux-x86_64.so: libcublas.so.12: \
        cannot open shared object file: No such file or directory
        \tat java.base/jdk.internal.loader.NativeLibraries.load(Native Method)
        ---(end of nested stack traces)---
        """;
    assertEquals(
        "/tmp/libJCublas2-12.6.0-linux-x86_64.so: libcublas.so.12: cannot open shared object"
            + " file: No such file or directory",
        Cublas.summary(new UnsatisfiedLinkError(jcuda)));
    assertEquals(
        "Could not initialize class jcuda.jcublas.JCublas2",
        Cublas.summary(
            new NoClassDefFoundError("Could not initialize class jcuda.jcublas.JCublas2")));
  }

  @Test
  void thePropertyKeepsTheOwnKernel() {
    try {
      System.setProperty(Cublas.PROPERTY, "own");
      Cublas.Engine e = Cublas.open(null); // decided before the launcher is used
      assertNull(e.blas());
      assertEquals("own gemm_f32 (-Dseqkernels.cuda.gemm=own)", e.description());
      System.setProperty(Cublas.PROPERTY, "cublas");
      IllegalArgumentException bad =
          assertThrows(IllegalArgumentException.class, () -> Cublas.open(null));
      assertEquals("seqkernels.cuda.gemm: must be auto or own, got 'cublas'", bad.getMessage());
    } finally {
      System.clearProperty(Cublas.PROPERTY);
    }
  }

  /**
   * In a fresh JVM, the engine choice a backend makes where libcublas.so.12 is missing: gemm_f32,
   * the reason logged once at INFO, no stack trace, and no JCublas class loaded.
   */
  @Test
  void aFreshJvmFallsBackQuietlyWithoutLoadingJCublas() throws Exception {
    assumeFalse(Cublas.probe().available(), "this machine has libcublas.so.12");
    String java = ProcessHandle.current().info().command().orElseThrow();
    Process p =
        new ProcessBuilder(
                java,
                "--enable-native-access=ALL-UNNAMED",
                "-Xlog:class+load=info:stdout",
                "-Djava.util.logging.SimpleFormatter.format=%4$s: %5$s%n",
                "-cp",
                System.getProperty("java.class.path"),
                EngineChoice.class.getName())
            .redirectErrorStream(true)
            .start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish");
    assertEquals(0, p.exitValue(), out);
    // -Xlog lines start with "[uptime]"; the rest is what the program and its logger printed.
    List<String> lines = out.lines().filter(l -> !l.startsWith("[")).toList();
    List<String> jcublas = out.lines().filter(l -> l.contains("jcuda.jcublas")).toList();
    assertTrue(jcublas.isEmpty(), "JCublas classes loaded: " + jcublas);
    assertTrue(out.contains("io.github.seqkernels.cuda.Cublas "), "class-load log missing: " + out);
    for (String l : lines) assertFalse(l.startsWith("\tat ") || l.contains("Exception"), out);
    List<String> logged = lines.stream().filter(l -> l.startsWith("INFO: cuda: GEMMs on")).toList();
    assertEquals(1, logged.size(), out); // two engine choices, one log line
    assertTrue(logged.get(0).contains("own gemm_f32 (" + Cublas.LIBRARY), logged.get(0));
    assertTrue(logged.get(0).contains("to use cuBLAS, put CUDA 12's cuBLAS"), logged.get(0));
    assertTrue(
        lines.contains("engine: " + Cublas.Engine.own(Cublas.probe().reason()).description()), out);
  }

  /** The child JVM of the test above: the engine choice of two backends, without a launcher. */
  static final class EngineChoice {
    public static void main(String[] args) {
      Cublas.Engine e = Cublas.open(null); // the library step fails before the launcher is used
      Cublas.open(null);
      System.out.println("engine: " + e.description());
    }
  }
}
