package io.github.seqkernels.internal;

import static io.github.seqkernels.internal.AttentionShape.fail;

import io.github.seqkernels.SoftmaxOptions;
import io.github.seqkernels.Tensor;

/**
 * Validation of Softmax, shared by every backend so that all of them refuse the same input with the
 * same messages; a call that passes allocates nothing.
 */
public final class SoftmaxShape {
  private SoftmaxShape() {}

  /**
   * Softmax: y has x's shape, axis in {@code [-rank, rank)}, a finite scale, an axis that fits the
   * kernels' int indexing. Returns the axis as a non-negative dim.
   */
  public static int validate(Tensor x, Tensor y, SoftmaxOptions o, Placement where) {
    AttentionShape.requireNonNull("x", x);
    AttentionShape.requireNonNull("y", y);
    AttentionShape.requireNonNull("options", o);
    int r = x.rank();
    if (r < 1) fail("x: rank must be >= 1, got 0");
    if (o.axis() < -r || o.axis() >= r) {
      fail("axis: must be in [" + -r + ", " + (r - 1) + "] for rank " + r + ", got " + o.axis());
    }
    AttentionShape.requireSameShape("y", y, x);
    if (!Float.isFinite(o.scale())) fail("scale: must be finite, got " + o.scale());
    int ax = o.axis() < 0 ? o.axis() + r : o.axis();
    if (x.size(ax) > Integer.MAX_VALUE - 64) {
      fail("x: axis " + ax + " length " + x.size(ax) + " exceeds 2^31-65");
    }
    where.require("x", x);
    where.require("y", y);
    return ax;
  }
}
