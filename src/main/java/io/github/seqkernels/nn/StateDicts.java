package io.github.seqkernels.nn;

import io.github.seqkernels.Tensor;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Reading PyTorch state dicts: required and optional names, and no name left unread. */
final class StateDicts {
  private StateDicts() {}

  static Tensor required(Map<String, Tensor> sd, String name, Set<String> used) {
    Tensor t = sd.get(name);
    if (t == null) {
      throw new IllegalArgumentException(
          "stateDict: missing '" + name + "' (has: " + new TreeSet<>(sd.keySet()) + ")");
    }
    used.add(name);
    return t;
  }

  static Tensor optional(Map<String, Tensor> sd, String name, Set<String> used) {
    Tensor t = sd.get(name);
    if (t != null) used.add(name);
    return t;
  }

  /** Refuses any name under {@code prefix} that was not read, so a typo cannot pass silently. */
  static void requireNoExtra(Map<String, Tensor> sd, String prefix, Set<String> used) {
    Set<String> extra = new TreeSet<>();
    for (String k : sd.keySet()) if (k.startsWith(prefix) && !used.contains(k)) extra.add(k);
    if (!extra.isEmpty()) {
      throw new IllegalArgumentException(
          "stateDict: unexpected "
              + extra
              + " (this module reads "
              + new TreeSet<>(used)
              + "; add_bias_kv and other options are not supported)");
    }
  }
}
