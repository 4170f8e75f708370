package io.github.seqkernels.cuda;

import static jcuda.jcublas.JCublas2.cublasCreate;
import static jcuda.jcublas.JCublas2.cublasDestroy;
import static jcuda.jcublas.JCublas2.cublasGetVersion;
import static jcuda.jcublas.JCublas2.cublasSetMathMode;
import static jcuda.jcublas.JCublas2.cublasSetPointerMode;
import static jcuda.jcublas.JCublas2.cublasSetStream;
import static jcuda.jcublas.JCublas2.cublasSgemm;
import static jcuda.jcublas.JCublas2.cublasSgemmStridedBatched;

import jcuda.Pointer;
import jcuda.driver.CUstream;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.jcublas.cublasPointerMode;
import jcuda.jcublas.cublasStatus;
import jcuda.runtime.cudaStream_t;

/**
 * cuBLAS through JCublas: one handle bound to the launcher's stream, so its products queue behind
 * and before our kernels in order. The only class that touches JCublas; {@link Cublas} loads it
 * only after the library probe found {@code libcublas.so.12}.
 *
 * <p>Host pointer mode (alpha and beta from Java), and the default math mode set explicitly:
 * float32 products stay float32, never TF32 tensor cores, whose 10-bit mantissa would be far
 * outside the suites' tolerances.
 */
final class CublasHandle implements Blas {
  private final cublasHandle handle;
  private final String description;
  private final float[] alpha = new float[1], beta = new float[1];

  private CublasHandle(cublasHandle handle, String description) {
    this.handle = handle;
    this.description = description;
  }

  /** Loads JCublas2's native library (its static initialiser does); throws a LinkageError. */
  static void loadNatives() {
    JCublas2.setExceptionsEnabled(false);
  }

  /** A handle on {@code stream}, or gemm_f32 with the failing call's status as the reason. */
  static Cublas.Engine create(CUstream stream) {
    cublasHandle h = new cublasHandle();
    int rc = cublasCreate(h);
    if (rc != cublasStatus.CUBLAS_STATUS_SUCCESS) {
      return Cublas.Engine.own("cublasCreate: " + cublasStatus.stringFor(rc));
    }
    String failed = null;
    if ((rc = cublasSetStream(h, new cudaStream_t(stream))) != 0) failed = "cublasSetStream";
    else if ((rc = cublasSetPointerMode(h, cublasPointerMode.CUBLAS_POINTER_MODE_HOST)) != 0) {
      failed = "cublasSetPointerMode";
    } else if ((rc = cublasSetMathMode(h, cublasMath.CUBLAS_DEFAULT_MATH)) != 0) {
      failed = "cublasSetMathMode";
    }
    int[] v = new int[1];
    if (failed == null && (rc = cublasGetVersion(h, v)) != 0) failed = "cublasGetVersion";
    if (failed != null) {
      cublasDestroy(h);
      return Cublas.Engine.own(failed + ": " + cublasStatus.stringFor(rc));
    }
    // CUBLAS_VERSION: major·10000 + minor·100 + patch.
    String version = v[0] / 10000 + "." + v[0] / 100 % 100 + "." + v[0] % 100;
    CublasHandle blas = new CublasHandle(h, "cuBLAS " + version + " (JCublas 12.6.0)");
    return new Cublas.Engine(blas, blas.description);
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public synchronized void sgemm(
      CublasLayout.Call c, long a, long b, long y, float alpha, float beta, String what) {
    this.alpha[0] = alpha;
    this.beta[0] = beta;
    int ta = c.transA() ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    int tb = c.transB() ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    Pointer pa = device(a), pb = device(b), py = device(y);
    Pointer pAlpha = Pointer.to(this.alpha), pBeta = Pointer.to(this.beta);
    int rc =
        c.batch() == 1
            ? cublasSgemm(
                handle, ta, tb, c.m(), c.n(), c.k(), pAlpha, pa, c.lda(), pb, c.ldb(), pBeta, py,
                c.ldc())
            : cublasSgemmStridedBatched(
                handle,
                ta,
                tb,
                c.m(),
                c.n(),
                c.k(),
                pAlpha,
                pa,
                c.lda(),
                c.strideA(),
                pb,
                c.ldb(),
                c.strideB(),
                pBeta,
                py,
                c.ldc(),
                c.strideC(),
                c.batch());
    if (rc != cublasStatus.CUBLAS_STATUS_SUCCESS) {
      String call = c.batch() == 1 ? "cublasSgemm" : "cublasSgemmStridedBatched";
      throw new CudaException(0, what + ": " + call + " " + c + ": " + cublasStatus.stringFor(rc));
    }
  }

  /** A JCuda pointer holding a raw device address. */
  private static Pointer device(long address) {
    return new Pointer().withByteOffset(address);
  }

  @Override
  public synchronized void close() {
    cublasDestroy(handle);
  }
}
