package io.github.seqkernels.cpu;

import static io.github.seqkernels.cpu.CpuVectors.LANES;
import static io.github.seqkernels.cpu.CpuVectors.SPECIES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The library's own float32 exp, tanh, expm1 and log1p against float64 {@link Math} on dense grids
 * over their whole useful ranges: within the ulp bounds {@link VectorMath} states, the special
 * values exact.
 */
class VectorMathTest {
  static float[] apply(UnaryOperator<FloatVector> f, float[] x) {
    float[] out = new float[x.length];
    for (int i = 0; i < x.length; i += LANES) {
      f.apply(FloatVector.fromArray(SPECIES, x, i)).intoArray(out, i);
    }
    return out;
  }

  /** n + padding floats evenly from lo to hi (both included). */
  static float[] grid(double lo, double hi, int n) {
    float[] x = new float[(n + LANES - 1) / LANES * LANES];
    for (int i = 0; i < x.length; i++)
      x[i] = (float) (lo + (hi - lo) * Math.min(i, n - 1) / (n - 1));
    return x;
  }

  /** The worst error in units of the float result's last place (subnormal spacing below). */
  static double worstUlp(float[] x, float[] got, DoubleUnaryOperator want, String name) {
    double worst = 0;
    float at = Float.NaN;
    for (int i = 0; i < x.length; i++) {
      double w = want.applyAsDouble(x[i]);
      float wf = (float) w;
      if (Float.isInfinite(wf)) {
        assertEquals(wf, got[i], name + " at x = " + x[i]);
        continue;
      }
      double ulp = Math.abs(wf) < Float.MIN_NORMAL ? Float.MIN_VALUE : Math.ulp(wf);
      double e = Math.abs(got[i] - w) / ulp;
      if (e > worst) {
        worst = e;
        at = x[i];
      }
    }
    System.out.printf("float32 %s: worst %.3f ulp at x = %s%n", name, worst, at);
    return worst;
  }

  @Test
  void expWithinTwoUlpFromUnderflowToOverflow() {
    float[] x = grid(-104, 88.72, 1 << 21);
    assertTrue(worstUlp(x, apply(VectorMath::exp, x), Math::exp, "exp") <= 2);
    float[] small = grid(-1, 1, 1 << 20); // where softmax spends its time
    assertTrue(worstUlp(small, apply(VectorMath::exp, small), Math::exp, "exp [-1,1]") <= 2);
  }

  @Test
  void expSpecialValues() {
    float[] v = {
      0f,
      -0f,
      1f,
      Float.NEGATIVE_INFINITY,
      Float.POSITIVE_INFINITY,
      Float.NaN,
      -1000f,
      1000f,
      88.72f,
      88.73f,
      -87.3f,
      -103.9f,
      -104.5f,
      1e-10f,
      -1e-10f,
      0.34657f
    };
    float[] x = new float[(v.length + LANES - 1) / LANES * LANES];
    System.arraycopy(v, 0, x, 0, v.length);
    float[] got = apply(VectorMath::exp, x);
    assertEquals(1f, got[0]);
    assertEquals(1f, got[1]);
    assertEquals(0f, got[3]);
    assertEquals(Float.POSITIVE_INFINITY, got[4]);
    assertTrue(Float.isNaN(got[5]));
    assertEquals(0f, got[6]);
    assertEquals(Float.POSITIVE_INFINITY, got[7]);
    assertTrue(Float.isFinite(got[8]) && got[8] > 3e38f, "exp(88.72) = " + got[8]);
    assertEquals(Float.POSITIVE_INFINITY, got[9]);
    assertTrue(got[11] > 0 && got[11] < Float.MIN_NORMAL, "exp(-103.9) is subnormal: " + got[11]);
    assertEquals(0f, got[12]);
  }

  @Test
  void tanhWithinThreeUlpOddAndSaturated() {
    float[] x = grid(-12, 12, 1 << 21);
    assertTrue(worstUlp(x, apply(VectorMath::tanh, x), Math::tanh, "tanh") <= 3);
    float[] tiny = grid(-1e-3, 1e-3, 1 << 16);
    assertTrue(worstUlp(tiny, apply(VectorMath::tanh, tiny), Math::tanh, "tanh tiny") <= 3);
    float[] v = new float[Math.max(8, LANES)];
    float[] s = {
      0f, -0f, 30f, -30f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 1e-30f
    };
    System.arraycopy(s, 0, v, 0, s.length);
    float[] got = apply(VectorMath::tanh, v);
    assertEquals(0f, got[0]);
    assertEquals(-0f, got[1]);
    assertEquals(1f, got[2]);
    assertEquals(-1f, got[3]);
    assertEquals(1f, got[4]);
    assertEquals(-1f, got[5]);
    assertTrue(Float.isNaN(got[6]));
    assertEquals(1e-30f, got[7]);
  }

  @Test
  void expm1AndLog1pWithinThreeUlp() {
    float[] x = grid(-20, 20, 1 << 20);
    assertTrue(worstUlp(x, apply(VectorMath::expm1, x), Math::expm1, "expm1") <= 3);
    float[] near = grid(-0.01, 0.01, 1 << 16);
    assertTrue(worstUlp(near, apply(VectorMath::expm1, near), Math::expm1, "expm1 near 0") <= 3);
    float[] y = grid(0, 1, 1 << 20); // softplus' argument e^-|x|
    assertTrue(worstUlp(y, apply(VectorMath::log1p, y), Math::log1p, "log1p [0,1]") <= 3);
    float[] wide = grid(0, 1e6, 1 << 18);
    assertTrue(worstUlp(wide, apply(VectorMath::log1p, wide), Math::log1p, "log1p [0,1e6]") <= 3);
    float[] tiny = grid(0, 1e-6, 1 << 16);
    assertTrue(worstUlp(tiny, apply(VectorMath::log1p, tiny), Math::log1p, "log1p tiny") <= 3);
    float[] v = new float[Math.max(8, LANES)];
    float[] s = {0f, Float.POSITIVE_INFINITY, Float.NaN, -0.5f, Float.NEGATIVE_INFINITY};
    System.arraycopy(s, 0, v, 0, s.length);
    float[] l = apply(VectorMath::log1p, v);
    assertEquals(0f, l[0]);
    assertEquals(Float.POSITIVE_INFINITY, l[1]);
    assertTrue(Float.isNaN(l[2]) && Float.isNaN(l[3]), "NaN and negative x give NaN");
    float[] e = apply(VectorMath::expm1, v);
    assertEquals(0f, e[0]);
    assertEquals(Float.POSITIVE_INFINITY, e[1]);
    assertTrue(Float.isNaN(e[2]));
    assertEquals(-1f, e[4]);
  }
}
