package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.seqkernels.cpu.CpuVectors;
import org.junit.jupiter.api.Test;

/** The narrower-vector test runs really run narrower: the property reaches the kernels. */
class VectorWidthTest {
  @Test
  void propertyChoosesTheSpecies() {
    String bits = System.getProperty("seqkernels.cpu.vectorBits");
    if (bits == null) return; // default run: the machine's preferred width, checked by `info`
    assertEquals(Integer.parseInt(bits), CpuVectors.SPECIES.vectorBitSize());
  }
}
