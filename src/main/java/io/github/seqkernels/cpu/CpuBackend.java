package io.github.seqkernels.cpu;

import io.github.seqkernels.AttentionOp;
import io.github.seqkernels.Backend;
import io.github.seqkernels.GemmOp;
import io.github.seqkernels.MatMulOp;
import io.github.seqkernels.SoftmaxOp;
import io.github.seqkernels.internal.WorkerPool;

/** The CPU backend: Vector API kernels on a fixed pool of worker threads. */
public final class CpuBackend implements Backend {
  private final WorkerPool pool;
  private final CpuSoftmax softmax;
  private final CpuAttention attention;
  private final CpuGemm gemm;
  private final CpuMatMul matmul;

  public CpuBackend(int threads) {
    if (threads < 1) throw new IllegalArgumentException("threads: must be >= 1, got " + threads);
    this.pool = new WorkerPool(threads);
    this.softmax = new CpuSoftmax(pool);
    this.attention = new CpuAttention(pool);
    this.gemm = new CpuGemm(pool);
    this.matmul = new CpuMatMul(pool, gemm);
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
  public GemmOp gemm() {
    return gemm;
  }

  @Override
  public MatMulOp matmul() {
    return matmul;
  }

  @Override
  public void close() {
    pool.close();
  }
}
