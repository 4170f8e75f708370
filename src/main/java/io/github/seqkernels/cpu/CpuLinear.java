package io.github.seqkernels.cpu;

import io.github.seqkernels.Activation;
import io.github.seqkernels.LinearOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;

/** nn.Linear on the CPU: the library MatMul against wᵀ (a view), then bias and activation. */
final class CpuLinear implements LinearOp {
  private final CpuMatMul matmul;
  private final CpuElementwise elementwise;

  CpuLinear(CpuMatMul matmul, CpuElementwise elementwise) {
    this.matmul = matmul;
    this.elementwise = elementwise;
  }

  @Override
  public void forward(Tensor x, Tensor w, Tensor b, Activation f, Tensor y) {
    AttentionShape.requireNonNull("x", x);
    AttentionShape.requireNonNull("w", w);
    AttentionShape.requireNonNull("y", y);
    if (w.rank() != 2) AttentionShape.fail("w: must be [N, K], got rank " + w.rank());
    if (x.rank() < 1) AttentionShape.fail("x: rank must be >= 1, got 0");
    long k = w.size(1), n = w.size(0);
    if (x.size(x.rank() - 1) != k) {
      AttentionShape.fail("x: last dim " + x.size(x.rank() - 1) + " != w's K " + k);
    }
    long[] want = x.shape();
    want[want.length - 1] = n;
    if (!java.util.Arrays.equals(y.shape(), want)) {
      AttentionShape.fail(
          "y: shape must be "
              + java.util.Arrays.toString(want)
              + ", got "
              + java.util.Arrays.toString(y.shape()));
    }
    if (b != null && (b.rank() != 1 || b.size(0) != n)) {
      AttentionShape.fail("b: must be [" + n + "], got " + java.util.Arrays.toString(b.shape()));
    }
    matmul.forward(x, w.permute(1, 0), y);
    if (b != null) elementwise.add(y, b, y);
    if (f != null) elementwise.apply(y, f, y);
  }
}
