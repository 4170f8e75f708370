package io.github.seqkernels.cuda;

import io.github.seqkernels.AttentionOp;
import io.github.seqkernels.Backend;
import io.github.seqkernels.Conv1dOp;
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
import io.github.seqkernels.internal.Placement;
import io.github.seqkernels.internal.RecurrentShape;

/**
 * The operators on an NVIDIA GPU, or on the host emulation of the same kernels: everything goes
 * through one {@link KernelLauncher}. Host tensors are staged to device memory from a caching pool
 * and back for each call; {@link #device} makes tensors that stay on the device.
 *
 * <p>Every operator of {@link Backend} has a CUDA kernel here; none runs on the CPU behind the
 * caller's back. Matrix products go to cuBLAS where {@link Cublas} finds it usable on the real
 * driver, else to the library's own {@code gemm_f32}; {@link #gemmEngine} says which.
 */
public final class CudaBackend implements Backend {
  private final KernelLauncher launcher;
  private final DeviceMemoryPool pool;
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
   * memory confined to the calling thread, so a tensor that works on one backend works on all.
   */
  static final Thread OTHER_THREAD = new Thread(() -> {}, "seqkernels-cuda-validation");

  private final Placement placement = Placement.host("cuda", OTHER_THREAD);

  /** The rule for the memory of every operator's tensor arguments (the shared validation's). */
  Placement placement() {
    return placement;
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

  /** A new device tensor from this backend's pool; contents undefined until written. */
  public DeviceTensor device(long... shape) {
    return new DeviceTensor(pool, launcher, shape);
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
    launcher.close();
  }
}
