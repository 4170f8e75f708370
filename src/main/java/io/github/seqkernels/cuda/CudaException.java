package io.github.seqkernels.cuda;

/**
 * A CUDA error: the driver's error code (0 when the error is ours, found before calling the driver)
 * and a message that names the operator, the kernel and the shapes of the call.
 */
public class CudaException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int code;

  public CudaException(int code, String message) {
    super(message);
    this.code = code;
  }

  public CudaException(int code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  /**
   * The CUresult, or 0 for a check made before the driver was called and for a cuBLAS call that
   * failed (its status is named in the message).
   */
  public int code() {
    return code;
  }

  /** The driver's name for a CUresult this library handles by name. */
  public static String name(int code) {
    return switch (code) {
      case 1 -> "CUDA_ERROR_INVALID_VALUE";
      case 2 -> "CUDA_ERROR_OUT_OF_MEMORY";
      case 3 -> "CUDA_ERROR_NOT_INITIALIZED";
      case 35 -> "CUDA_ERROR_INSUFFICIENT_DRIVER";
      case 100 -> "CUDA_ERROR_NO_DEVICE";
      case 200 -> "CUDA_ERROR_INVALID_IMAGE";
      case 209 -> "CUDA_ERROR_NO_BINARY_FOR_GPU";
      case 218 -> "CUDA_ERROR_INVALID_PTX";
      case 222 -> "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
      case 700 -> "CUDA_ERROR_ILLEGAL_ADDRESS";
      case 701 -> "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
      case 719 -> "CUDA_ERROR_LAUNCH_FAILED";
      default -> "CUresult " + code;
    };
  }
}
