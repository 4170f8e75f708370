package io.github.seqkernels.cpu;

import io.github.seqkernels.LayerNormOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.LayerShape;
import io.github.seqkernels.internal.WorkerPool;

/** LayerNorm over the last axis on the CPU, rows split across the pool. */
final class CpuLayerNorm implements LayerNormOp {
  private final WorkerPool pool;

  CpuLayerNorm(WorkerPool pool) {
    this.pool = pool;
  }

  @Override
  public void forward(
      Tensor x, Tensor residual, Tensor scale, Tensor bias, float epsilon, Tensor y) {
    LayerShape.layerNorm(x, residual, scale, bias, epsilon, y, pool.anyWorker());
    long e = x.size(x.rank() - 1);
    long[] shape = x.shape();
    long rows = e == 0 ? 0 : x.numel() / e;
    int pieces = (int) Math.min(rows, pool.parallelism() * 4L);
    int n = (int) e;
    pool.run(
        pieces,
        (piece, worker) -> {
          long[] idx = new long[shape.length];
          double[] r = new double[n];
          for (long row = rows * piece / pieces; row < rows * (piece + 1) / pieces; row++) {
            CpuElementwise.unflatten(row * n, shape, idx);
            double sum = 0;
            for (int j = 0; j < n; j++) {
              idx[idx.length - 1] = j;
              double v = x.get(idx);
              if (residual != null) v += residual.get(idx);
              r[j] = (float) v;
              sum += r[j];
            }
            double mean = sum / n, var = 0;
            for (int j = 0; j < n; j++) var += (r[j] - mean) * (r[j] - mean);
            double inv = var / n + epsilon > 0 ? 1 / Math.sqrt(var / n + epsilon) : 0;
            for (int j = 0; j < n; j++) {
              idx[idx.length - 1] = j;
              double v = (r[j] - mean) * inv * scale.get(j) + (bias == null ? 0 : bias.get(j));
              y.set((float) v, idx);
            }
          }
        });
  }
}
