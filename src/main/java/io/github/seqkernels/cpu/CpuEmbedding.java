package io.github.seqkernels.cpu;

import io.github.seqkernels.EmbeddingOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;

/** Embedding rows copied on the calling thread (a lookup is memory-bound and small). */
final class CpuEmbedding implements EmbeddingOp {
  @Override
  public void forward(Tensor table, int[] ids, Tensor y) {
    AttentionShape.requireNonNull("table", table);
    AttentionShape.requireNonNull("ids", ids);
    AttentionShape.requireNonNull("y", y);
    if (table.rank() != 2) AttentionShape.fail("table: must be [V, E], got rank " + table.rank());
    long v = table.size(0), e = table.size(1);
    if (y.rank() < 1 || y.size(y.rank() - 1) != e) {
      AttentionShape.fail(
          "y: last dim must be E = " + e + ", got " + java.util.Arrays.toString(y.shape()));
    }
    if (y.numel() != ids.length * e) {
      AttentionShape.fail(
          "y: must hold ids.length = " + ids.length + " rows, has " + (e == 0 ? 0 : y.numel() / e));
    }
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= v) {
        AttentionShape.fail("ids[" + i + "]: must be in [0, " + v + "), got " + ids[i]);
      }
    }
    long[] shape = y.shape();
    long[] idx = new long[shape.length];
    for (int i = 0; i < ids.length; i++) {
      CpuElementwise.unflatten(i * e, shape, idx);
      for (int j = 0; j < e; j++) {
        idx[idx.length - 1] = j;
        y.set(table.get(ids[i], j), idx);
      }
    }
  }
}
