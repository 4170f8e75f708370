package io.github.seqkernels.cuda;

/**
 * A column-major SGEMM library on the launcher's stream: cuBLAS through JCublas ({@link
 * CublasHandle}) on the real driver, or a host stand-in in the tests. {@link CudaGemm} maps each
 * product with {@link CublasLayout} and hands the call here; products it cannot map run on the
 * library's own {@code gemm_f32}.
 */
interface Blas extends AutoCloseable {
  /** What runs the products, for info and logs (e.g. "cuBLAS 12.6.4"). */
  String description();

  /**
   * Runs {@code call}: {@code C = alpha·op(A)·op(B) + beta·C} per batch entry, with cuBLAS's A, B
   * and C at device pointers a, b and c (see {@link CublasLayout.Call#operandA}). With beta = 0, C
   * is not read. {@code what} (the operator and shapes) goes into any error's message.
   */
  void sgemm(CublasLayout.Call call, long a, long b, long c, float alpha, float beta, String what);

  @Override
  void close();
}
