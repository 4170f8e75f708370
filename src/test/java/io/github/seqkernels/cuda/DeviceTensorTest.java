package io.github.seqkernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.seqkernels.Activation;
import io.github.seqkernels.Backend;
import io.github.seqkernels.DeviceMemory;
import io.github.seqkernels.Tensor;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Device tensors of the CUDA backend on its host emulator: the Tensor API over device memory, the
 * caching pool behind {@link Backend#allocate}, the transfers of {@link Backend#upload}, {@link
 * Backend#download} and {@link Backend#copy} in every direction with awkward shapes and strides
 * (bits compared, copies counted), and the refusal of memory an operator cannot use.
 */
class DeviceTensorTest {
  static CudaBackend be;

  @BeforeAll
  static void open() {
    be = CudaBackend.emulated();
  }

  @AfterAll
  static void close() {
    be.close();
  }

  static float[] data(int n, long salt) {
    Random r = new Random(20261204L + salt);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
    return a;
  }

  static Transfers.Snapshot counts() {
    return be.launcher().transfers().snapshot();
  }

  @Test
  void allocateGivesZeroFilledDeviceTensor() {
    assertTrue(be.usesDeviceMemory());
    try (Tensor t = be.allocate(3, 5)) {
      assertFalse(t.isHost());
      assertEquals("cuda", t.device().kind());
      assertTrue(t.isContiguous());
      assertArrayEquals(new long[] {3, 5}, t.shape());
      assertTrue(t.toString().endsWith("on cuda"), t.toString());
      try (Tensor h = be.download(t)) {
        assertTrue(h.isHost());
        assertArrayEquals(new float[15], h.toArray());
      }
    }
  }

  @Test
  void hostAccessorsThrowWithTheRule() {
    try (Tensor t = be.allocate(2, 2)) {
      for (Runnable r :
          new Runnable[] {
            t::segment,
            () -> t.get(0, 0),
            () -> t.set(1f, 0, 0),
            () -> t.getFlat(0),
            () -> t.setFlat(0, 1f),
            t::toArray,
            () -> t.copyFrom(new float[4])
          }) {
        IllegalStateException e = assertThrows(IllegalStateException.class, r::run);
        assertTrue(e.getMessage().contains("cuda device memory"), e.getMessage());
        assertTrue(e.getMessage().contains("Backend.download"), e.getMessage());
      }
      assertFalse(t.isAccessibleBy(Thread.currentThread()));
    }
  }

  @Test
  void viewsStayOnTheDevice() {
    try (Tensor t = be.upload(Tensor.wrap(data(24, 1), 2, 3, 4))) {
      Tensor p = t.permute(2, 0, 1), r = t.reshape(6, 4);
      Tensor s = t.asStrided(new long[] {3, 2}, new long[] {4, 12}, 1);
      for (Tensor v : new Tensor[] {p, r, s}) {
        assertFalse(v.isHost());
        assertTrue(v.sameMemory(t));
        assertEquals(t.device(), v.device());
      }
      float[] host = data(24, 1);
      try (Tensor back = be.download(p)) {
        assertArrayEquals(Tensor.wrap(host, 2, 3, 4).permute(2, 0, 1).toArray(), back.toArray());
      }
      try (Tensor back = be.download(s)) {
        assertArrayEquals(
            Tensor.wrap(host, 24).asStrided(new long[] {3, 2}, new long[] {4, 12}, 1).toArray(),
            back.toArray());
      }
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> t.asStrided(new long[] {5}, new long[] {6}, 0));
      assertTrue(e.getMessage().contains("device block"), e.getMessage());
      // A view owns nothing: closing it leaves the block open.
      p.close();
      assertFalse(t.device().isClosed());
    }
  }

  @Test
  void closeIsIdempotentAndThePoolReusesBlocks() {
    Tensor a = be.allocate(1000);
    DeviceMemory m = a.device();
    long address = m.address();
    a.close();
    a.close();
    assertTrue(m.isClosed());
    assertThrows(IllegalStateException.class, m::address);
    // Same size class (4000 B -> 4096): the block comes back from the pool's free list.
    try (Tensor b = be.allocate(1020)) {
      assertEquals(address, b.device().address());
      assertFalse(b.device().isClosed());
      // And it is zeroed again, whatever the last owner left.
      try (Tensor h = be.download(b)) {
        assertArrayEquals(new float[1020], h.toArray());
      }
    }
    try (Tensor c = be.allocate(1000);
        Tensor d = be.allocate(1000)) {
      assertNotEquals(c.device().address(), d.device().address());
    }
  }

  @Test
  void closedBlockIsRefusedByName() {
    Tensor x = be.upload(Tensor.wrap(data(6, 2), 2, 3));
    Tensor view = x.permute(1, 0);
    x.close();
    try (Tensor y = be.allocate(3, 2)) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> be.elementwise().apply(view, Activation.of("Relu"), y));
      assertTrue(e.getMessage().startsWith("x: device memory must be open"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> be.copy(view, y));
      assertTrue(e.getMessage().startsWith("src: device memory must be open"), e.getMessage());
    }
  }

  @Test
  void otherBackendsMemoryIsRefusedByName() {
    try (CudaBackend other = CudaBackend.emulated();
        Tensor foreign = other.allocate(4);
        Tensor mine = be.allocate(4)) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> be.elementwise().add(mine, foreign, mine));
      assertTrue(
          e.getMessage()
              .startsWith("b: must be a host tensor or device memory of this cuda backend"),
          e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> be.copy(foreign, mine));
      assertTrue(e.getMessage().startsWith("src: must be a host tensor or device"), e.getMessage());
    }
    // A device memory of another kind altogether.
    DeviceMemory fake =
        new DeviceMemory() {
          @Override
          public String kind() {
            return "fake";
          }

          @Override
          public long address() {
            return 64;
          }

          @Override
          public long byteSize() {
            return 64;
          }

          @Override
          public boolean isClosed() {
            return false;
          }

          @Override
          public void close() {}
        };
    Tensor t = Tensor.onDevice(fake, 4);
    try (Tensor y = be.allocate(4)) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> be.elementwise().apply(t, Activation.of("Relu"), y));
      assertTrue(e.getMessage().contains("got fake device memory"), e.getMessage());
    }
    // And the CPU takes host memory only.
    try (Backend cpu = Backend.create("cpu", 1);
        Tensor d = be.allocate(4)) {
      Tensor h = Tensor.allocate(4);
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> cpu.elementwise().apply(d, Activation.of("Relu"), h));
      assertEquals(
          "x: must be a host tensor for the cpu backend, got a cuda device tensor", e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> cpu.copy(d, h));
      h.close();
    }
  }

  @Test
  void badCopyArgumentsAreNamed() {
    try (Tensor d = be.allocate(2, 3)) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> be.copy(null, d));
      assertTrue(e.getMessage().startsWith("src:"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> be.copy(d, Tensor.allocate(3, 2)));
      assertTrue(e.getMessage().startsWith("dst:"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> be.allocate(2, -1));
      assertTrue(e.getMessage().contains("-1"), e.getMessage());
    }
  }

  /** Layouts of the same logical [2, 3, 4] values: dense, permuted, gapped, reversed, broadcast. */
  static Tensor[] hostLayouts(float[] v) {
    Tensor dense = Tensor.wrap(v.clone(), 2, 3, 4);
    float[] big = new float[2 * 3 * 4 * 2];
    Tensor gapped =
        Tensor.wrap(big, big.length).asStrided(new long[] {2, 3, 4}, new long[] {24, 8, 2}, 1);
    gapped.copyFrom(v);
    float[] rev = new float[24];
    Tensor reversed =
        Tensor.wrap(rev, 24).asStrided(new long[] {2, 3, 4}, new long[] {-12, -4, -1}, 23);
    reversed.copyFrom(v);
    Tensor permuted = Tensor.wrap(new float[24], 4, 2, 3).permute(1, 2, 0);
    permuted.copyFrom(v);
    return new Tensor[] {dense, gapped, reversed, permuted};
  }

  @Test
  void roundTripsKeepEveryBitInAnyLayout() {
    float[] v = data(24, 3);
    v[5] = Float.NaN;
    v[6] = -0f;
    v[7] = Float.NEGATIVE_INFINITY;
    v[8] = Float.MIN_VALUE;
    for (Tensor src : hostLayouts(v)) {
      for (Tensor dstHost : hostLayouts(new float[24])) {
        // host -> device (dense) -> device (strided) -> host (strided)
        try (Tensor d = be.upload(src);
            Tensor block = be.allocate(60)) {
          Tensor strided =
              block.asStrided(new long[] {2, 3, 4}, new long[] {1, 2 * 10, 2}, 3); // gaps, permuted
          be.copy(d, strided);
          be.copy(strided, dstHost);
          assertArrayEquals(bits(v), bits(dstHost.toArray()), src + " -> " + dstHost);
          // host (strided) -> device (strided) directly, and device (strided) -> host download
          Tensor rev = block.asStrided(new long[] {2, 3, 4}, new long[] {-1, -8, -2}, 59);
          be.copy(src, rev);
          try (Tensor back = be.download(rev)) {
            assertArrayEquals(bits(v), bits(back.toArray()));
          }
        }
      }
    }
  }

  @Test
  void awkwardShapes() {
    long[][] shapes = {
      {}, {0}, {3, 0, 2}, {1}, {1, 1, 1}, {7}, {5, 1, 3}, {2, 1, 1, 1, 1, 1, 1, 3}
    };
    for (long[] shape : shapes) {
      int n = 1;
      for (long s : shape) n *= (int) s;
      float[] v = data(n, 7 + n);
      try (Tensor d = be.upload(Tensor.wrap(v, shape));
          Tensor e = be.allocate(shape)) {
        be.copy(d, e);
        try (Tensor h = be.download(e)) {
          assertArrayEquals(shape, h.shape());
          assertArrayEquals(v, h.toArray());
        }
      }
    }
    // Broadcast source (stride 0) into a dense device tensor.
    Tensor row =
        Tensor.wrap(new float[] {1, 2, 3}, 3).asStrided(new long[] {4, 3}, new long[] {0, 1}, 0);
    try (Tensor d = be.upload(row);
        Tensor h = be.download(d)) {
      assertArrayEquals(row.toArray(), h.toArray());
    }
    // A strided device copy is done by a kernel of rank <= 8.
    try (Tensor d = be.allocate(1, 1, 1, 1, 1, 1, 1, 1, 2)) {
      Tensor p = d.permute(8, 0, 1, 2, 3, 4, 5, 6, 7);
      Tensor h = Tensor.allocate(2, 1, 1, 1, 1, 1, 1, 1, 1);
      be.copy(p, h); // size-1 dims: contiguous after all
      h.close();
    }
  }

  @Test
  void copiesAreCountedByDirection() {
    float[] v = data(12, 9);
    Transfers.Snapshot t0 = counts();
    try (Tensor d = be.upload(Tensor.wrap(v, 3, 4))) {
      Transfers.Snapshot t1 = counts().minus(t0);
      assertEquals(1, t1.toDeviceCopies());
      assertEquals(48, t1.toDeviceBytes());
      assertEquals(0, t1.toHostCopies() + t1.onDeviceCopies());
      try (Tensor e = be.upload(d)) { // device -> device: one copy, no host
        Transfers.Snapshot t2 = counts().minus(t0);
        assertEquals(1, t2.onDeviceCopies());
        assertEquals(1, t2.toDeviceCopies());
        assertEquals(0, t2.toHostCopies());
        // A strided host source still travels as one copy (gathered on the host first).
        be.copy(Tensor.wrap(v.clone(), 4, 3).permute(1, 0), e.reshape(3, 4));
        try (Tensor h = be.download(e.permute(1, 0))) { // strided device source: one copy back
          Transfers.Snapshot t3 = counts().minus(t0);
          assertEquals(2, t3.toDeviceCopies());
          assertEquals(1, t3.toHostCopies());
          assertEquals(1, t3.onDeviceCopies());
          assertArrayEquals(Tensor.wrap(v, 4, 3).toArray(), h.toArray());
        }
      }
    }
  }

  static int[] bits(float[] a) {
    int[] b = new int[a.length];
    for (int i = 0; i < a.length; i++) b[i] = Float.floatToRawIntBits(a[i]);
    return b;
  }
}
