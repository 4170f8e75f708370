package io.github.seqkernels.cuda;

import java.lang.foreign.MemorySegment;

/**
 * The one interface through which the CUDA backend runs kernels, with two implementations: the real
 * driver through JCuda ({@link DriverLauncher}) and the host emulation of the same kernel sources
 * through the FFM API ({@link EmulatedLauncher}), so the whole backend is tested on machines
 * without a GPU.
 *
 * <p>Device pointers are plain {@code long}s. Launches and the asynchronous copies go to the
 * launcher's one stream in order; the synchronous copies wait for everything before them. Host
 * memory for asynchronous copies comes from {@link #mallocHost}: page-locked on a GPU, so the copy
 * engine reads and writes it while the host goes on (other host memory would make the driver stage
 * it again and return only when done). Every copy is counted in {@link #transfers()}.
 */
public interface KernelLauncher extends AutoCloseable {
  /** One line: the device (or "emulator"), driver and what loaded. */
  String description();

  /** The entry {@code name} of module {@code module} (a kernels/*.cu file's base name). */
  Kernel function(String module, String name);

  long malloc(long bytes);

  void free(long devicePointer);

  /** Copies host memory (any) to the device; returns when src may be reused. */
  void copyToDevice(MemorySegment src, long dst, long bytes);

  /** Copies device memory to host memory (any) after every launch so far; returns when done. */
  void copyToHost(long src, MemorySegment dst, long bytes);

  /**
   * Page-locked host memory of {@code bytes} bytes (aligned to 64; plain memory on the emulator),
   * for the asynchronous copies; give it back with {@link #freeHost}.
   */
  MemorySegment mallocHost(long bytes);

  void freeHost(MemorySegment host);

  /**
   * Enqueues a copy from {@code src}, memory from {@link #mallocHost}, to the device; src must not
   * change until {@link #synchronize} has returned.
   */
  void copyToDeviceAsync(MemorySegment src, long dst, long bytes);

  /**
   * Enqueues a copy from the device to {@code dst}, memory from {@link #mallocHost}, after the
   * launches before it; dst holds the data once {@link #synchronize} has returned.
   */
  void copyToHostAsync(long src, MemorySegment dst, long bytes);

  /** Enqueues a copy between two non-overlapping device ranges. */
  void copyOnDevice(long src, long dst, long bytes);

  /** The copies made so far. */
  Transfers transfers();

  /** Fills {@code bytes} bytes at {@code dst} with zeros. */
  void zero(long dst, long bytes);

  /**
   * Launches {@code k} after checking {@code args} against its parameters; {@code what} (the
   * operator and shapes) goes into any error's message.
   */
  void launch(Kernel k, int[] grid, int[] block, int sharedBytes, KernelArgs args, String what);

  /** Waits for every launch so far. */
  void synchronize();

  /** The most dynamic shared memory one block may use with this launcher. */
  int maxSharedBytes();

  @Override
  void close();
}
