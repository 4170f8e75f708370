package io.github.seqkernels;

import io.github.seqkernels.cpu.CpuBackend;
import io.github.seqkernels.cuda.CudaBackend;
import io.github.seqkernels.cuda.CudaDriver;
import io.github.seqkernels.cuda.CudaException;
import io.github.seqkernels.internal.AttentionShape;
import io.github.seqkernels.internal.Placement;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;

/** Backend selection by name; see {@link Backend#create(String, int)}. */
final class Backends {
  private static final System.Logger LOG = System.getLogger("io.github.seqkernels");

  private Backends() {}

  /** {@link Backend#copy} for a backend whose memory is the host's. */
  static void copyOnHost(String backend, Tensor src, Tensor dst) {
    AttentionShape.requireNonNull("src", src);
    AttentionShape.requireNonNull("dst", dst);
    AttentionShape.requireSameShape("dst", dst, src);
    Placement where = Placement.host(backend, null);
    where.require("src", src);
    where.require("dst", dst);
    long n = src.numel();
    if (src.isContiguous() && dst.isContiguous()) {
      MemorySegment.copy(
          src.segment(),
          src.offset() * Float.BYTES,
          dst.segment(),
          dst.offset() * Float.BYTES,
          n * Float.BYTES);
    } else {
      for (long i = 0; i < n; i++) dst.setFlat(i, src.getFlat(i));
    }
  }

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
