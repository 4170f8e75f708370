package io.github.seqkernels.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemHostAlloc;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD8Async;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * The real driver through JCuda: device 0's primary context, one stream, modules from the jar.
 *
 * <p>Each kernel file ships as two modules (see the resources' README): {@code <name>.fatbin}
 * (machine code for sm_75..sm_120 and PTX ISA 9.0, built by CUDA 13, for drivers r580+) and {@code
 * <name>.ptx} (PTX with the lowest ISA version that holds its instructions, JIT-compiled by drivers
 * back to CUDA 12.0). The loader takes the fat binary when the driver reads its PTX ISA and falls
 * back to the portable PTX otherwise, checking the PTX header against {@code cuDriverGetVersion}
 * first (case L2). Only construct this class after {@link CudaDriver#probe()} said the driver is
 * there.
 */
public final class DriverLauncher implements KernelLauncher {
  private static final System.Logger LOG = System.getLogger("io.github.seqkernels");
  private static final String RESOURCES = "/io/github/seqkernels/cuda/";
  private static final int FATBIN_MIN_DRIVER = 13000;

  private final CUdevice device = new CUdevice();
  private final CUcontext context = new CUcontext();
  private final CUstream stream = new CUstream();
  private final int driverVersion, maxShared;
  private final String name;
  private final ConcurrentHashMap<String, CUmodule> modules = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Ptx> ptx = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Kernel> kernels = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, DevicePointer> allocations = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, Pointer> hostBlocks = new ConcurrentHashMap<>();
  private final Transfers transfers = new Transfers();

  /** A device pointer whose address this class can read and make. */
  private static final class DevicePointer extends CUdeviceptr {
    DevicePointer() {}

    DevicePointer(long address) {
      super(new CUdeviceptr(), address);
    }

    long address() {
      return getNativePointer() + getByteOffset();
    }
  }

  public DriverLauncher() {
    JCudaDriver.setExceptionsEnabled(false);
    check(cuInit(0), "cuInit");
    int[] v = new int[1];
    check(cuDriverGetVersion(v), "cuDriverGetVersion");
    driverVersion = v[0];
    check(cuDeviceGet(device, 0), "cuDeviceGet");
    check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
    check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
    check(cuStreamCreate(stream, 0), "cuStreamCreate");
    int[] a = new int[1];
    check(
        cuDeviceGetAttribute(
            a, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, device),
        "cuDeviceGetAttribute");
    maxShared = a[0];
    byte[] n = new byte[256];
    cuDeviceGetName(n, n.length, device);
    int len = 0;
    while (len < n.length && n[len] != 0) len++;
    name = new String(n, 0, len, StandardCharsets.UTF_8);
  }

  /** The one stream every launch and copy goes to (cuBLAS binds its handle to it too). */
  CUstream stream() {
    return stream;
  }

  public int driverVersion() {
    return driverVersion;
  }

  /** Device 0's name, as the driver reports it. */
  public String deviceName() {
    return name;
  }

  /** The modules loaded so far (open() loads every module the backend launches). */
  public java.util.Set<String> loadedModules() {
    return new java.util.TreeSet<>(modules.keySet());
  }

  /**
   * The CUDA runtime version JCuda's runtime library carries (major·1000 + minor·10), or -1 when
   * that library cannot load; the backend itself uses the driver API only.
   */
  public static int runtimeVersion() {
    try {
      int[] v = new int[1];
      return jcuda.runtime.JCuda.cudaRuntimeGetVersion(v) == 0 ? v[0] : -1;
    } catch (LinkageError | RuntimeException e) {
      return -1;
    }
  }

  /** Compute capability as major·10 + minor. */
  public int computeCapability() {
    int[] maj = new int[1], min = new int[1];
    cuDeviceGetAttribute(
        maj, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
    cuDeviceGetAttribute(
        min, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
    return maj[0] * 10 + min[0];
  }

  @Override
  public String description() {
    int cc = computeCapability();
    return name
        + " (sm_"
        + cc
        + ", driver CUDA "
        + driverVersion / 1000
        + "."
        + driverVersion % 1000 / 10
        + ", modules "
        + modules.keySet()
        + ")";
  }

  private static void check(int rc, String call) {
    if (rc != 0) throw new CudaException(rc, call + ": " + CudaException.name(rc));
  }

  private static byte[] resource(String file) {
    try (InputStream in = DriverLauncher.class.getResourceAsStream(RESOURCES + file)) {
      return in == null ? null : in.readAllBytes();
    } catch (IOException e) {
      throw new CudaLoadException(0, file + ": " + e.getMessage());
    }
  }

  private CUmodule module(String module) {
    return modules.computeIfAbsent(module, this::loadModule);
  }

  private CUmodule loadModule(String module) {
    byte[] ptxBytes = resource(module + ".ptx");
    if (ptxBytes == null) throw new CudaLoadException(209, module + ": no module in the jar");
    Ptx portable = Ptx.parse(new String(ptxBytes, StandardCharsets.UTF_8));
    ptx.put(module, portable);
    CUmodule m = new CUmodule();
    byte[] fatbin = driverVersion >= FATBIN_MIN_DRIVER ? resource(module + ".fatbin") : null;
    if (fatbin != null) {
      int rc = cuModuleLoadData(m, fatbin);
      if (rc == 0) return m;
      LOG.log(
          Level.WARNING,
          "cuda: {0}.fatbin did not load ({1}); using the portable PTX",
          module,
          CudaException.name(rc));
    }
    portable.requireLoadable(module + ".ptx", driverVersion);
    byte[] z = java.util.Arrays.copyOf(ptxBytes, ptxBytes.length + 1); // NUL-terminated
    int rc = cuModuleLoadData(m, z);
    if (rc != 0) {
      String msg = module + ".ptx: " + CudaException.name(rc);
      throw CudaLoadException.isLoadError(rc)
          ? new CudaLoadException(rc, msg)
          : new CudaException(rc, msg);
    }
    return m;
  }

  /**
   * Loads PTX text as module {@code module} (checked against the driver first, case L2), for
   * modules that do not come from the jar; later {@link #function} calls find its entries.
   */
  public void loadPtx(String module, String text) {
    Ptx p = Ptx.parse(text);
    p.requireLoadable(module, driverVersion);
    CUmodule m = new CUmodule();
    byte[] z = (text + "\0").getBytes(StandardCharsets.UTF_8);
    int rc = cuModuleLoadData(m, z);
    if (rc != 0) {
      String msg = module + ": " + CudaException.name(rc);
      throw CudaLoadException.isLoadError(rc)
          ? new CudaLoadException(rc, msg)
          : new CudaException(rc, msg);
    }
    ptx.put(module, p);
    modules.put(module, m);
  }

  @Override
  public Kernel function(String module, String name) {
    return kernels.computeIfAbsent(
        module + "/" + name,
        key -> {
          CUmodule m = module(module);
          Ptx p = ptx.get(module);
          int[] sizes = p.paramSizes(name);
          if (sizes == null) throw new CudaLoadException(209, module + ": no entry " + name);
          String[] types =
              p.entries().get(name).stream().map(Ptx.Param::type).toArray(String[]::new);
          CUfunction f = new CUfunction();
          check(cuModuleGetFunction(f, m, name), "cuModuleGetFunction " + name);
          return new Kernel(module, name, sizes, types, f);
        });
  }

  @Override
  public long malloc(long bytes) {
    DevicePointer p = new DevicePointer();
    check(cuMemAlloc(p, Math.max(1, bytes)), "cuMemAlloc(" + bytes + ")");
    allocations.put(p.address(), p);
    return p.address();
  }

  @Override
  public void free(long devicePointer) {
    DevicePointer p = allocations.remove(devicePointer);
    if (p != null) check(cuMemFree(p), "cuMemFree");
  }

  @Override
  public void copyToDevice(MemorySegment src, long dst, long bytes) {
    if (bytes == 0) return;
    check(
        cuMemcpyHtoDAsync(new DevicePointer(dst), host(src, bytes), bytes, stream), "cuMemcpyHtoD");
    transfers.toDevice(bytes);
    synchronize(); // the host segment may be reused as soon as this returns
  }

  @Override
  public void copyToHost(long src, MemorySegment dst, long bytes) {
    if (bytes == 0) return;
    transfers.toHost(bytes);
    if (dst.isNative()) {
      check(
          cuMemcpyDtoHAsync(
              Pointer.to(dst.asSlice(0, bytes).asByteBuffer()),
              new DevicePointer(src),
              bytes,
              stream),
          "cuMemcpyDtoH");
      synchronize();
    } else {
      ByteBuffer staging = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
      check(
          cuMemcpyDtoHAsync(Pointer.to(staging), new DevicePointer(src), bytes, stream),
          "cuMemcpyDtoH");
      synchronize();
      MemorySegment.copy(MemorySegment.ofBuffer(staging), 0, dst, 0, bytes);
    }
  }

  @Override
  public MemorySegment mallocHost(long bytes) {
    Pointer p = new Pointer();
    long n = Math.max(1, bytes);
    check(cuMemHostAlloc(p, n, 0), "cuMemHostAlloc(" + bytes + ")");
    MemorySegment s = MemorySegment.ofBuffer(p.getByteBuffer(0, n));
    hostBlocks.put(s.address(), p);
    return s;
  }

  @Override
  public void freeHost(MemorySegment host) {
    Pointer p = hostBlocks.remove(host.address());
    if (p == null) throw new IllegalArgumentException("host: not from mallocHost: " + host);
    check(cuMemFreeHost(p), "cuMemFreeHost");
  }

  @Override
  public void copyToDeviceAsync(MemorySegment src, long dst, long bytes) {
    if (bytes == 0) return;
    check(
        cuMemcpyHtoDAsync(
            new DevicePointer(dst),
            Pointer.to(src.asSlice(0, bytes).asByteBuffer()),
            bytes,
            stream),
        "cuMemcpyHtoDAsync");
    transfers.toDevice(bytes);
  }

  @Override
  public void copyToHostAsync(long src, MemorySegment dst, long bytes) {
    if (bytes == 0) return;
    check(
        cuMemcpyDtoHAsync(
            Pointer.to(dst.asSlice(0, bytes).asByteBuffer()),
            new DevicePointer(src),
            bytes,
            stream),
        "cuMemcpyDtoHAsync");
    transfers.toHost(bytes);
  }

  @Override
  public void copyOnDevice(long src, long dst, long bytes) {
    if (bytes == 0) return;
    check(
        cuMemcpyDtoDAsync(new DevicePointer(dst), new DevicePointer(src), bytes, stream),
        "cuMemcpyDtoDAsync");
    transfers.onDevice(bytes);
  }

  @Override
  public Transfers transfers() {
    return transfers;
  }

  private static Pointer host(MemorySegment src, long bytes) {
    if (src.isNative()) return Pointer.to(src.asSlice(0, bytes).asByteBuffer());
    byte[] b = src.asSlice(0, bytes).toArray(ValueLayout.JAVA_BYTE);
    return Pointer.to(b);
  }

  @Override
  public void zero(long dst, long bytes) {
    if (bytes > 0)
      check(cuMemsetD8Async(new DevicePointer(dst), (byte) 0, bytes, stream), "cuMemsetD8");
  }

  @Override
  public void launch(
      Kernel k, int[] grid, int[] block, int sharedBytes, KernelArgs args, String what) {
    k.check(args);
    CUfunction f = (CUfunction) k.handle();
    if (sharedBytes > 48 * 1024) {
      if (sharedBytes > maxShared) {
        throw new CudaException(
            701,
            what
                + ": "
                + k.name()
                + " needs "
                + sharedBytes
                + " bytes of shared memory, the GPU allows "
                + maxShared);
      }
      check(
          cuFuncSetAttribute(
              f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, sharedBytes),
          what + ": cuFuncSetAttribute");
    }
    Pointer[] params = new Pointer[args.count()];
    for (int i = 0; i < params.length; i++) {
      params[i] = Pointer.to(args.value(i).toArray(ValueLayout.JAVA_BYTE));
    }
    int rc =
        cuLaunchKernel(
            f,
            grid[0],
            grid[1],
            grid[2],
            block[0],
            block[1],
            block[2],
            sharedBytes,
            stream,
            Pointer.to(params),
            null);
    if (rc != 0)
      throw new CudaException(rc, what + ": " + k.name() + ": " + CudaException.name(rc));
  }

  @Override
  public void synchronize() {
    check(cuStreamSynchronize(stream), "cuStreamSynchronize");
  }

  @Override
  public int maxSharedBytes() {
    return maxShared;
  }

  @Override
  public void close() {
    for (DevicePointer p : allocations.values()) cuMemFree(p);
    allocations.clear();
    for (Pointer p : hostBlocks.values()) cuMemFreeHost(p);
    hostBlocks.clear();
  }
}
