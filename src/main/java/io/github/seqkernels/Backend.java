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
