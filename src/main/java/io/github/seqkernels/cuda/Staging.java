package io.github.seqkernels.cuda;

import io.github.seqkernels.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The tensors of one operator call as device addresses. The backend's own device tensors pass
 * through with no copy: their address and offset are used as they are, read and written through
 * their strides. A host tensor is copied as the whole span of elements it addresses, so its strides
 * (permuted layouts, broadcast zeros, gaps) hold on the device too and the kernels read it through
 * the same strides; the copies go through page-locked blocks of the backend's {@link PinnedPool},
 * so on a GPU they are asynchronous and the outputs come back after one synchronization. An output
 * with gaps is copied in first so the gaps come back unchanged.
 *
 * <p>For kernels that need contiguous operands, {@link #contiguousIn} and {@link #contiguousOut}
 * give a dense copy where the tensor is not already a dense device tensor. Closing waits for the
 * copies still using pinned blocks and returns every block to its pool.
 */
final class Staging implements AutoCloseable {
  private final CudaBackend be;
  private final KernelLauncher launcher;
  private final List<Long> blocks = new ArrayList<>();
  private final List<MemorySegment> pins = new ArrayList<>();
  private final List<Tensor> temps = new ArrayList<>();
  private final List<Runnable> enqueueBack = new ArrayList<>(), afterSync = new ArrayList<>();
  private boolean pending; // asynchronous copies enqueued since the last synchronize

  Staging(CudaBackend be) {
    this.be = be;
    this.launcher = be.launcher();
  }

  /** The device address of element 0 of {@code t}, with t's elements there. */
  long in(Tensor t) {
    return t.isHost() ? stage(t, true, false) : CudaBackend.address(t);
  }

  /** Like {@link #in}; a host tensor is copied back by {@link #finish}. */
  long out(Tensor t) {
    return t.isHost() ? stage(t, !t.isContiguous(), true) : CudaBackend.address(t);
  }

  /**
   * The device address of a contiguous row-major copy of t's elements: t itself when it is a
   * contiguous device tensor, else a block of this call.
   */
  long contiguousIn(Tensor t) {
    if (!t.isHost() && t.isContiguous()) return CudaBackend.address(t);
    Tensor tmp = temp(t.shape());
    be.copy(t, tmp);
    return CudaBackend.address(tmp);
  }

  /**
   * The device address where a kernel writes t's elements contiguously: t itself when it is a
   * contiguous device tensor, else a block of this call that {@link #finish} copies into t.
   */
  long contiguousOut(Tensor t) {
    if (!t.isHost() && t.isContiguous()) return CudaBackend.address(t);
    Tensor tmp = temp(t.shape());
    afterSync.add(() -> be.copy(tmp, t));
    return CudaBackend.address(tmp);
  }

  /** An uninitialised contiguous device buffer of this call. */
  Tensor temp(long... shape) {
    Tensor t = be.scratch(shape);
    temps.add(t);
    return t;
  }

  /** Raw bytes (a mask, lengths) on the device. */
  long bytes(MemorySegment src, long n) {
    long p = block(Math.max(1, n));
    launcher.copyToDevice(src, p, n);
    return p;
  }

  private long block(long bytes) {
    long p = be.pool().allocate(bytes);
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
    long n = empty ? 0 : hi - lo + 1, bytes = n * Float.BYTES;
    long p = block(Math.max(1, n) * Float.BYTES);
    if (bytes > 0 && (copyIn || isOutput)) {
      MemorySegment host = t.segment().asSlice(lo * Float.BYTES, bytes);
      MemorySegment pin = be.pinned().allocate(bytes);
      pins.add(pin);
      if (copyIn) {
        MemorySegment.copy(host, 0, pin, 0, bytes);
        launcher.copyToDeviceAsync(pin, p, bytes);
        pending = true;
      }
      if (isOutput) {
        enqueueBack.add(() -> launcher.copyToHostAsync(p, pin, bytes));
        afterSync.add(() -> MemorySegment.copy(pin, 0, host, 0, bytes));
      }
    }
    return p + (t.offset() - lo) * Float.BYTES;
  }

  /**
   * Waits for the call and brings the outputs back to the host, in the order they were staged; a
   * call whose outputs all live on the device only waits when pinned blocks are in flight.
   */
  void finish() {
    for (Runnable r : enqueueBack) r.run();
    if (!enqueueBack.isEmpty() || pending) {
      launcher.synchronize();
      pending = false;
    }
    enqueueBack.clear();
    for (Runnable r : afterSync) r.run();
    afterSync.clear();
  }

  @Override
  public void close() {
    // A pinned block goes back to the pool only when no copy uses it any more (an exception may
    // have skipped finish). Device blocks need no wait: the stream orders their next use.
    if (pending) {
      launcher.synchronize();
      pending = false;
    }
    for (MemorySegment s : pins) be.pinned().release(s);
    pins.clear();
    for (long p : blocks) be.pool().release(p);
    blocks.clear();
    for (Tensor t : temps) t.close();
    temps.clear();
  }
}
