package io.github.seqkernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs the kernels of {@code kernels/*.cu} built for the host ({@code native/build-emu.sh}: one
 * {@code libseqkernels_emu.so} with an {@code emu_<kernel>} entry per kernel), called through the
 * FFM API. Device memory is native memory from {@code malloc}; launches run to completion before
 * {@link #launch} returns, so {@link #synchronize} has nothing to wait for.
 *
 * <p>Each kernel's parameter sizes come from the library itself ({@code emu_sig_<kernel>}, the C++
 * {@code sizeof} of each parameter), so argument checks (case L3) work here as on a GPU.
 */
public final class EmulatedLauncher implements KernelLauncher {
  /** System property naming the library; default {@code target/emu/libseqkernels_emu.so}. */
  public static final String LIBRARY_PROPERTY = "seqkernels.cuda.emulator";

  private static final Linker LINKER = Linker.nativeLinker();
  private static final FunctionDescriptor ENTRY =
      FunctionDescriptor.of(
          ValueLayout.JAVA_INT,
          ValueLayout.ADDRESS,
          ValueLayout.ADDRESS,
          ValueLayout.JAVA_LONG,
          ValueLayout.ADDRESS);
  private static final FunctionDescriptor SIG =
      FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT);

  private final Path library;
  private final Arena arena = Arena.ofShared();
  private final SymbolLookup lookup;
  private final MethodHandle malloc, free, lastError;
  private final ConcurrentHashMap<String, Kernel> kernels = new ConcurrentHashMap<>();
  private final Transfers transfers = new Transfers();
  private final ConcurrentHashMap<Long, Long> hostBlocks = new ConcurrentHashMap<>();

  public EmulatedLauncher(Path library) {
    if (!Files.isRegularFile(library)) {
      throw new CudaLoadException(
          0,
          "emulator: "
              + library
              + " does not exist; build it with native/build-emu.sh (the test build does)");
    }
    this.library = library;
    this.lookup = SymbolLookup.libraryLookup(library, arena);
    SymbolLookup libc = LINKER.defaultLookup();
    this.malloc =
        LINKER.downcallHandle(
            libc.find("malloc").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    this.free =
        LINKER.downcallHandle(
            libc.find("free").orElseThrow(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    this.lastError =
        LINKER.downcallHandle(
            lookup.find("emu_last_error").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS));
  }

  /** The library named by {@link #LIBRARY_PROPERTY}, or the test build's default path. */
  public static EmulatedLauncher fromProperty() {
    String p = System.getProperty(LIBRARY_PROPERTY, "target/emu/libseqkernels_emu.so");
    return new EmulatedLauncher(Path.of(p));
  }

  @Override
  public String description() {
    return "CUDA emulator (" + library.getFileName() + ", host threads as fibers)";
  }

  @Override
  public Kernel function(String module, String name) {
    return kernels.computeIfAbsent(name, n -> load(module, n));
  }

  private Kernel load(String module, String name) {
    MemorySegment entry =
        lookup
            .find("emu_" + name)
            .orElseThrow(
                () ->
                    new CudaLoadException(
                        209, module + ": no kernel " + name + " in " + library.getFileName()));
    MemorySegment sigSym = lookup.find("emu_sig_" + name).orElseThrow();
    int[] sizes;
    try (Arena a = Arena.ofConfined()) {
      MemorySegment buf = a.allocate(ValueLayout.JAVA_INT, 64);
      int n = (int) LINKER.downcallHandle(sigSym, SIG).invokeExact(buf, 64);
      sizes = buf.asSlice(0, 4L * n).toArray(ValueLayout.JAVA_INT);
    } catch (Throwable t) {
      throw new CudaException(0, name + ": reading the signature failed", t);
    }
    return new Kernel(module, name, sizes, null, LINKER.downcallHandle(entry, ENTRY));
  }

  @Override
  public long malloc(long bytes) {
    try {
      MemorySegment p = (MemorySegment) malloc.invokeExact(Math.max(1L, bytes));
      if (p.address() == 0) throw new CudaException(2, "emulator: out of memory for " + bytes);
      return p.address();
    } catch (CudaException e) {
      throw e;
    } catch (Throwable t) {
      throw new CudaException(2, "emulator: malloc failed", t);
    }
  }

  @Override
  public void free(long devicePointer) {
    try {
      free.invokeExact(MemorySegment.ofAddress(devicePointer));
    } catch (Throwable t) {
      throw new CudaException(0, "emulator: free failed", t);
    }
  }

  // Launches run to completion before launch() returns, so the asynchronous copies are the
  // synchronous ones: the order the stream would give is the order of the calls.

  @Override
  public void copyToDevice(MemorySegment src, long dst, long bytes) {
    if (bytes == 0) return;
    MemorySegment.copy(src, 0, MemorySegment.ofAddress(dst).reinterpret(bytes), 0, bytes);
    transfers.toDevice(bytes);
  }

  @Override
  public void copyToHost(long src, MemorySegment dst, long bytes) {
    if (bytes == 0) return;
    MemorySegment.copy(MemorySegment.ofAddress(src).reinterpret(bytes), 0, dst, 0, bytes);
    transfers.toHost(bytes);
  }

  @Override
  public MemorySegment mallocHost(long bytes) {
    // malloc's 16-byte alignment would do for the copies; 64 keeps vector reads of it aligned.
    long p = malloc(bytes + 64);
    long aligned = (p + 64) & -64L;
    MemorySegment s = MemorySegment.ofAddress(aligned).reinterpret(Math.max(1, bytes));
    hostBlocks.put(aligned, p);
    return s;
  }

  @Override
  public void freeHost(MemorySegment host) {
    Long p = hostBlocks.remove(host.address());
    if (p == null) throw new IllegalArgumentException("host: not from mallocHost: " + host);
    free(p);
  }

  @Override
  public void copyToDeviceAsync(MemorySegment src, long dst, long bytes) {
    copyToDevice(src, dst, bytes);
  }

  @Override
  public void copyToHostAsync(long src, MemorySegment dst, long bytes) {
    copyToHost(src, dst, bytes);
  }

  @Override
  public void copyOnDevice(long src, long dst, long bytes) {
    if (bytes == 0) return;
    MemorySegment.copy(
        MemorySegment.ofAddress(src).reinterpret(bytes),
        0,
        MemorySegment.ofAddress(dst).reinterpret(bytes),
        0,
        bytes);
    transfers.onDevice(bytes);
  }

  @Override
  public Transfers transfers() {
    return transfers;
  }

  @Override
  public void zero(long dst, long bytes) {
    if (bytes > 0) MemorySegment.ofAddress(dst).reinterpret(bytes).fill((byte) 0);
  }

  @Override
  public void launch(
      Kernel k, int[] grid, int[] block, int sharedBytes, KernelArgs args, String what) {
    k.check(args);
    if (sharedBytes > maxSharedBytes()) {
      throw new CudaException(
          701, what + ": " + k.name() + " asks for " + sharedBytes + " bytes of shared memory");
    }
    int rc;
    try (Arena a = Arena.ofConfined()) {
      MemorySegment g = a.allocateFrom(ValueLayout.JAVA_INT, grid);
      MemorySegment b = a.allocateFrom(ValueLayout.JAVA_INT, block);
      MemorySegment ptrs = a.allocate(ValueLayout.ADDRESS, Math.max(1, args.count()));
      for (int i = 0; i < args.count(); i++) {
        MemorySegment v = a.allocate(args.value(i).byteSize(), 8);
        v.copyFrom(args.value(i));
        ptrs.setAtIndex(ValueLayout.ADDRESS, i, v);
      }
      rc = (int) ((MethodHandle) k.handle()).invokeExact(g, b, (long) sharedBytes, ptrs);
    } catch (Throwable t) {
      throw new CudaException(719, what + ": " + k.name() + " failed in the emulator", t);
    }
    if (rc != 0) {
      String msg;
      try {
        msg = ((MemorySegment) lastError.invokeExact()).reinterpret(4096).getString(0);
      } catch (Throwable t) {
        msg = "(no message)";
      }
      throw new CudaException(719, what + ": " + k.name() + ": " + msg);
    }
  }

  @Override
  public void synchronize() {}

  @Override
  public int maxSharedBytes() {
    return 227 * 1024;
  }

  @Override
  public void close() {
    for (long p : hostBlocks.values()) free(p);
    hostBlocks.clear();
    arena.close();
  }
}
