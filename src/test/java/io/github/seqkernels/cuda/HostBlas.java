package io.github.seqkernels.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A stand-in for cuBLAS in the tests: the column-major calls the CUDA operators make, run in plain
 * loops on the emulator's memory (its device pointers are host addresses). With it the cuBLAS path
 * of every operator (C copied into Y, the activation launch, swapped operands, strided batches, the
 * fallback to gemm_f32 for layouts cuBLAS cannot take) runs on machines without a GPU; only the
 * JCublas binding itself is left to a GPU. Its sums are plain float adds in k order, not gemm_f32's
 * fused multiply-adds, so it differs from the own kernel in the last bits as cuBLAS does.
 */
public final class HostBlas implements Blas {
  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

  /** Every address: the emulator's device pointers index it directly. */
  private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

  /** Calls so far: single products, and strided batches. */
  public int sgemmCalls, batchedCalls;

  /** The CUDA backend on the emulator with this stand-in as its GEMM engine. */
  public static CudaBackend backend() {
    return backend(new HostBlas());
  }

  /** The same with {@code blas}, whose call counts a test reads. */
  public static CudaBackend backend(HostBlas blas) {
    return new CudaBackend(
        EmulatedLauncher.fromProperty(), new Cublas.Engine(blas, blas.description()));
  }

  @Override
  public String description() {
    return "host stand-in for cuBLAS (tests)";
  }

  @Override
  public synchronized void sgemm(
      CublasLayout.Call call, long a, long b, long c, float alpha, float beta, String what) {
    if (call.batch() == 1) sgemmCalls++;
    else batchedCalls++;
    sgemm(call, alpha, ALL, a, ALL, b, beta, ALL, c, what);
  }

  /**
   * cublasSgemmStridedBatched in loops, column-major, on segments at byte offsets: C = alpha·op(A)
   * ·op(B) + beta·C per batch entry (C not read when beta is 0, as in BLAS), after the argument
   * checks cuBLAS makes (CUBLAS_STATUS_INVALID_VALUE otherwise: an AssertionError here).
   */
  static void sgemm(
      CublasLayout.Call c,
      float alpha,
      MemorySegment a,
      long aAt,
      MemorySegment b,
      long bAt,
      float beta,
      MemorySegment y,
      long yAt,
      String what) {
    int m = c.m(), n = c.n(), k = c.k();
    boolean valid =
        m >= 0
            && n >= 0
            && k >= 0
            && c.batch() >= 1
            && c.lda() >= Math.max(1, c.transA() ? k : m)
            && c.ldb() >= Math.max(1, c.transB() ? n : k)
            && c.ldc() >= Math.max(1, m);
    if (!valid) throw new AssertionError(what + ": cuBLAS would refuse " + c);
    for (int e = 0; e < c.batch(); e++) {
      long ae = aAt + 4 * e * c.strideA(), be = bAt + 4 * e * c.strideB();
      long ye = yAt + 4 * e * c.strideC();
      for (int col = 0; col < n; col++) {
        for (int row = 0; row < m; row++) {
          float acc = 0;
          for (int p = 0; p < k; p++) {
            long ai = c.transA() ? p + (long) row * c.lda() : row + (long) p * c.lda();
            long bi = c.transB() ? col + (long) p * c.ldb() : p + (long) col * c.ldb();
            acc += a.get(F32, ae + 4 * ai) * b.get(F32, be + 4 * bi);
          }
          long yi = ye + 4 * (row + (long) col * c.ldc());
          y.set(F32, yi, beta == 0f ? alpha * acc : alpha * acc + beta * y.get(F32, yi));
        }
      }
    }
  }

  @Override
  public void close() {}
}
