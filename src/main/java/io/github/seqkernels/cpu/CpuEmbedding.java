package io.github.seqkernels.cpu;

import io.github.seqkernels.EmbeddingOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.LayerShape;

/** Embedding rows copied on the calling thread (a lookup is memory-bound and small). */
final class CpuEmbedding implements EmbeddingOp {
  @Override
  public void forward(Tensor table, int[] ids, Tensor y) {
    LayerShape.embedding(table, ids, y);
    long e = table.size(1);
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
