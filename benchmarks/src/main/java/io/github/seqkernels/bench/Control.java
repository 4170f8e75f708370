package io.github.seqkernels.bench;

import io.github.seqkernels.Tensor;
import java.util.SplittableRandom;

/**
 * What every benchmark's setup shares: seeded inputs, and the check against the float64 control
 * that has to pass before anything is timed, so a fast wrong kernel never produces a number.
 */
final class Control {
  /** Absolute and relative parts of the tolerance: |got - ref| <= ATOL + RTOL * |ref|. */
  static final double ATOL = 1e-5;

  static final double RTOL = 1e-4;

  private Control() {}

  /** A contiguous tensor of uniform values in [-range, range), the same for the same seed. */
  static Tensor uniform(long seed, float range, long... shape) {
    Tensor t = Tensor.allocate(shape);
    SplittableRandom random = new SplittableRandom(seed);
    float[] data = new float[Math.toIntExact(t.numel())];
    for (int i = 0; i < data.length; i++) data[i] = (float) random.nextDouble(-range, range);
    t.copyFrom(data);
    return t;
  }

  /** Throws, naming the first bad element, unless every element is within tolerance. */
  static void requireClose(String what, float[] got, double[] ref) {
    if (got.length != ref.length) {
      throw new IllegalStateException(
          what + ": " + got.length + " elements, control has " + ref.length);
    }
    for (int i = 0; i < got.length; i++) {
      // Written so that a NaN in either fails the check.
      if (!(Math.abs(got[i] - ref[i]) <= ATOL + RTOL * Math.abs(ref[i]))) {
        throw new IllegalStateException(
            what
                + " disagrees with the float64 control at flat index "
                + i
                + ": got "
                + got[i]
                + ", control "
                + ref[i]
                + " (tolerance "
                + ATOL
                + " + "
                + RTOL
                + "·|control|)");
      }
    }
  }

  /**
   * Throws, naming the first bad element, unless every element of a K-long float32 sum of products
   * is within {@code (K + 2)·eps·abs + eps·|ref|} of the control, where abs is the control's sum of
   * |terms|: the worst-case rounding error of such a sum in any order, with a factor 2 to spare
   * (see GemmTest.within in the library's tests). A fixed relative tolerance does not fit sums that
   * cancel to near zero.
   */
  static void requireWithin(String what, float[] got, double[] ref, double[] abs, int k) {
    double eps = Math.ulp(1f);
    for (int i = 0; i < got.length; i++) {
      double tol = (k + 2) * eps * abs[i] + eps * Math.abs(ref[i]);
      if (!(Math.abs(got[i] - ref[i]) <= tol)) { // a NaN fails too
        throw new IllegalStateException(
            what
                + " disagrees with the float64 control at flat index "
                + i
                + ": got "
                + got[i]
                + ", control "
                + ref[i]
                + " (tolerance "
                + tol
                + ")");
      }
    }
  }
}
