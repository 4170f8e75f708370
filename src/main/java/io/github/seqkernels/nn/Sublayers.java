package io.github.seqkernels.nn;

import io.github.seqkernels.Backend;
import io.github.seqkernels.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Pieces the Transformer layers share: weight checks and per-shape scratch buffers. */
final class Sublayers {
  private Sublayers() {}

  /** A Linear's weight [out, in] and bias [out] (may be null) from a state dict. */
  static Tensor[] linear(Map<String, Tensor> sd, String name, long out, long in, Set<String> used) {
    Tensor w = StateDicts.required(sd, name + ".weight", used);
    Tensor b = StateDicts.optional(sd, name + ".bias", used);
    MultiheadAttention.requireMatrix(name + ".weight", w, out, in);
    MultiheadAttention.requireVector(name + ".bias", b, out);
    return new Tensor[] {w, b};
  }

  /** A LayerNorm's weight and bias [E] from a state dict. */
  static Tensor[] norm(Map<String, Tensor> sd, String name, long e, Set<String> used) {
    Tensor w = StateDicts.required(sd, name + ".weight", used);
    Tensor b = StateDicts.optional(sd, name + ".bias", used);
    MultiheadAttention.requireVector(name + ".weight", w, e);
    MultiheadAttention.requireVector(name + ".bias", b, e);
    return new Tensor[] {w, b};
  }

  /**
   * t where {@code backend}'s operators read it in place: on a backend with device memory, a host
   * tensor is uploaded once (the copy added to {@code owned}, for the module's close) so that no
   * call stages it again; otherwise t itself (null stays null).
   */
  static Tensor resident(Backend backend, Tensor t, List<Tensor> owned) {
    if (t == null || !backend.usesDeviceMemory() || !t.isHost()) return t;
    Tensor d = backend.upload(t);
    owned.add(d);
    return d;
  }

  /**
   * Contiguous buffers by slot, reallocated only when a slot's shape changes; in the backend's
   * memory when one is given (device memory on cuda), else on the host.
   */
  static final class Buffers implements AutoCloseable {
    private final Backend backend;
    private final Tensor[] slots;

    Buffers(int n) {
      this(null, n);
    }

    Buffers(Backend backend, int n) {
      this.backend = backend;
      slots = new Tensor[n];
    }

    Tensor get(int slot, long d0, long d1, long d2) {
      Tensor t = slots[slot];
      if (t != null && t.size(0) == d0 && t.size(1) == d1 && t.size(2) == d2) return t;
      if (t != null) t.close();
      slots[slot] =
          t = backend == null ? Tensor.allocate(d0, d1, d2) : backend.allocate(d0, d1, d2);
      return t;
    }

    @Override
    public void close() {
      for (int i = 0; i < slots.length; i++) {
        if (slots[i] != null) slots[i].close();
        slots[i] = null;
      }
    }

    @Override
    public String toString() {
      return "Buffers" + Arrays.toString(slots);
    }
  }
}
