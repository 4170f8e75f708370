package io.github.seqkernels.cpu;

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
import io.github.seqkernels.internal.RecurrentShape;
import io.github.seqkernels.internal.WorkerPool;

/** The CPU backend: Vector API kernels on a fixed pool of worker threads. */
public final class CpuBackend implements Backend {
  private final WorkerPool pool;
  private final CpuSoftmax softmax;
  private final CpuAttention attention;
  private final CpuRecurrent lstm, gru, rnn;
  private final CpuGemm gemm;
  private final CpuMatMul matmul;
  private final CpuElementwise elementwise;
  private final CpuLinear linear;
  private final CpuLayerNorm layerNorm;
  private final CpuEmbedding embedding;
  private final CpuConv1d conv1d;

  public CpuBackend(int threads) {
    if (threads < 1) throw new IllegalArgumentException("threads: must be >= 1, got " + threads);
    this.pool = new WorkerPool(threads);
    this.softmax = new CpuSoftmax(pool);
    this.attention = new CpuAttention(pool);
    this.gemm = new CpuGemm(pool);
    this.matmul = new CpuMatMul(pool, gemm);
    this.elementwise = new CpuElementwise(pool);
    this.linear = new CpuLinear(pool, gemm);
    this.layerNorm = new CpuLayerNorm(pool);
    this.embedding = new CpuEmbedding();
    this.conv1d = new CpuConv1d(pool, gemm);
    this.lstm = new CpuRecurrent(pool, gemm, RecurrentShape.Kind.LSTM);
    this.gru = new CpuRecurrent(pool, gemm, RecurrentShape.Kind.GRU);
    this.rnn = new CpuRecurrent(pool, gemm, RecurrentShape.Kind.RNN);
  }

  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public String description() {
    return "cpu (Vector API "
        + CpuVectors.SPECIES.vectorBitSize()
        + "-bit, "
        + CpuVectors.LANES
        + " float lanes, "
        + pool.parallelism()
        + " threads)";
  }

  public int parallelism() {
    return pool.parallelism();
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
    return new CpuRecurrent(pool, gemm, RecurrentShape.Kind.LSTM).cell(w, r, b, p, options);
  }

  @Override
  public RecurrentCell gruCell(Tensor w, Tensor r, Tensor b, RecurrentOptions options) {
    return new CpuRecurrent(pool, gemm, RecurrentShape.Kind.GRU).cell(w, r, b, null, options);
  }

  @Override
  public RecurrentCell rnnCell(Tensor w, Tensor r, Tensor b, RecurrentOptions options) {
    return new CpuRecurrent(pool, gemm, RecurrentShape.Kind.RNN).cell(w, r, b, null, options);
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
    pool.close();
  }
}
