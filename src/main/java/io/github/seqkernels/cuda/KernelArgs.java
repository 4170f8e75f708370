package io.github.seqkernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The arguments of one launch, each held as the bytes the kernel parameter receives: a device
 * pointer or long is 8 bytes, an int or float 4, a struct its size. {@link Kernel#check} compares
 * them with the entry's parameters before anything is launched (case L3).
 */
public final class KernelArgs {
  private final List<MemorySegment> values = new ArrayList<>();
  private final Arena arena = Arena.ofAuto();

  public KernelArgs ptr(long devicePointer) {
    return add(ValueLayout.JAVA_LONG, devicePointer);
  }

  public KernelArgs i64(long v) {
    return add(ValueLayout.JAVA_LONG, v);
  }

  public KernelArgs i32(int v) {
    MemorySegment s = arena.allocate(4, 8);
    s.set(ValueLayout.JAVA_INT, 0, v);
    values.add(s);
    return this;
  }

  public KernelArgs f32(float v) {
    MemorySegment s = arena.allocate(4, 8);
    s.set(ValueLayout.JAVA_FLOAT, 0, v);
    values.add(s);
    return this;
  }

  /** A struct passed by value: its bytes as the kernel's C layout has them. */
  public KernelArgs struct(MemorySegment bytes) {
    MemorySegment s = arena.allocate(bytes.byteSize(), 8);
    s.copyFrom(bytes);
    values.add(s);
    return this;
  }

  private KernelArgs add(ValueLayout.OfLong layout, long v) {
    MemorySegment s = arena.allocate(8, 8);
    s.set(layout, 0, v);
    values.add(s);
    return this;
  }

  public int count() {
    return values.size();
  }

  public MemorySegment value(int i) {
    return values.get(i);
  }

  /** Sizes in bytes, in order. */
  public long[] sizes() {
    long[] s = new long[values.size()];
    for (int i = 0; i < s.length; i++) s[i] = values.get(i).byteSize();
    return s;
  }
}
