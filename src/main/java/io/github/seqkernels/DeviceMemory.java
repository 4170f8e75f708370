package io.github.seqkernels;

/**
 * A block of a backend's device memory that holds the elements of {@link Tensor}s (made by {@link
 * Backend#allocate} and {@link Backend#upload}). The host never reads or writes it: a device
 * address dereferenced by the CPU would crash the JVM on a real GPU, so only the backend that owns
 * the block (its operators and transfers) uses {@link #address()}.
 *
 * <p>Implemented by backends; {@link #close()} hands the block back to the backend's memory pool
 * and is idempotent. Tensors that view a closed block are refused by every operator.
 */
public interface DeviceMemory extends AutoCloseable {
  /** The kind of memory, as messages name it: {@code "cuda"}. */
  String kind();

  /** The device address of byte 0; IllegalStateException once closed. */
  long address();

  /** Bytes in the block (at least what its tensors address). */
  long byteSize();

  boolean isClosed();

  @Override
  void close();
}
