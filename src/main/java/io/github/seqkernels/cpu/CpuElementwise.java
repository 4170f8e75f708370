package io.github.seqkernels.cpu;

import io.github.seqkernels.Activation;
import io.github.seqkernels.ElementwiseOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;
import io.github.seqkernels.internal.WorkerPool;
import java.lang.foreign.ValueLayout;

/** Elementwise activation and broadcasting add on the CPU, split across the pool by element. */
final class CpuElementwise implements ElementwiseOp {
  private final WorkerPool pool;

  CpuElementwise(WorkerPool pool) {
    this.pool = pool;
  }

  @Override
  public void apply(Tensor x, Activation f, Tensor y) {
    AttentionShape.requireNonNull("x", x);
    AttentionShape.requireNonNull("f", f);
    AttentionShape.requireNonNull("y", y);
    AttentionShape.requireSameShape("y", y, x);
    long n = x.numel();
    long[] shape = x.shape();
    int pieces = (int) Math.min(pool.parallelism() * 4L, Math.max(1, n / 4096));
    pool.run(
        pieces,
        (piece, worker) -> {
          long lo = n * piece / pieces, hi = n * (piece + 1) / pieces;
          long[] idx = new long[shape.length];
          for (long i = lo; i < hi; i++) {
            unflatten(i, shape, idx);
            y.set(f.apply(x.get(idx)), idx);
          }
        });
  }

  @Override
  public void add(Tensor a, Tensor b, Tensor y) {
    AttentionShape.requireNonNull("a", a);
    AttentionShape.requireNonNull("b", b);
    AttentionShape.requireNonNull("y", y);
    AttentionShape.requireSameShape("y", y, a);
    long[] shape = a.shape();
    long[] bs =
        AttentionShape.broadcastStrides("b", b.shape(), b.strides(), shape, new long[shape.length]);
    long n = a.numel();
    int pieces = (int) Math.min(pool.parallelism() * 4L, Math.max(1, n / 4096));
    pool.run(
        pieces,
        (piece, worker) -> {
          long lo = n * piece / pieces, hi = n * (piece + 1) / pieces;
          long[] idx = new long[shape.length];
          for (long i = lo; i < hi; i++) {
            unflatten(i, shape, idx);
            long off = b.offset();
            for (int d = 0; d < idx.length; d++) off += idx[d] * bs[d];
            float bv = b.segment().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, off);
            y.set(a.get(idx) + bv, idx);
          }
        });
  }

  static void unflatten(long flat, long[] shape, long[] idx) {
    for (int d = shape.length - 1; d >= 0; d--) {
      idx[d] = flat % shape[d];
      flat /= shape[d];
    }
  }
}
