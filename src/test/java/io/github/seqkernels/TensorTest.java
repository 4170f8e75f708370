package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

class TensorTest {
  @Test
  void wrappingDoesNotCopy() {
    float[] a = new float[6];
    Tensor t = Tensor.wrap(a, 2, 3);
    a[4] = 7;
    assertEquals(7, t.get(1, 1));
    t.set(9, 0, 2);
    assertEquals(9, a[2]);

    FloatBuffer fb = ByteBuffer.allocateDirect(24).order(ByteOrder.nativeOrder()).asFloatBuffer();
    Tensor tb = Tensor.wrap(fb, 2, 3);
    fb.put(5, 3f);
    assertEquals(3f, tb.get(1, 2));

    try (Arena arena = Arena.ofShared()) {
      MemorySegment seg = arena.allocate(24);
      Tensor ts = Tensor.wrap(seg, 3, 2);
      seg.setAtIndex(ValueLayout.JAVA_FLOAT, 3, 4f);
      assertEquals(4f, ts.get(1, 1));
    }
  }

  @Test
  void foreignByteOrderIsRefused() {
    ByteOrder other =
        ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN
            ? ByteOrder.LITTLE_ENDIAN
            : ByteOrder.BIG_ENDIAN;
    FloatBuffer fb = ByteBuffer.allocateDirect(8).order(other).asFloatBuffer();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(fb, 2));
    assertEquals(
        "buffer: byte order must be the native " + ByteOrder.nativeOrder() + ", got " + other,
        e.getMessage());
  }

  @Test
  void permuteViewsBshdAsBhsd() {
    float[] a = new float[2 * 3 * 4 * 5];
    for (int i = 0; i < a.length; i++) a[i] = i;
    Tensor bshd = Tensor.wrap(a, 2, 3, 4, 5);
    Tensor bhsd = bshd.permute(0, 2, 1, 3);
    assertArrayEquals(new long[] {2, 4, 3, 5}, bhsd.shape());
    assertArrayEquals(new long[] {60, 5, 20, 1}, bhsd.strides());
    assertFalse(bhsd.isContiguous());
    assertEquals(bshd.get(1, 2, 3, 4), bhsd.get(1, 3, 2, 4));
    assertTrue(bshd.isContiguous());
  }

  @Test
  void ownedMemoryIsFreedOnClose() {
    Tensor t = Tensor.allocate(4);
    t.set(1f, 2);
    t.close();
    assertThrows(IllegalStateException.class, () -> t.get(2));
  }

  @Test
  void badShapesNameTheArgument() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(new float[5], 2, 3));
    assertEquals("data: shape [2, 3] needs 6 floats, got 5", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(2, -1));
    assertEquals("shape: sizes must be >= 0, got -1 at dim 1", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> Tensor.wrap(new float[6], 2, 3).permute(0, 0));
    assertEquals("order: must be a permutation of 0..1, got [0, 0]", e.getMessage());
  }
}
