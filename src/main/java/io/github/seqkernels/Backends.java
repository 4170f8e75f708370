package io.github.seqkernels;

import io.github.seqkernels.cpu.CpuBackend;
import io.github.seqkernels.cuda.CudaBackend;
import io.github.seqkernels.cuda.CudaDriver;
import io.github.seqkernels.cuda.CudaException;
import java.lang.System.Logger.Level;

/** Backend selection by name; see {@link Backend#create(String, int)}. */
final class Backends {
  private static final System.Logger LOG = System.getLogger("io.github.seqkernels");

  private Backends() {}

  static Backend create(String name, int threads) {
    if (name == null) throw new IllegalArgumentException("backend: must not be null");
    return switch (name) {
      case "cpu" -> new CpuBackend(threads);
      case "cuda" -> CudaBackend.open();
      case "cuda-emulator" -> CudaBackend.emulated();
      case "auto" -> {
        CudaDriver.Availability driver = CudaDriver.probe();
        String why = driver.available() ? null : driver.reason();
        if (why == null) {
          try {
            Backend cuda = CudaBackend.open();
            LOG.log(Level.INFO, "backend auto: chose {0}", cuda.description());
            yield cuda;
          } catch (CudaException e) {
            why = e.getMessage();
            LOG.log(Level.WARNING, "backend auto: cuda failed to load, using the cpu: {0}", why);
          }
        }
        Backend cpu = new CpuBackend(threads);
        LOG.log(Level.INFO, "backend auto: chose {0}; cuda: {1}", cpu.description(), why);
        yield cpu;
      }
      default ->
          throw new IllegalArgumentException(
              "backend: must be one of auto, cpu, cuda, cuda-emulator, got '" + name + "'");
    };
  }
}
