package io.github.seqkernels.cuda;

import io.github.seqkernels.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Host tensors of one operator call on the device: each is copied as the whole span of elements it
 * addresses, so its strides (permuted layouts, broadcast zeros, gaps) hold on the device too and
 * the kernels read it through the same strides. Outputs are copied back by span; an output with
 * gaps is copied in first so the gaps come back unchanged. Closing returns the pool blocks.
 */
final class Staging implements AutoCloseable {
  private final KernelLauncher launcher;
  private final DeviceMemoryPool pool;
  private final List<Long> blocks = new ArrayList<>();
  private final List<Runnable> copyBack = new ArrayList<>();

  Staging(KernelLauncher launcher, DeviceMemoryPool pool) {
    this.launcher = launcher;
    this.pool = pool;
  }

  /** The device address of element 0 of {@code t}, with t's elements copied there. */
  long in(Tensor t) {
    return stage(t, true, false);
  }

  /** Like {@link #in}, and copied back to {@code t} by {@link #finish}. */
  long out(Tensor t) {
    return stage(t, !t.isContiguous(), true);
  }

  /** Raw bytes (a mask, lengths) on the device. */
  long bytes(MemorySegment src, long n) {
    long p = block(Math.max(1, n));
    launcher.copyToDevice(src, p, n);
    return p;
  }

  private long block(long bytes) {
    long p = pool.allocate(bytes);
    blocks.add(p);
    return p;
  }

  private long stage(Tensor t, boolean copyIn, boolean isOutput) {
    long lo = t.offset(), hi = t.offset();
    boolean empty = t.numel() == 0;
    for (int d = 0; d < t.rank() && !empty; d++) {
      long span = t.stride(d) * (t.size(d) - 1);
      if (span < 0) lo += span;
      else hi += span;
    }
    long n = empty ? 0 : hi - lo + 1;
    long p = block(Math.max(1, n) * Float.BYTES);
    MemorySegment host = t.segment().asSlice(lo * Float.BYTES, n * Float.BYTES);
    if (copyIn) launcher.copyToDevice(host, p, n * Float.BYTES);
    if (isOutput) copyBack.add(() -> launcher.copyToHost(p, host, n * Float.BYTES));
    return p + (t.offset() - lo) * Float.BYTES;
  }

  /** Copies the outputs back to the host, in the order they were staged. */
  void finish() {
    launcher.synchronize();
    for (Runnable r : copyBack) r.run();
  }

  @Override
  public void close() {
    for (long p : blocks) pool.release(p);
    blocks.clear();
  }
}
