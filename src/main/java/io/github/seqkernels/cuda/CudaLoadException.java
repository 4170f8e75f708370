package io.github.seqkernels.cuda;

/**
 * A module the driver cannot take: its PTX ISA is newer than the driver reads (222, or refused
 * before loading by {@link Ptx#requireLoadable}), the PTX is invalid (218), or the module holds no
 * code for this GPU (209). {@code auto} then falls back to the CPU and logs this message once.
 */
public class CudaLoadException extends CudaException {
  private static final long serialVersionUID = 1L;

  public CudaLoadException(int code, String message) {
    super(code, message);
  }

  /** True for the CUresults that mean "this module cannot load here" rather than a bug. */
  public static boolean isLoadError(int code) {
    return code == 222 || code == 218 || code == 209 || code == 200;
  }
}
