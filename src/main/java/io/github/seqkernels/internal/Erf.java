package io.github.seqkernels.internal;

/** The error function in float64, which {@code java.lang.Math} lacks. */
public final class Erf {
  private Erf() {}

  private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;

  /**
   * erf(x) to about 1e-15: the Maclaurin series below |x| = 2.5 (its terms peak near e^{x²}, which
   * costs at most three digits), the continued fraction of erfc above.
   */
  public static double erf(double x) {
    if (Double.isNaN(x)) return x;
    double a = Math.abs(x);
    if (a >= 6) return Math.copySign(1.0, x);
    if (a < 2.5) {
      double x2 = x * x, term = x, sum = x;
      for (int n = 1; n < 200; n++) {
        term *= -x2 / n;
        double t = term / (2 * n + 1);
        sum += t;
        if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
      }
      return TWO_OVER_SQRT_PI * sum;
    }
    return Math.copySign(1.0 - erfcLarge(a), x);
  }

  /** erfc(a) for a >= 2.5 by the Lentz evaluation of its continued fraction. */
  private static double erfcLarge(double a) {
    // erfc(a) = exp(-a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + 2/(a + ...)))))
    double tiny = 1e-300, f = a, c = a, d = 0;
    for (int n = 1; n < 500; n++) {
      double an = n * 0.5;
      d = a + an * d;
      d = d == 0 ? tiny : d;
      c = a + an / c;
      c = c == 0 ? tiny : c;
      d = 1 / d;
      double delta = c * d;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) break;
    }
    return Math.exp(-a * a) / (f * Math.sqrt(Math.PI));
  }
}
