package io.github.seqkernels.cuda;

import io.github.seqkernels.AttentionOp;
import io.github.seqkernels.Backend;
import io.github.seqkernels.Conv1dOp;
import io.github.seqkernels.DeviceMemory;
import io.github.seqkernels.ElementwiseOp;
import io.github.seqkernels.EmbeddingOp;
import io.github.seqkernels.GemmOp;
import io.github.seqkernels.LayerNormOp;
import io.github.seqkernels.LinearOp;
import io.github.seqkernels.MatMulOp;
import io.github.seqkernels.RecurrentCell;
import io.github.seqkernels.RecurrentOp;
import io.github.seqkernels.RecurrentOptions;
import io.github.seqkernels.SoftmaxOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;
import io.github.seqkernels.internal.Placement;
import io.github.seqkernels.internal.RecurrentShape;
import java.lang.foreign.MemorySegment;

/**
 * The operators on an NVIDIA GPU, or on the host emulation of the same kernels: everything goes
 * through one {@link KernelLauncher}. Every operator takes host tensors, staged to device memory
 * from a caching pool and back for each call (through pinned host blocks), and this backend's own
 * device tensors ({@link #allocate}, {@link #upload}), which it reads and writes in place: a model
 * whose weights and intermediates live there copies only its inputs in and its outputs out.
 *
 * <p>Every operator of {@link Backend} has a CUDA kernel here; none runs on the CPU behind the
 * caller's back. Matrix products go to cuBLAS where {@link Cublas} finds it usable on the real
 * driver, else to the library's own {@code gemm_f32}; {@link #gemmEngine} says which.
 */
public final class CudaBackend implements Backend {
  private final KernelLauncher launcher;
  private final DeviceMemoryPool pool;
  private final PinnedPool pinned;
  private final CudaSoftmax softmax;
  private final CudaAttention attention;
  private final CudaGemm gemm;
  private final CudaMatMul matmul;
  private final CudaLayers.Norm layerNorm;
  private final CudaLayers.Embedding embedding;
  private final CudaElementwise elementwise;
  private final CudaLinear linear;
  private final CudaConv1d conv1d;
  private final CudaRecurrent lstm, gru, rnn;
  private final Blas blas; // null: every product on gemm_f32
  private final String gemmEngine;

  /** The backend on {@code launcher}, every product on the own gemm_f32. */
  public CudaBackend(KernelLauncher launcher) {
    this(
        launcher,
        new Cublas.Engine(
            null,
            "own gemm_f32 ("
                + (launcher instanceof EmulatedLauncher ? "emulator" : "cuBLAS not asked for")
                + ")"));
  }

  CudaBackend(KernelLauncher launcher, Cublas.Engine engine) {
    this.launcher = launcher;
    this.blas = engine.blas();
    this.gemmEngine = engine.description();
    this.pool = new DeviceMemoryPool(launcher);
    this.pinned = new PinnedPool(launcher);
    this.softmax = new CudaSoftmax(this);
    this.attention = new CudaAttention(this);
    this.gemm = new CudaGemm(this);
    this.matmul = new CudaMatMul(this);
    this.layerNorm = new CudaLayers.Norm(this);
    this.embedding = new CudaLayers.Embedding(this);
    this.elementwise = new CudaElementwise(this);
    this.linear = new CudaLinear(this);
    this.conv1d = new CudaConv1d(this);
    this.lstm = new CudaRecurrent(this, RecurrentShape.Kind.LSTM);
    this.gru = new CudaRecurrent(this, RecurrentShape.Kind.GRU);
    this.rnn = new CudaRecurrent(this, RecurrentShape.Kind.RNN);
  }

  /** The kernel entries this backend launches, as (module, entry): loaded up front by open(). */
  public static final java.util.List<String[]> ENTRIES =
      java.util.List.of(
          new String[] {"softmax", "softmax_rows_f32"},
          new String[] {"attention", "attention_fwd_f32"},
          new String[] {"gemm", "gemm_f32"},
          new String[] {"layers", "layernorm_f32"},
          new String[] {"layers", "embedding_f32"},
          new String[] {"elementwise", "activation_f32"},
          new String[] {"elementwise", "add_f32"},
          new String[] {"elementwise", "conv1d_f32"},
          new String[] {"recurrent", "lstm_gates_f32"},
          new String[] {"recurrent", "gru_reset_f32"},
          new String[] {"recurrent", "gru_gates_f32"},
          new String[] {"recurrent", "rnn_gates_f32"});

  /** The CUDA backend on the host emulator ({@link EmulatedLauncher#fromProperty()}). */
  public static CudaBackend emulated() {
    return new CudaBackend(EmulatedLauncher.fromProperty());
  }

