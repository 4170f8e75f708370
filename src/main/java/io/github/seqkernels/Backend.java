package io.github.seqkernels;

/**
 * A set of operators that run on one kind of device. Every backend implements the same operator
 * interfaces with the same semantics, so code written against {@code Backend} runs unchanged
 * whatever is underneath:
 *
 * <pre>{@code
 * try (Backend be = Backend.create("auto")) {
 *   be.attention().forward(q, k, v, AttentionOptions.defaults().withCausal(Causal.TOP_LEFT), out);
 * }
 * }</pre>
 *
 * <p>Operators of one backend may be called from several threads; each operator runs one call at a
 * time (a call already uses every thread of the backend). Close the backend to stop its threads.
 *
 * <p>Memory: every operator takes host tensors. A backend with device memory (cuda, {@link
 * #usesDeviceMemory()}) also takes its own device tensors, made by {@link #allocate} and {@link
 * #upload}, and reads and writes them in place, so a model whose weights and intermediates live
 * there copies only its inputs and outputs; a host tensor is copied in and out on every call. On
 * the CPU these methods give host tensors, so code written with them runs unchanged on both:
 *
 * <pre>{@code
 * try (Tensor x = be.upload(input); Tensor y = be.allocate(n, e)) {   // device memory on cuda
 *   be.layerNorm().forward(x, scale, bias, 1e-5f, y);
 *   float[] out = be.download(y).toArray();                          // (close what download gives)
 * }
 * }</pre>
 */
public interface Backend extends AutoCloseable {
  /** "cpu" or "cuda" (the emulator included). */
  String name();

  /** One line: the device, vector width or GPU, and parallelism. */
  String description();

  SoftmaxOp softmax();

  AttentionOp attention();

  /** ONNX LSTM over a sequence (blocks i, o, f, c). */
  RecurrentOp lstm();

  /** ONNX GRU over a sequence (blocks z, r, h). */
  RecurrentOp gru();

  /** ONNX RNN over a sequence. */
  RecurrentOp rnn();

  /**
   * An LSTM cell over w {@code [4·H, I]}, r {@code [4·H, H]} (blocks i, o, f, c), b {@code [8·H]}
   * or null, p {@code [3·H]} or null; options as for {@link #lstm()}, direction FORWARD.
   */
  RecurrentCell lstmCell(Tensor w, Tensor r, Tensor b, Tensor p, RecurrentOptions options);

  /** A GRU cell over w {@code [3·H, I]}, r {@code [3·H, H]} (blocks z, r, h), b {@code [6·H]}. */
  RecurrentCell gruCell(Tensor w, Tensor r, Tensor b, RecurrentOptions options);

  /** An RNN cell over w {@code [H, I]}, r {@code [H, H]}, b {@code [2·H]} or null. */
  RecurrentCell rnnCell(Tensor w, Tensor r, Tensor b, RecurrentOptions options);

  /** ONNX Gemm: {@code Y = alpha · op(A) · op(B) + beta · C}. */
  GemmOp gemm();

  /** numpy / ONNX MatMul with broadcast batch dims. */
  MatMulOp matmul();

  /** {@code nn.Linear}: x·wᵀ + b, optionally fused with an activation. */
  LinearOp linear();

  /** LayerNorm over the last axis, optionally of {@code x + residual}. */
  LayerNormOp layerNorm();

  /** Activations (GELU among them) elementwise, and the broadcasting residual add. */
  ElementwiseOp elementwise();

  /** Embedding lookup by row ids. */
  EmbeddingOp embedding();

  /** Conv1d with stride, padding, dilation and groups. */
  Conv1dOp conv1d();

  /**
   * True when the operators work in device memory of their own (cuda): tensors kept there with
   * {@link #allocate} and {@link #upload} skip the per-call copies. False for the CPU, whose memory
   * is the host's.
   */
  default boolean usesDeviceMemory() {
    return false;
  }

  /**
   * A new zero-filled contiguous tensor in this backend's memory (device memory on cuda, host
   * memory on the CPU), owned by the caller: {@link Tensor#close()} gives it back (to the backend's
   * pool).
   */
  default Tensor allocate(long... shape) {
    return Tensor.allocate(shape);
  }

  /**
   * A new contiguous tensor in this backend's memory holding a copy of {@code src} (a host tensor
   * or one of this backend's; any strides), owned by the caller.
   */
  default Tensor upload(Tensor src) {
    if (src == null) throw new IllegalArgumentException("src: must not be null");
    return copyInto(src, allocate(src.shape()));
  }

  /**
   * A new contiguous host tensor ({@link Tensor#allocate(long...)}) holding a copy of {@code src},
   * owned by the caller. Waits for the operators that write src.
   */
  default Tensor download(Tensor src) {
    if (src == null) throw new IllegalArgumentException("src: must not be null");
    return copyInto(src, Tensor.allocate(src.shape()));
  }

  /** Copies src into the new tensor t and returns it; closes t when the copy fails. */
  private Tensor copyInto(Tensor src, Tensor t) {
    try {
      copy(src, t);
    } catch (RuntimeException e) {
      t.close();
      throw e;
    }
    return t;
  }

  /**
   * Copies {@code src} into {@code dst} of the same shape, any strides; each is a host tensor or
   * one of this backend's device tensors (host to device, device to host, device to device, host to
   * host). A copy to the host waits for the operators that write src.
   */
  default void copy(Tensor src, Tensor dst) {
    Backends.copyOnHost(name(), src, dst);
  }

  @Override
  void close();

  /** {@link #create(String, int)} with one thread per available core. */
  static Backend create(String name) {
    return Backends.create(name, Runtime.getRuntime().availableProcessors());
  }

  /**
   * The backend called {@code name}: "cpu"; "cuda", device 0 of the NVIDIA driver (throws {@link
   * io.github.seqkernels.cuda.CudaLoadException} naming the reason where the driver or a module
   * cannot load); "cuda-emulator", the CUDA kernels on the host emulation (needs the library that
   * native/build-emu.sh builds, at {@code -Dseqkernels.cuda.emulator}); or "auto", which takes the
   * GPU only when the driver and every module load, else the CPU, and logs (System.Logger; INFO,
   * WARNING for a GPU that failed to load) which one it chose and why. {@code threads} is the CPU
   * parallelism.
   */
  static Backend create(String name, int threads) {
    return Backends.create(name, threads);
  }
}
