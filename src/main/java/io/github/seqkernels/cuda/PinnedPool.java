package io.github.seqkernels.cuda;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A caching allocator of the launcher's page-locked host memory ({@link KernelLauncher#mallocHost})
 * for {@link Staging}: host tensors go through these blocks so that their copies are asynchronous
 * on a GPU (the driver would otherwise stage pageable memory itself and return only when done).
 * Sizes are rounded up to a power of two as in {@link DeviceMemoryPool}; pinning is slow, so a
 * model's steady state pins nothing new. {@link #close} frees everything.
 */
final class PinnedPool implements AutoCloseable {
  private final KernelLauncher launcher;
  private final Map<Long, ArrayDeque<MemorySegment>> free = new HashMap<>();
  private final List<MemorySegment> all = new ArrayList<>();
  private boolean closed;

  PinnedPool(KernelLauncher launcher) {
    this.launcher = launcher;
  }

  /** A block of at least {@code bytes} bytes, exactly {@code bytes} long; contents undefined. */
  synchronized MemorySegment allocate(long bytes) {
    if (closed) throw new IllegalStateException("cuda backend: closed");
    long c = DeviceMemoryPool.sizeClass(bytes);
    ArrayDeque<MemorySegment> q = free.get(c);
    MemorySegment s = q != null && !q.isEmpty() ? q.pop() : null;
    if (s == null) {
      s = launcher.mallocHost(c);
      all.add(s);
    }
    return s.asSlice(0, Math.max(1, bytes));
  }

  /**
   * Returns a block from {@link #allocate}; the caller has waited for the copies that use it. After
   * {@link #close} it does nothing (the memory is already freed).
   */
  synchronized void release(MemorySegment block) {
    if (closed) return;
    for (MemorySegment s : all) {
      if (s.address() == block.address()) {
        free.computeIfAbsent(s.byteSize(), k -> new ArrayDeque<>()).push(s);
        return;
      }
    }
    throw new IllegalArgumentException("block: not from this pool: " + block);
  }

  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    for (MemorySegment s : all) launcher.freeHost(s);
    all.clear();
    free.clear();
  }
}