  /**
   * The CUDA backend on device 0 of the real driver; throws {@link CudaLoadException} with the
   * probe's reason when there is no driver (no JCuda class is touched then). Its products go to
   * cuBLAS when {@link Cublas#open} can use it, else to gemm_f32 (the reason logged once).
   */
  public static CudaBackend open() {
    CudaDriver.Availability a = CudaDriver.probe();
    if (!a.available()) throw new CudaLoadException(100, "cuda: not available: " + a.reason());
    DriverLauncher launcher = new DriverLauncher();
    CudaBackend be = new CudaBackend(launcher, Cublas.open(launcher));
    try {
      // Load every module now, so that a module the driver refuses fails here, not mid-model.
      for (String[] e : ENTRIES) launcher.function(e[0], e[1]);
    } catch (CudaException e) {
      be.close();
      throw e;
    }
    return be;
  }

  /**
   * Stands for "another thread" in the shared validation: like the CPU backend, this one refuses
   * host memory confined to the calling thread, so a tensor that works on one backend works on all.
   */
  static final Thread OTHER_THREAD = new Thread(() -> {}, "seqkernels-cuda-validation");

  /**
   * The rule for the memory of every operator's tensor arguments (and of {@link #copy}): host
   * memory that another thread may reach (staged per call), or an open block of this backend's own
   * pool. Another backend's device memory would be an address in another context (or emulator), and
   * a closed block may already hold another tensor, so both are refused by name.
   */
  private final Placement placement = this::place;

  private void place(String name, Tensor t) {
    if (t.isHost()) {
      AttentionShape.requireAccessible(name, t, OTHER_THREAD);
      return;
    }
    DeviceMemory m = t.device();
    if (!(m instanceof CudaMemory c) || !c.from(pool)) {
      AttentionShape.fail(
          name
              + ": must be a host tensor or device memory of this cuda backend, got "
              + m.kind()
              + " device memory of another backend ("
              + m
              + ")");
    }
    if (m.isClosed()) {
      AttentionShape.fail(
          name
              + ": device memory must be open, got a closed block (the tensor that owned it was"
              + " closed and gave it back to the pool)");
    }
  }

  Placement placement() {
    return placement;
  }

  /** The device address of t's element 0 (t: this backend's device tensor, already placed). */
  static long address(Tensor t) {
    return t.device().address() + t.offset() * Float.BYTES;
  }

  /** The launcher every kernel goes through (the driver's, or the emulator's). */
  public KernelLauncher launcher() {
    return launcher;
  }

  DeviceMemoryPool pool() {
    return pool;
  }

  /** cuBLAS (or the tests' stand-in), or null when gemm_f32 runs every product. */
  Blas blas() {
    return blas;
  }

  /**
   * What runs the matrix products (GEMM, MatMul, Linear, the recurrent projections): "cuBLAS 12.x.y
   * (JCublas 12.6.0)", or "own gemm_f32 (why)". Products whose layout cuBLAS cannot take (no unit
   * stride in an operand) run on gemm_f32 either way.
   */
  public String gemmEngine() {
    return gemmEngine;
  }

  PinnedPool pinned() {
    return pinned;
  }

  @Override
  public boolean usesDeviceMemory() {
    return true;
  }

  /**
   * A zero-filled contiguous tensor in device memory from this backend's caching pool; closing it
   * gives the block back to the pool (not to the driver), so the next allocation of that size class
   * reuses it.
   */
  @Override
  public Tensor allocate(long... shape) {
    Tensor t = scratch(shape);
    launcher.zero(address(t), t.numel() * Float.BYTES);
    return t;
  }

  /** Like {@link #allocate}, contents undefined: for buffers an operator writes in full. */
  Tensor scratch(long... shape) {
    long n = Tensor.elements(shape);
    CudaMemory m = new CudaMemory(pool, Math.multiplyExact(n, Float.BYTES));
    return Tensor.onDevice(m, shape);
  }

