package io.github.seqkernels.cpu;

import io.github.seqkernels.Conv1dOp;
import io.github.seqkernels.Conv1dOptions;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.LayerShape;
import io.github.seqkernels.internal.WorkerPool;

/** Conv1d on the CPU, (batch, output channel) pairs split across the pool. */
final class CpuConv1d implements Conv1dOp {
  private final WorkerPool pool;

  CpuConv1d(WorkerPool pool) {
    this.pool = pool;
  }

  @Override
  public void forward(Tensor x, Tensor w, Tensor bias, Conv1dOptions o, Tensor y) {
    LayerShape.conv1d(x, w, bias, o, y, pool.anyWorker());
    long b = x.size(0), oc = w.size(0), cg = w.size(1), k = w.size(2), l = x.size(2);
    int g = o.groups();
    long lout = o.outputLength(l, k);
    long opg = oc / g;
    int pieces = (int) (b * oc);
    pool.run(
        pieces,
        (piece, worker) -> {
          long bi = piece / oc, oi = piece % oc, gi = oi / opg;
          for (long t = 0; t < lout; t++) {
            double acc = bias == null ? 0 : bias.get(oi);
            for (long ci = 0; ci < cg; ci++) {
              for (long j = 0; j < k; j++) {
                long s = t * o.stride() + j * o.dilation() - o.padBegin();
                if (s < 0 || s >= l) continue;
                acc += (double) w.get(oi, ci, j) * x.get(bi, gi * cg + ci, s);
              }
            }
            y.set((float) acc, bi, oi, t);
          }
        });
  }
}
