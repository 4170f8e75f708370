package io.github.seqkernels.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * A caching allocator over a launcher's device memory: blocks are rounded up to a power of two (at
 * least 256 bytes, the driver's alignment) and kept on a free list per size when released, so a
 * model's steady state allocates nothing from the driver. {@link #close} returns everything.
 */
public final class DeviceMemoryPool implements AutoCloseable {
  private final KernelLauncher launcher;
  private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();
  private final Map<Long, Long> sizeOf = new HashMap<>();
  private boolean closed;

  public DeviceMemoryPool(KernelLauncher launcher) {
    this.launcher = launcher;
  }

  static long sizeClass(long bytes) {
    long c = 256;
    while (c < bytes) c <<= 1;
    return c;
  }

  /** A block of at least {@code bytes} bytes; its contents are undefined. */
  public synchronized long allocate(long bytes) {
    if (closed) throw new IllegalStateException("cuda backend: closed");
    long c = sizeClass(bytes);
    ArrayDeque<Long> q = free.get(c);
    if (q != null && !q.isEmpty()) return q.pop();
    long p = launcher.malloc(c);
    sizeOf.put(p, c);
    return p;
  }

  /**
   * Returns a block from {@link #allocate} for reuse. After {@link #close} it does nothing: the
   * block is already freed (a device tensor closed after its backend).
   */
  public synchronized void release(long pointer) {
    if (closed) return;
    Long c = sizeOf.get(pointer);
    if (c == null) throw new IllegalArgumentException("pointer: not from this pool: " + pointer);
    free.computeIfAbsent(c, k -> new ArrayDeque<>()).push(pointer);
  }

  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    for (long p : sizeOf.keySet()) launcher.free(p);
    sizeOf.clear();
    free.clear();
  }
}
