package io.github.seqkernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector shape every CPU kernel uses, fixed when the class loads so that the JIT sees a
 * constant species (a species held in a field that is not static final defeats the intrinsics).
 *
 * <p>System property {@code seqkernels.cpu.vectorBits} = 64, 128, 256 or 512 narrows it, so the
 * 128- and 256-bit code paths (and the 2-lane one, which exercises every tail) can be tested on any
 * machine; a width above the machine's preferred one is lowered to it.
 */
public final class CpuVectors {
  public static final VectorSpecies<Float> SPECIES = choose();
  public static final int LANES = SPECIES.length();

  private CpuVectors() {}

  private static VectorSpecies<Float> choose() {
    VectorSpecies<Float> preferred = FloatVector.SPECIES_PREFERRED;
    String prop = System.getProperty("seqkernels.cpu.vectorBits");
    if (prop == null || prop.isBlank()) return preferred;
    int bits;
    try {
      bits = Integer.parseInt(prop.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "seqkernels.cpu.vectorBits: must be 64, 128, 256 or 512, got '" + prop + "'");
    }
    VectorSpecies<Float> s =
        switch (bits) {
          case 64 -> FloatVector.SPECIES_64;
          case 128 -> FloatVector.SPECIES_128;
          case 256 -> FloatVector.SPECIES_256;
          case 512 -> FloatVector.SPECIES_512;
          default ->
              throw new IllegalArgumentException(
                  "seqkernels.cpu.vectorBits: must be 64, 128, 256 or 512, got " + bits);
        };
    return s.vectorBitSize() > preferred.vectorBitSize() ? preferred : s;
  }

  static int roundUp(int n, int m) {
    return (n + m - 1) / m * m;
  }
}
