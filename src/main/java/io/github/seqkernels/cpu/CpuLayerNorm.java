package io.github.seqkernels.cpu;

import io.github.seqkernels.LayerNormOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;
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
    AttentionShape.requireNonNull("x", x);
    AttentionShape.requireNonNull("scale", scale);
    AttentionShape.requireNonNull("y", y);
    if (x.rank() < 1) AttentionShape.fail("x: rank must be >= 1, got 0");
    AttentionShape.requireSameShape("y", y, x);
    if (residual != null) AttentionShape.requireSameShape("residual", residual, x);
    long e = x.size(x.rank() - 1);
    if (scale.rank() != 1 || scale.size(0) != e) {
      AttentionShape.fail(
          "scale: must be [" + e + "], got " + java.util.Arrays.toString(scale.shape()));
    }
    if (bias != null && (bias.rank() != 1 || bias.size(0) != e)) {
      AttentionShape.fail(
          "bias: must be [" + e + "], got " + java.util.Arrays.toString(bias.shape()));
    }
    if (!(epsilon >= 0) || Float.isInfinite(epsilon)) {
      AttentionShape.fail("epsilon: must be finite and >= 0, got " + epsilon);
    }
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
            double inv = 1 / Math.sqrt(var / n + epsilon);
            for (int j = 0; j < n; j++) {
              idx[idx.length - 1] = j;
              double v = (r[j] - mean) * inv * scale.get(j) + (bias == null ? 0 : bias.get(j));
              y.set((float) v, idx);
            }
          }
        });
  }
}
