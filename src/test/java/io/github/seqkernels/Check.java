package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;

/** Seeded data and tolerance checks shared by the tests. */
final class Check {
  /** The grid seed: -Dseqkernels.seed=N reproduces a run (the build passes a fixed default). */
  static final long SEED = Long.getLong("seqkernels.seed", 20261203L);

  static {
    System.out.println(
        "seqkernels test seed: " + SEED + " (rerun with -Dseqkernels.seed=" + SEED + ")");
  }

  private Check() {}

  static Random random(long salt) {
    return new Random(SEED * 1_000_003L + salt);
  }

  static float[] gaussian(Random r, int n, double std) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * std);
    return a;
  }

  /**
   * Asserts |actual - expected| <= atol + rtol·|expected| everywhere, NaN never allowed unless
   * expected, and infinities equal; on failure lists the first few indices with both values.
   */
  static void close(String what, double[] expected, float[] actual, double atol, double rtol) {
    if (expected.length != actual.length) {
      fail(what + ": length " + actual.length + ", expected " + expected.length);
    }
    StringBuilder sb = new StringBuilder();
    int bad = 0;
    double worst = 0;
    for (int i = 0; i < expected.length; i++) {
      double e = expected[i], a = actual[i];
      boolean ok;
      if (Double.isInfinite(e) || Double.isNaN(e)) ok = Double.compare(e, a) == 0;
      else ok = Math.abs(a - e) <= atol + rtol * Math.abs(e);
      if (!ok) {
        if (bad < 5)
          sb.append("\n  [").append(i).append("] expected ").append(e).append(" actual ").append(a);
        bad++;
        worst = Math.max(worst, Math.abs(a - e));
      }
    }
    if (bad > 0) {
      fail(
          what
              + ": "
              + bad
              + " of "
              + expected.length
              + " elements differ beyond "
              + atol
              + " + "
              + rtol
              + "·|ref| (worst |diff| "
              + worst
              + ")"
              + sb);
    }
  }

  static void close(String what, double[] expected, float[] actual) {
    // fp32 accumulation over up to ~1025 terms of O(1) values: a few 1e-6 absolute error, and
    // relative error near fp32 epsilon times the log of the length; the tolerance.
    close(what, expected, actual, 1e-5, 1e-4);
  }

  /**
   * A tensor holding {@code data} (row-major) in memory laid out with the dims reversed, viewed
   * back by permute: the same logical values with no unit stride on the last dim (rank >= 2), so
   * kernels meet their general-stride paths.
   */
  static Tensor reversed(float[] data, long... shape) {
    int r = shape.length;
    long[] rs = new long[r];
    int[] order = new int[r];
    for (int d = 0; d < r; d++) {
      rs[d] = shape[r - 1 - d];
      order[d] = r - 1 - d;
    }
    Tensor t = Tensor.wrap(new float[Math.max(1, data.length)], rs).permute(order);
    t.copyFrom(data);
    return t;
  }

  static double[] toDouble(float... a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) d[i] = a[i];
    return d;
  }
}
