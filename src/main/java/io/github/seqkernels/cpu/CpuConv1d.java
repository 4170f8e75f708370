package io.github.seqkernels.cpu;

import io.github.seqkernels.Conv1dOp;
import io.github.seqkernels.Conv1dOptions;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;
import io.github.seqkernels.internal.WorkerPool;

/** Conv1d on the CPU, (batch, output channel) pairs split across the pool. */
final class CpuConv1d implements Conv1dOp {
  private final WorkerPool pool;

  CpuConv1d(WorkerPool pool) {
    this.pool = pool;
  }

  @Override
  public void forward(Tensor x, Tensor w, Tensor bias, Conv1dOptions o, Tensor y) {
    AttentionShape.requireNonNull("x", x);
    AttentionShape.requireNonNull("w", w);
    AttentionShape.requireNonNull("options", o);
    AttentionShape.requireNonNull("y", y);
    if (x.rank() != 3) AttentionShape.fail("x: must be [B, C, L], got rank " + x.rank());
    if (w.rank() != 3) AttentionShape.fail("w: must be [O, C/groups, K], got rank " + w.rank());
    if (o.stride() < 1) AttentionShape.fail("stride: must be >= 1, got " + o.stride());
    if (o.dilation() < 1) AttentionShape.fail("dilation: must be >= 1, got " + o.dilation());
    if (o.groups() < 1) AttentionShape.fail("groups: must be >= 1, got " + o.groups());
    if (o.padBegin() < 0 || o.padEnd() < 0) {
      AttentionShape.fail("pads: must be >= 0, got [" + o.padBegin() + ", " + o.padEnd() + "]");
    }
    long b = x.size(0), c = x.size(1), l = x.size(2);
    long oc = w.size(0), cg = w.size(1), k = w.size(2);
    int g = o.groups();
    if (c % g != 0) AttentionShape.fail("x: channels " + c + " not divisible by groups " + g);
    if (oc % g != 0) AttentionShape.fail("w: out channels " + oc + " not divisible by groups " + g);
    if (cg != c / g) AttentionShape.fail("w: dim 1 must be C/groups = " + (c / g) + ", got " + cg);
    long lout = o.outputLength(l, k);
    if (lout < 1) {
      AttentionShape.fail(
          "x: length " + l + " with padding and a dilated kernel of " + k + " gives no output");
    }
    AttentionShape.requireShape("y", y, new long[] {b, oc, lout}, 3);
    if (bias != null && (bias.rank() != 1 || bias.size(0) != oc)) {
      AttentionShape.fail(
          "bias: must be [" + oc + "], got " + java.util.Arrays.toString(bias.shape()));
    }
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
