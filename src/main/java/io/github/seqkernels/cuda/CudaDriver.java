package io.github.seqkernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;

/**
 * Whether this machine has an NVIDIA driver, found without touching any JCuda class: JCuda prints
 * stack traces when its native library cannot find {@code libcuda.so.1}, so the probe opens the
 * driver library itself first (case L1). The answer and its reason are computed once per JVM.
 */
public final class CudaDriver {
  /** The driver's library name, as the dynamic loader looks it up. */
  public static final String LIBRARY = "libcuda.so.1";

  /** The probe's answer: available, or not and why. */
  public record Availability(boolean available, String reason) {}

  private CudaDriver() {}

  /** The cached answer for {@link #LIBRARY}. */
  public static Availability probe() {
    return Holder.ANSWER;
  }

  private static final class Holder {
    static final Availability ANSWER = probe(LIBRARY);
  }

  /** Probes {@code library} (the driver's file name) now, uncached; never throws. */
  public static Availability probe(String library) {
    try (Arena arena = Arena.ofConfined()) {
      SymbolLookup driver = SymbolLookup.libraryLookup(library, arena);
      if (driver.find("cuInit").isEmpty()) {
        return new Availability(false, library + " has no cuInit: not an NVIDIA driver library");
      }
      return new Availability(true, library + " found");
    } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
      return new Availability(
          false, library + " (the NVIDIA driver) could not be loaded: " + e.getMessage());
    } catch (RuntimeException e) {
      return new Availability(false, library + ": " + e);
    }
  }
}
