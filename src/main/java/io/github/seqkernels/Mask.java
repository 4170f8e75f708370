package io.github.seqkernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A boolean attention mask whose polarity is part of its type, so the two conventions in use cannot
 * be mixed up silently: {@link #keep} (true = the query may attend to the key, PyTorch {@code
 * scaled_dot_product_attention}'s boolean {@code attn_mask}) and {@link #block} (true = the key is
 * hidden, PyTorch {@code key_padding_mask} and {@code nn.MultiheadAttention}).
 *
 * <p>The mask broadcasts by numpy rules to {@code [B, Hq, Sq, Sk]}: its shape, aligned on the
 * right, has each dimension 1 or equal to the target's. Data is one byte per element, nonzero =
 * true, row-major; the mask views its data without copying.
 */
public final class Mask {
  private final MemorySegment bytes;
  private final long[] shape;
  private final boolean blockPolarity;

  private Mask(MemorySegment bytes, long[] shape, boolean blockPolarity) {
    for (int d = 0; d < shape.length; d++) {
      if (shape[d] < 0) {
        throw new IllegalArgumentException(
            "mask: sizes must be >= 0, got " + shape[d] + " at dim " + d);
      }
    }
    long n = Tensor.numel(shape);
    if (bytes.byteSize() < n) {
      throw new IllegalArgumentException(
          "mask: shape "
              + Arrays.toString(shape)
              + " needs "
              + n
              + " bytes, got "
              + bytes.byteSize());
    }
    this.bytes = bytes;
    this.shape = shape.clone();
    this.blockPolarity = blockPolarity;
  }

  /** True = may attend. */
  public static Mask keep(boolean[] data, long... shape) {
    return new Mask(MemorySegment.ofArray(toBytes(data)), shape, false);
  }

  /** True = may attend; one byte per element, nonzero = true. */
  public static Mask keep(MemorySegment bytes, long... shape) {
    return new Mask(bytes, shape, false);
  }

  /** True = blocked (hidden from the query). */
  public static Mask block(boolean[] data, long... shape) {
    return new Mask(MemorySegment.ofArray(toBytes(data)), shape, true);
  }

  /** True = blocked; one byte per element, nonzero = true. */
  public static Mask block(MemorySegment bytes, long... shape) {
    return new Mask(bytes, shape, true);
  }

  public boolean isBlockMask() {
    return blockPolarity;
  }

  public long[] shape() {
    return shape.clone();
  }

  public MemorySegment bytes() {
    return bytes;
  }

  /** Whether the element at row-major index {@code e} blocks its key, whatever the polarity. */
  public boolean blocks(long e) {
    boolean v = bytes.get(ValueLayout.JAVA_BYTE, e) != 0;
    return v == blockPolarity;
  }

  private static byte[] toBytes(boolean[] data) {
    byte[] b = new byte[data.length];
    for (int i = 0; i < data.length; i++) b[i] = (byte) (data[i] ? 1 : 0);
    return b;
  }
}
