package io.github.seqkernels.cuda;

import io.github.seqkernels.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A contiguous float32 tensor in device memory, from a {@link CudaBackend}'s pool. It stays on the
 * device between operator calls until {@link #close()} gives its memory back to the pool; {@link
 * #upload} and {@link #download} move data to and from host tensors.
 */
public final class DeviceTensor implements AutoCloseable {
  private final DeviceMemoryPool pool;
  private final KernelLauncher launcher;
  private final long pointer;
  private final long[] shape;
  private boolean closed;

  DeviceTensor(DeviceMemoryPool pool, KernelLauncher launcher, long[] shape) {
    this.pool = pool;
    this.launcher = launcher;
    this.shape = shape.clone();
    this.pointer = pool.allocate(Math.max(1, numel()) * Float.BYTES);
  }

  public long[] shape() {
    return shape.clone();
  }

  public long numel() {
    long n = 1;
    for (long s : shape) n = Math.multiplyExact(n, s);
    return n;
  }

  /** The device address of element 0. */
  public long pointer() {
    if (closed) throw new IllegalStateException("device tensor: already closed");
    return pointer;
  }

  /** Copies a host tensor of the same shape (any strides) to the device. */
  public DeviceTensor upload(Tensor host) {
    if (!Arrays.equals(host.shape(), shape)) {
      throw new IllegalArgumentException(
          "host: shape must be "
              + Arrays.toString(shape)
              + ", got "
              + Arrays.toString(host.shape()));
    }
    MemorySegment src =
        host.isContiguous()
            ? host.segment().asSlice(host.offset() * Float.BYTES, numel() * Float.BYTES)
            : MemorySegment.ofArray(host.toArray());
    launcher.copyToDevice(src, pointer(), numel() * Float.BYTES);
    return this;
  }

  /** Copies this tensor into a host tensor of the same shape (any strides). */
  public void download(Tensor host) {
    if (!Arrays.equals(host.shape(), shape)) {
      throw new IllegalArgumentException(
          "host: shape must be "
              + Arrays.toString(shape)
              + ", got "
              + Arrays.toString(host.shape()));
    }
    if (host.isContiguous()) {
      launcher.copyToHost(
          pointer(),
          host.segment().asSlice(host.offset() * Float.BYTES, numel() * Float.BYTES),
          numel() * Float.BYTES);
    } else {
      float[] a = new float[(int) numel()];
      launcher.copyToHost(pointer(), MemorySegment.ofArray(a), numel() * Float.BYTES);
      host.copyFrom(a);
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      pool.release(pointer);
    }
  }

  @Override
  public String toString() {
    return "DeviceTensor" + Arrays.toString(shape);
  }
}