  /**
   * Copies between host tensors and this backend's device tensors in any direction, any strides.
   * Dense layouts move as one copy; a strided device side goes through a contiguous device block
   * and the elementwise copy kernel (activation_f32 with no activation), a strided host side
   * through a contiguous host array, so each direction is still one host-device copy.
   */
  @Override
  public void copy(Tensor src, Tensor dst) {
    AttentionShape.requireNonNull("src", src);
    AttentionShape.requireNonNull("dst", dst);
    AttentionShape.requireSameShape("dst", dst, src);
    placement.require("src", src);
    placement.require("dst", dst);
    if (src.isHost() && dst.isHost()) {
      Backend.super.copy(src, dst);
      return;
    }
    long n = src.numel(), bytes = n * Float.BYTES;
    if (n == 0) return;
    if (!src.isHost() && !dst.isHost()) {
      if (src.isContiguous() && dst.isContiguous()) {
        launcher.copyOnDevice(address(src), address(dst), bytes);
      } else {
        strided(address(src), src.strides(), address(dst), dst.strides(), src.shape());
      }
      return;
    }
    if (src.isHost()) {
      MemorySegment from =
          src.isContiguous()
              ? src.segment().asSlice(src.offset() * Float.BYTES, bytes)
              : MemorySegment.ofArray(src.toArray());
      if (dst.isContiguous()) {
        launcher.copyToDevice(from, address(dst), bytes);
      } else {
        try (Tensor tmp = scratch(dst.shape())) {
          launcher.copyToDevice(from, address(tmp), bytes);
          strided(address(tmp), tmp.strides(), address(dst), dst.strides(), dst.shape());
        }
      }
      return;
    }
    Tensor tmp = src.isContiguous() ? null : scratch(src.shape());
    try {
      long from = address(src);
      if (tmp != null) {
        strided(from, src.strides(), address(tmp), tmp.strides(), src.shape());
        from = address(tmp);
      }
      if (dst.isContiguous()) {
        launcher.copyToHost(from, dst.segment().asSlice(dst.offset() * Float.BYTES, bytes), bytes);
      } else {
        if (n > Integer.MAX_VALUE - 8) {
          AttentionShape.fail("dst: " + n + " strided elements exceed a Java array");
        }
        float[] a = new float[(int) n];
        launcher.copyToHost(from, MemorySegment.ofArray(a), bytes);
        dst.copyFrom(a);
      }
    } finally {
      if (tmp != null) tmp.close();
    }
  }

  /**
   * y = x elementwise between device strided views of one shape. Dims of size 1 are dropped and
   * neighbours that step together in both views are merged first, so only layouts that really need
   * more than the kernel's 8 dims are refused.
   */
  private void strided(long px, long[] xs, long py, long[] ys, long[] shape) {
    int r = 0;
    long[] sh = new long[shape.length], a = new long[shape.length], b = new long[shape.length];
    for (int d = 0; d < shape.length; d++) {
      if (shape[d] == 1) continue;
      if (r > 0 && a[r - 1] == xs[d] * shape[d] && b[r - 1] == ys[d] * shape[d]) {
        sh[r - 1] *= shape[d];
        a[r - 1] = xs[d];
        b[r - 1] = ys[d];
        continue;
      }
      sh[r] = shape[d];
      a[r] = xs[d];
      b[r] = ys[d];
      r++;
    }
    if (r > CudaElementwise.MAX_RANK) {
      AttentionShape.fail(
          "dst: a strided device copy takes at most "
              + CudaElementwise.MAX_RANK
              + " dims after merging, got "
              + r
              + " for shape "
              + java.util.Arrays.toString(shape));
    }
    CudaElementwise.copy(
        launcher,
        px,
        java.util.Arrays.copyOf(a, r),
        py,
        java.util.Arrays.copyOf(b, r),
        java.util.Arrays.copyOf(sh, r));
  }

  @Override
  public String name() {
    return "cuda";
  }

  @Override
  public String description() {
    return "cuda (" + launcher.description() + "; GEMMs on " + gemmEngine + ")";
  }

  @Override
  public SoftmaxOp softmax() {
    return softmax;
  }

  @Override
  public AttentionOp attention() {
    return attention;
  }

  @Override
  public RecurrentOp lstm() {
    return lstm;
  }

  @Override
  public RecurrentOp gru() {
    return gru;
  }

  @Override
  public RecurrentOp rnn() {
    return rnn;
  }

  @Override
  public RecurrentCell lstmCell(Tensor w, Tensor r, Tensor b, Tensor p, RecurrentOptions options) {
    return new CudaRecurrent(this, RecurrentShape.Kind.LSTM).cell(w, r, b, p, options);
  }

  @Override
  public RecurrentCell gruCell(Tensor w, Tensor r, Tensor b, RecurrentOptions options) {
    return new CudaRecurrent(this, RecurrentShape.Kind.GRU).cell(w, r, b, null, options);
  }

  @Override
  public RecurrentCell rnnCell(Tensor w, Tensor r, Tensor b, RecurrentOptions options) {
    return new CudaRecurrent(this, RecurrentShape.Kind.RNN).cell(w, r, b, null, options);
  }

  @Override
  public GemmOp gemm() {
    return gemm;
  }

  @Override
  public MatMulOp matmul() {
    return matmul;
  }

  @Override
  public LinearOp linear() {
    return linear;
  }

  @Override
  public LayerNormOp layerNorm() {
    return layerNorm;
  }

  @Override
  public ElementwiseOp elementwise() {
    return elementwise;
  }

  @Override
  public EmbeddingOp embedding() {
    return embedding;
  }

  @Override
  public Conv1dOp conv1d() {
    return conv1d;
  }

  @Override
  public void close() {
    if (blas != null) blas.close();
    pool.close();
    pinned.close();
    launcher.close();
  }
}
