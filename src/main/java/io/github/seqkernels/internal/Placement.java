package io.github.seqkernels.internal;

import io.github.seqkernels.Tensor;

/**
 * Which memory a backend's operators take tensors from. The shared validation ({@link
 * AttentionShape}, {@link LayerShape}, {@link RecurrentShape}) asks it about every tensor argument
 * after the shapes, so each backend states its own rule in its own words: the CPU takes host memory
 * its workers can reach; CUDA takes host memory (staged per call) and its own device memory.
 */
@FunctionalInterface
public interface Placement {
  /** Throws IllegalArgumentException naming {@code name} when the backend cannot use t's memory. */
  void require(String name, Tensor t);

  /**
   * Host memory only, reachable from the calling thread and from {@code worker} when not null: the
   * rule of the CPU backend called {@code backend} (and of the float64 controls).
   */
  static Placement host(String backend, Thread worker) {
    return (name, t) -> {
      if (!t.isHost()) {
        AttentionShape.fail(
            name
                + ": must be a host tensor for the "
                + backend
                + " backend, got a "
                + t.device().kind()
                + " device tensor");
      }
      AttentionShape.requireAccessible(name, t, worker);
    };
  }
}
