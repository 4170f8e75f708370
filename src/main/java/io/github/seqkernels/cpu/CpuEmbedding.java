package io.github.seqkernels.cpu;

import io.github.seqkernels.EmbeddingOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.LayerShape;
import io.github.seqkernels.internal.Placement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Embedding rows copied on the calling thread: a lookup moves E floats per id and computes nothing,
 * so it is bound by memory and a pool hand-off would cost more than it saves at the sizes of a
 * Transformer's input (a few thousand rows). A row with unit stride in both table and y is one bulk
 * {@link MemorySegment#copy}; other layouts go element by element.
 */
final class CpuEmbedding implements EmbeddingOp {
  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

  /** Runs on the calling thread: host memory it can reach. */
  private static final Placement HOST = Placement.host("cpu", null);

  @Override
  public void forward(Tensor table, int[] ids, Tensor y) {
    LayerShape.embedding(table, ids, y, HOST);
    long e = table.size(1);
    if (e == 0) return;
    int r = y.rank();
    MemorySegment ts = table.segment(), ys = y.segment();
    long ts0 = table.stride(0), ts1 = table.stride(1), yst = y.stride(r - 1);
    boolean bulk = ts1 == 1 && yst == 1;
    for (int i = 0; i < ids.length; i++) {
      long src = table.offset() + ids[i] * ts0;
      long dst = y.offset();
      long rest = i;
      for (int d = r - 2; d >= 0; d--) { // y's row i over its leading dims
        dst += (rest % y.size(d)) * y.stride(d);
        rest /= y.size(d);
      }
      if (bulk) {
        MemorySegment.copy(ts, src * Float.BYTES, ys, dst * Float.BYTES, e * Float.BYTES);
      } else {
        for (long j = 0; j < e; j++)
          ys.setAtIndex(F32, dst + j * yst, ts.getAtIndex(F32, src + j * ts1));
      }
    }
  }
}
