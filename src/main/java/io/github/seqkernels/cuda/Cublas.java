package io.github.seqkernels.cuda;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Whether cuBLAS runs the CUDA backend's products, decided lazily and quietly, on the real driver
 * only (the emulator always runs the library's own {@code gemm_f32}).
 *
 * <p>Three steps, each of which becomes the reason when it fails: (1) {@code libcublas.so.12} is
 * opened with the FFM API before any JCublas class is touched, as {@link CudaDriver} does for the
 * driver: JCublas 12.6's native library links against it, its symbols versioned
 * {@code @libcublas.so.12}, so a machine whose only cuBLAS is CUDA 13's {@code libcublas.so.13}
 * cannot use it, and JCuda's loader would otherwise fail with an error that carries stack traces;
 * (2) JCublas2's native library loads, once per JVM; (3) each backend creates a handle bound to its
 * launcher's stream. The first two answers are cached; the engine each backend gets is logged once
 * per distinct line at INFO. {@code -Dseqkernels.cuda.gemm=own} keeps the own kernel (so a GPU
 * check can run the suites on both).
 */
public final class Cublas {
  /** The cuBLAS that JCublas 12.6 is built against, as the dynamic loader looks it up. */
  public static final String LIBRARY = "libcublas.so.12";

  /** {@code auto} (default): cuBLAS when it loads; {@code own}: always gemm_f32. */
  public static final String PROPERTY = "seqkernels.cuda.gemm";

  private static final System.Logger LOG = System.getLogger("io.github.seqkernels");
  private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();
  private static final Pattern ANY_CUBLAS = Pattern.compile("libcublas\\.so\\.\\d+");

  private Cublas() {}

  /** What runs a backend's products: {@code blas}, or gemm_f32 when it is null. */
  record Engine(Blas blas, String description) {
    static Engine own(String why) {
      return new Engine(null, "own gemm_f32 (" + why + ")");
    }
  }

  /** The cached answer for {@link #LIBRARY}: found, or not and why; touches no JCublas class. */
  public static CudaDriver.Availability probe() {
    return Probe.ANSWER;
  }

  private static final class Probe {
    static final CudaDriver.Availability ANSWER = probe(LIBRARY, searchDirs());
  }

  /**
   * Probes {@code library} now, uncached; never throws. When it is missing, the reason names the
   * other cuBLAS versions found in {@code dirs} (which JCublas 12.6 cannot use).
   */
  public static CudaDriver.Availability probe(String library, List<Path> dirs) {
    try (Arena arena = Arena.ofConfined()) {
      SymbolLookup cublas = SymbolLookup.libraryLookup(library, arena);
      if (cublas.find("cublasSgemmStridedBatched").isEmpty()) {
        return new CudaDriver.Availability(
            false, library + " has no cublasSgemmStridedBatched: not cuBLAS");
      }
      return new CudaDriver.Availability(true, library + " found");
    } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
      List<String> others = otherVersions(library, dirs);
      return new CudaDriver.Availability(
          false,
          library
              + " could not be loaded ("
              + e.getMessage()
              + "): JCublas 12.6 needs CUDA 12's cuBLAS"
              + (others.isEmpty()
                  ? ""
                  : "; found "
                      + String.join(", ", others)
                      + ", which JCublas 12.6 cannot use (its symbols are versioned for "
                      + LIBRARY
                      + ")"));
    } catch (RuntimeException e) {
      return new CudaDriver.Availability(false, library + ": " + e);
    }
  }

  /** Where another cuBLAS may lie: LD_LIBRARY_PATH, the CUDA toolkits, the system's folders. */
  static List<Path> searchDirs() {
    List<Path> dirs = new ArrayList<>();
    String ld = System.getenv("LD_LIBRARY_PATH");
    if (ld != null) {
      for (String d : ld.split(":")) if (!d.isEmpty()) dirs.add(Path.of(d));
    }
    try (DirectoryStream<Path> toolkits =
        Files.newDirectoryStream(Path.of("/usr/local"), "cuda*")) {
      for (Path t : toolkits) {
        dirs.add(t.resolve("lib64"));
        dirs.add(t.resolve("lib"));
        try (DirectoryStream<Path> targets = Files.newDirectoryStream(t.resolve("targets"))) {
          for (Path target : targets) dirs.add(target.resolve("lib"));
        } catch (IOException e) {
          // no targets folder: nothing more to search in this toolkit
        }
      }
    } catch (IOException e) {
      // no /usr/local: nothing to search there
    }
    for (String d : new String[] {"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"}) {
      dirs.add(Path.of(d));
    }
    return dirs;
  }

  /** Files named libcublas.so.N other than {@code library} in dirs, each once (real paths). */
  static List<String> otherVersions(String library, List<Path> dirs) {
    Set<String> found = new LinkedHashSet<>();
    for (Path d : dirs) {
      try (DirectoryStream<Path> files = Files.newDirectoryStream(d, "libcublas.so.*")) {
        for (Path f : files) {
          String name = f.getFileName().toString();
          if (ANY_CUBLAS.matcher(name).matches() && !name.equals(library)) {
            found.add(f.toRealPath().toString());
          }
        }
      } catch (IOException e) {
        // an absent or unreadable folder holds nothing we can report
      }
    }
    return new ArrayList<>(found);
  }

  /** The probe, then JCublas2's native library: cached for the JVM. */
  static CudaDriver.Availability library() {
    return Library.ANSWER;
  }

  private static final class Library {
    static final CudaDriver.Availability ANSWER = load();

    private static CudaDriver.Availability load() {
      CudaDriver.Availability found = probe();
      if (!found.available()) return found;
      try {
        CublasHandle.loadNatives(); // the first JCublas class this JVM touches
        return new CudaDriver.Availability(true, "JCublas2 loaded");
      } catch (LinkageError e) {
        return new CudaDriver.Availability(false, "JCublas2 could not load: " + summary(e));
      }
    }
  }

  /**
   * The engine for a backend on {@code launcher}: cuBLAS on its stream, or gemm_f32 and why. Logged
   * once per distinct line; never throws for a cuBLAS that cannot be used.
   */
  static Engine open(DriverLauncher launcher) {
    String mode = System.getProperty(PROPERTY, "auto");
    Engine e;
    if (mode.equals("own")) {
      e = Engine.own("-D" + PROPERTY + "=own");
    } else if (!mode.equals("auto")) {
      throw new IllegalArgumentException(PROPERTY + ": must be auto or own, got '" + mode + "'");
    } else if (!library().available()) {
      e = Engine.own(library().reason());
    } else {
      e = CublasHandle.create(launcher.stream());
    }
    if (LOGGED.add(e.description())) {
      String fix =
          e.blas() == null && mode.equals("auto") && !probe().available()
              ? "; to use cuBLAS, put CUDA 12's cuBLAS (" + LIBRARY + ") on the library path"
              : "";
      LOG.log(Level.INFO, "cuda: GEMMs on " + e.description() + fix);
    }
    return e;
  }

  /**
   * One line of a native-library error: JCuda's loader puts the stack traces of each attempt into
   * the message, and the last UnsatisfiedLinkError line among them says what the loader missed.
   */
  static String summary(Throwable e) {
    String msg = String.valueOf(e.getMessage()), best = null;
    for (String line : msg.split("\n")) {
      String l = line.strip();
      if (l.startsWith("java.lang.UnsatisfiedLinkError: ")) {
        best = l.substring("java.lang.UnsatisfiedLinkError: ".length());
      }
    }
    return best != null ? best : msg.lines().findFirst().orElse(e.getClass().getName());
  }
}
