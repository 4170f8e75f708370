package io.github.seqkernels.cpu;

import io.github.seqkernels.Activation;
import io.github.seqkernels.LinearOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.LayerShape;
import io.github.seqkernels.internal.WorkerPool;

/** nn.Linear on the CPU: the library MatMul against wᵀ (a view), then bias and activation. */
final class CpuLinear implements LinearOp {
  private final CpuMatMul matmul;
  private final CpuElementwise elementwise;
  private final WorkerPool pool;

  CpuLinear(WorkerPool pool, CpuMatMul matmul, CpuElementwise elementwise) {
    this.pool = pool;
    this.matmul = matmul;
    this.elementwise = elementwise;
  }

  @Override
  public void forward(Tensor x, Tensor w, Tensor b, Activation f, Tensor y) {
    LayerShape.linear(x, w, b, y, pool.anyWorker());
    matmul.forward(x, w.permute(1, 0), y);
    if (b != null) elementwise.add(y, b, y);
    if (f != null) elementwise.apply(y, f, y);
  }
}
