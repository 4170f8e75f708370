package io.github.seqkernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * A float32 tensor: a view of a {@link MemorySegment} with a shape and strides in elements.
 *
 * <p>Views never copy. {@link #wrap(float[], long...)}, {@link #wrap(FloatBuffer, long...)} and
 * {@link #wrap(MemorySegment, long...)} make a view of memory the caller owns; {@link
 * #permute(int...)} reorders dimensions by reordering strides, so a {@code [B, S, H, D]} buffer is
 * passed to attention as {@code t.permute(0, 2, 1, 3)}, a {@code [B, H, S, D]} view, without a
 * copy.
 *
 * <p>Ownership is explicit: only a tensor made by {@link #allocate(long...)} owns its memory, and
 * {@link #close()} frees it (views of it must not be used afterwards). {@link #allocate(Arena,
 * long...)} ties the memory to the caller's arena instead, and {@code close()} then does nothing.
 * Operators run on several threads, so memory from a confined arena is refused by them.
 *
 * <p>Device residency: a tensor made by {@link Backend#allocate} or {@link Backend#upload} on a
 * backend with device memory (cuda) lives in that memory ({@link #isHost()} false, {@link
 * #device()} the block), so a model's layers pass it from operator to operator without a round trip
 * through the host. Shapes, strides and views ({@link #permute}, {@link #reshape}, {@link
 * #asStrided}) work on it as on a host tensor and stay on the device; the accessors that read or
 * write elements on the host ({@link #segment()}, {@link #get}, {@link #set}, {@link #toArray()},
 * {@link #copyFrom}) throw IllegalStateException naming the rule instead (a device address read by
 * the CPU would crash the JVM on a GPU). {@link Backend#download} brings one back.
 */
public final class Tensor implements AutoCloseable {
  static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

  // Exactly one of segment (host) and device is set; the host accessors test device, a final
  // field, so the host path costs one predictable branch.
  private final MemorySegment segment;
  private final DeviceMemory device;
  private final long offset;
  private final long[] shape;
  private final long[] strides;
  private final Arena owned;
  private final boolean ownsDevice;

  private Tensor(MemorySegment segment, long offset, long[] shape, long[] strides, Arena owned) {
    this.segment = segment;
    this.device = null;
    this.offset = offset;
    this.shape = shape;
    this.strides = strides;
    this.owned = owned;
    this.ownsDevice = false;
  }

  private Tensor(DeviceMemory device, long offset, long[] shape, long[] strides, boolean owns) {
    this.segment = null;
    this.device = device;
    this.offset = offset;
    this.shape = shape;
    this.strides = strides;
    this.owned = null;
    this.ownsDevice = owns;
  }

  /** A view with this tensor's memory (host or device) and another geometry; owns nothing. */
  private Tensor withGeometry(long offset, long[] shape, long[] strides) {
    return device == null
        ? new Tensor(segment, offset, shape, strides, null)
        : new Tensor(device, offset, shape, strides, false);
  }

  /**
   * A contiguous tensor over a backend's device memory that owns it: {@link #close()} closes {@code
   * memory}. For backends ({@link Backend#allocate}); the memory must hold the elements.
   */
  public static Tensor onDevice(DeviceMemory memory, long... shape) {
    if (memory == null) throw new IllegalArgumentException("memory: must not be null");
    long[] s = checkShape("shape", shape);
    requireSize("memory", memory.byteSize() / Float.BYTES, s);
    return new Tensor(memory, 0, s, contiguousStrides(s), true);
  }

  /** A new zero-filled contiguous tensor that owns its memory until {@link #close()}. */
  public static Tensor allocate(long... shape) {
    Arena arena = Arena.ofShared();
    try {
      return allocated(arena, shape, arena);
    } catch (RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  /** A new zero-filled contiguous tensor in {@code arena}, which owns it. */
  public static Tensor allocate(Arena arena, long... shape) {
    return allocated(arena, shape, null);
  }

  private static Tensor allocated(Arena arena, long[] shape, Arena owned) {
    long[] s = checkShape("shape", shape);
    long n = numel(s);
    MemorySegment seg = arena.allocate(Math.max(1, n) * Float.BYTES, 64);
    return new Tensor(seg, 0, s, contiguousStrides(s), owned);
  }

  /** A contiguous view of {@code data}; no copy. */
  public static Tensor wrap(float[] data, long... shape) {
    long[] s = checkShape("shape", shape);
    requireSize("data", data.length, s);
    return new Tensor(MemorySegment.ofArray(data), 0, s, contiguousStrides(s), null);
  }

  /**
   * A contiguous view of the buffer's remaining floats; no copy. A buffer that views bytes must be
   * in native byte order.
   */
  public static Tensor wrap(FloatBuffer buffer, long... shape) {
    if (buffer.order() != ByteOrder.nativeOrder()) {
      throw new IllegalArgumentException(
          "buffer: byte order must be the native "
              + ByteOrder.nativeOrder()
              + ", got "
              + buffer.order());
    }
    long[] s = checkShape("shape", shape);
    requireSize("buffer", buffer.remaining(), s);
    return new Tensor(MemorySegment.ofBuffer(buffer), 0, s, contiguousStrides(s), null);
  }

  /** A contiguous view of native-order floats in {@code segment}; no copy. */
  public static Tensor wrap(MemorySegment segment, long... shape) {
    long[] s = checkShape("shape", shape);
    requireSize("segment", segment.byteSize() / Float.BYTES, s);
    return new Tensor(segment, 0, s, contiguousStrides(s), null);
  }

  /**
   * A view of {@code segment} with explicit strides (in elements) and element offset. Every element
   * it addresses must lie inside the segment; strides may be 0 (broadcast).
   */
  public static Tensor view(MemorySegment segment, long offset, long[] shape, long[] strides) {
    long[] s = checkShape("shape", shape);
    if (strides.length != s.length) {
      throw new IllegalArgumentException(
          "strides: rank must equal shape rank " + s.length + ", got " + strides.length);
    }
    checkBounds(segment.byteSize() / Float.BYTES, "segment", offset, s, strides);
    return new Tensor(segment, offset, s, strides.clone(), null);
  }

  /**
   * A view of the memory this tensor views (host or device) with explicit shape, strides (in
   * elements, 0 to broadcast, negative to walk backwards) and element offset from the start of that
   * memory, as {@link #offset()} counts it; PyTorch's {@code as_strided}. Every element it
   * addresses must lie inside the memory. The view owns nothing and stays where this tensor is.
   */
  public Tensor asStrided(long[] shape, long[] strides, long offset) {
    long[] s = checkShape("shape", shape);
    if (strides.length != s.length) {
      throw new IllegalArgumentException(
          "strides: rank must equal shape rank " + s.length + ", got " + strides.length);
    }
    long capacity =
        device == null ? segment.byteSize() / Float.BYTES : device.byteSize() / Float.BYTES;
    checkBounds(capacity, device == null ? "segment" : "device block", offset, s, strides);
    return withGeometry(offset, s, strides.clone());
  }

  private static void checkBounds(
      long capacity, String what, long offset, long[] s, long[] strides) {
    long lo = offset, hi = offset;
    for (int d = 0; d < s.length; d++) {
      if (s[d] == 0) {
        lo = hi = offset;
        break;
      }
      long span = strides[d] * (s[d] - 1);
      if (span < 0) lo += span;
      else hi += span;
    }
    if (numel(s) > 0 && (lo < 0 || hi >= capacity)) {
      throw new IllegalArgumentException(
          "strides: view addresses elements "
              + lo
              + ".."
              + hi
              + " outside the "
              + what
              + "'s "
              + capacity
              + " floats");
    }
  }

  /** A view with dimensions reordered: result dim i is this tensor's dim {@code order[i]}. */
  public Tensor permute(int... order) {
    if (order.length != shape.length) {
      throw new IllegalArgumentException(
          "order: must list all " + shape.length + " dims, got " + Arrays.toString(order));
    }
    long[] ns = new long[order.length], nt = new long[order.length];
    boolean[] seen = new boolean[order.length];
    for (int i = 0; i < order.length; i++) {
      int d = order[i];
      if (d < 0 || d >= shape.length || seen[d]) {
        throw new IllegalArgumentException(
            "order: must be a permutation of 0.."
                + (shape.length - 1)
                + ", got "
                + Arrays.toString(order));
      }
      seen[d] = true;
      ns[i] = shape[d];
      nt[i] = strides[d];
    }
    return withGeometry(offset, ns, nt);
  }

  /** A contiguous view of the same elements with another shape; this tensor must be contiguous. */
  public Tensor reshape(long... newShape) {
    if (!isContiguous()) {
      throw new IllegalArgumentException(
          "reshape: needs a contiguous tensor, strides are " + Arrays.toString(strides));
    }
    long[] s = checkShape("shape", newShape);
    if (numel(s) != numel()) {
      throw new IllegalArgumentException(
          "shape: " + Arrays.toString(s) + " has " + numel(s) + " elements, tensor has " + numel());
    }
    return withGeometry(offset, s, contiguousStrides(s));
  }

  public int rank() {
    return shape.length;
  }

  public long size(int dim) {
    return shape[dim];
  }

  public long stride(int dim) {
    return strides[dim];
  }

  public long[] shape() {
    return shape.clone();
  }

  public long[] strides() {
    return strides.clone();
  }

  /** Element offset of index 0 in {@link #segment()}. */
  public long offset() {
    return offset;
  }

  /** The host memory; IllegalStateException for a device tensor (see {@link #isHost()}). */
  public MemorySegment segment() {
    if (device != null) throw hostOnly();
    return segment;
  }

  /** True when the elements are in host memory; false for a backend's device memory. */
  public boolean isHost() {
    return device == null;
  }

  /** The device memory that holds the elements, or null for a host tensor. */
  public DeviceMemory device() {
    return device;
  }

  /** True when both tensors view the same host segment or the same device block. */
  public boolean sameMemory(Tensor other) {
    return device == null
        ? other.device == null && segment.equals(other.segment)
        : device == other.device;
  }

  private IllegalStateException hostOnly() {
    String k = device.kind();
    return new IllegalStateException(
        "tensor is in "
            + k
            + " device memory: copy it to the host with Backend.download, or pass it to the "
            + k
            + " backend's operators");
  }

  public long numel() {
    return numel(shape);
  }

  /** True when the elements are laid out row-major with no gaps. */
  public boolean isContiguous() {
    return Arrays.equals(strides, contiguousStrides(shape)) || numel() <= 1;
  }

  public float get(long... index) {
    if (device != null) throw hostOnly();
    return segment.getAtIndex(F32, elementIndex(index));
  }

  public void set(float value, long... index) {
    if (device != null) throw hostOnly();
    segment.setAtIndex(F32, elementIndex(index), value);
  }

  /** Element at a flat row-major logical index, whatever the strides. */
  public float getFlat(long flat) {
    if (device != null) throw hostOnly();
    return segment.getAtIndex(F32, flatToElement(flat));
  }

  public void setFlat(long flat, float value) {
    if (device != null) throw hostOnly();
    segment.setAtIndex(F32, flatToElement(flat), value);
  }

  /** A new array holding the elements in row-major logical order. */
  public float[] toArray() {
    if (device != null) throw hostOnly();
    long n = numel();
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("toArray: " + n + " elements do not fit a Java array");
    }
    float[] out = new float[(int) n];
    if (isContiguous()) {
      MemorySegment.copy(segment, F32, offset * Float.BYTES, out, 0, (int) n);
    } else {
      for (int i = 0; i < n; i++) out[i] = getFlat(i);
    }
    return out;
  }

  /** Copies {@code data} (row-major logical order) into this tensor. */
  public void copyFrom(float[] data) {
    if (device != null) throw hostOnly();
    requireSize("data", data.length, shape);
    for (int i = 0; i < data.length; i++) setFlat(i, data[i]);
  }

  /** True when {@code thread} may read and write this tensor's memory (never for device memory). */
  public boolean isAccessibleBy(Thread thread) {
    return device == null && segment.isAccessibleBy(thread);
  }

  /** Frees memory this tensor owns (host arena, or device memory back to its backend's pool). */
  @Override
  public void close() {
    if (owned != null) owned.close();
    else if (ownsDevice) device.close();
  }

  @Override
  public String toString() {
    return "Tensor"
        + Arrays.toString(shape)
        + " strides "
        + Arrays.toString(strides)
        + (device == null ? "" : " on " + device.kind());
  }

  private long elementIndex(long[] index) {
    if (index.length != shape.length) {
      throw new IllegalArgumentException(
          "index: rank must be " + shape.length + ", got " + index.length);
    }
    long e = offset;
    for (int d = 0; d < index.length; d++) {
      if (index[d] < 0 || index[d] >= shape[d]) {
        throw new IndexOutOfBoundsException(
            "index: dim " + d + " must be in [0, " + shape[d] + "), got " + index[d]);
      }
      e += index[d] * strides[d];
    }
    return e;
  }

  private long flatToElement(long flat) {
    long e = offset;
    for (int d = shape.length - 1; d >= 0; d--) {
      long i = flat % shape[d];
      flat /= shape[d];
      e += i * strides[d];
    }
    return e;
  }

  /**
   * The element count of a tensor of this shape, with {@link #allocate(long...)}'s checks (sizes >=
   * 0, a count that fits a long): for backends sizing device memory before {@link #onDevice}.
   */
  public static long elements(long... shape) {
    if (shape == null) throw new IllegalArgumentException("shape: must not be null");
    return numel(checkShape("shape", shape));
  }

  static long numel(long[] shape) {
    long n = 1;
    for (long s : shape) n = Math.multiplyExact(n, s);
    return n;
  }

  static long[] contiguousStrides(long[] shape) {
    long[] st = new long[shape.length];
    long s = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      st[d] = s;
      s *= Math.max(1, shape[d]);
    }
    return st;
  }

  private static long[] checkShape(String name, long[] shape) {
    for (int d = 0; d < shape.length; d++) {
      if (shape[d] < 0) {
        throw new IllegalArgumentException(
            name + ": sizes must be >= 0, got " + shape[d] + " at dim " + d);
      }
    }
    return shape.clone();
  }

  private static void requireSize(String name, long have, long[] shape) {
    long n = numel(shape);
    if (have < n) {
      throw new IllegalArgumentException(
          name + ": shape " + Arrays.toString(shape) + " needs " + n + " floats, got " + have);
    }
  }
}
