package io.github.seqkernels.cuda;

/** The Java side's idea of sizeof(AttnArgs), for the test that compares it with the kernel's. */
final class CudaAttentionSize {
  static final int BYTES = CudaAttention.ARGS_BYTES;

  private CudaAttentionSize() {}
}
