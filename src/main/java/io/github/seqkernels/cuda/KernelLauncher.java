package io.github.seqkernels.cuda;

import java.lang.foreign.MemorySegment;

/**
 * The one interface through which the CUDA backend runs kernels, with two implementations: the real
 * driver through JCuda ({@link DriverLauncher}) and the host emulation of the same kernel sources
 * through the FFM API ({@link EmulatedLauncher}), so the whole backend is tested on machines
 * without a GPU.
 *
 * <p>Device pointers are plain {@code long}s. Launches go to the launcher's one stream in order;
 * copies to the host wait for them.
 */
public interface KernelLauncher extends AutoCloseable {
  /** One line: the device (or "emulator"), driver and what loaded. */
  String description();

  /** The entry {@code name} of module {@code module} (a kernels/*.cu file's base name). */
  Kernel function(String module, String name);

  long malloc(long bytes);

  void free(long devicePointer);

  void copyToDevice(MemorySegment src, long dst, long bytes);

  void copyToHost(long src, MemorySegment dst, long bytes);

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
