package io.github.seqkernels;

import io.github.seqkernels.cpu.CpuBackend;
import java.lang.System.Logger.Level;

/** Backend selection by name; see {@link Backend#create(String, int)}. */
final class Backends {
  private static final System.Logger LOG = System.getLogger("io.github.seqkernels");

  private Backends() {}

  static Backend create(String name, int threads) {
    if (name == null) throw new IllegalArgumentException("backend: must not be null");
    return switch (name) {
      case "cpu" -> new CpuBackend(threads);
      case "auto" -> {
        Backend cpu = new CpuBackend(threads);
        LOG.log(
            Level.INFO,
            "backend auto: chose {0}; cuda is not built into this version",
            cpu.description());
        yield cpu;
      }
      case "cuda" ->
          throw new IllegalArgumentException(
              "backend: 'cuda' is not built into this version; use cpu or auto");
      default ->
          throw new IllegalArgumentException(
              "backend: must be one of auto, cpu, got '" + name + "'");
    };
  }
}
