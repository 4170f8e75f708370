package io.github.seqkernels.cuda;

import io.github.seqkernels.DeviceMemory;

/**
 * One block of a {@link CudaBackend}'s {@link DeviceMemoryPool}, as the {@link DeviceMemory} of
 * device tensors: {@link #close()} gives the block back to the pool, once. The backend's placement
 * rule refuses a closed block and a block of another backend's pool before any kernel sees it.
 */
final class CudaMemory implements DeviceMemory {
  private final DeviceMemoryPool pool;
  private final long address, bytes;
  private volatile boolean closed;

  CudaMemory(DeviceMemoryPool pool, long bytes) {
    this.pool = pool;
    this.bytes = bytes;
    this.address = pool.allocate(Math.max(1, bytes));
  }

  @Override
  public String kind() {
    return "cuda";
  }

  @Override
  public long address() {
    if (closed) throw new IllegalStateException("cuda device memory: closed, back in the pool");
    return address;
  }

  @Override
  public long byteSize() {
    return bytes;
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  /** True when the block comes from {@code p} (so from the backend that owns p). */
  boolean from(DeviceMemoryPool p) {
    return pool == p;
  }

  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    pool.release(address);
  }

  @Override
  public String toString() {
    return "cuda block of " + bytes + " B" + (closed ? " (closed)" : "");
  }
}
