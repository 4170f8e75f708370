package io.github.seqkernels.cuda;

/**
 * A kernel entry of a loaded module: its name, its parameters' sizes in bytes (and PTX types when
 * read from PTX), and the launcher's handle.
 */
public record Kernel(
    String module, String name, int[] paramSizes, String[] paramTypes, Object handle) {
  /**
   * Refuses (case L3) arguments whose count or sizes differ from the entry's parameters, before the
   * launch: a wrong size would make the kernel read garbage or fault.
   */
  public void check(KernelArgs args) {
    if (args.count() != paramSizes.length) {
      throw new CudaException(
          0,
          name
              + ": "
              + args.count()
              + " arguments for "
              + paramSizes.length
              + " parameters (module "
              + module
              + ")");
    }
    long[] sizes = args.sizes();
    for (int i = 0; i < sizes.length; i++) {
      if (sizes[i] != paramSizes[i]) {
        String type = paramTypes == null ? "" : "." + paramTypes[i] + " ";
        throw new CudaException(
            0,
            name
                + ": parameter "
                + i
                + " ("
                + type
                + "needs "
                + paramSizes[i]
                + " bytes, got "
                + sizes[i]
                + ")");
      }
    }
  }
}
