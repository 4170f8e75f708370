package io.github.seqkernels.cpu;

import static io.github.seqkernels.cpu.CpuVectors.LANES;
import static io.github.seqkernels.cpu.CpuVectors.SPECIES;

import io.github.seqkernels.Activation;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/** The ONNX recurrent activations on vectors, lane by lane (so results do not depend on lane). */
final class Activations {
  private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

  private Activations() {}

  /**
   * f(x) lane by lane. Each case is a small method of its own, so that this switch stays small
   * enough for the JIT to inline into the kernels' loops: a vector that crosses a call the JIT does
   * not inline is boxed into a heap object, which costs more than the arithmetic.
   */
  static FloatVector apply(Activation a, FloatVector x) {
    return switch (a.kind()) {
      case RELU -> x.max(0f);
      case TANH -> VectorMath.tanh(x);
      case SIGMOID -> sigmoid(x);
      case AFFINE -> x.mul(a.alpha()).add(a.beta());
      case LEAKY_RELU -> leakyRelu(x, a.alpha());
      case THRESHOLDED_RELU -> thresholdedRelu(x, a.alpha());
      case SCALED_TANH -> VectorMath.tanh(x.mul(a.beta())).mul(a.alpha());
      case HARD_SIGMOID -> x.mul(a.alpha()).add(a.beta()).max(0f).min(1f);
      case ELU -> elu(x, a.alpha());
      case SOFTSIGN -> x.div(x.abs().add(1f));
      case SOFTPLUS -> softplus(x);
      case GELU -> gelu(x);
      case GELU_TANH -> geluTanh(x);
    };
  }

  /**
   * y[yo..yo+len) = f(x[xo..xo+len)) on unit-stride memory, vectors with a masked tail. The switch
   * on the kind is taken once, outside the loop: GELU (both forms) and Relu have loops of their
   * own, so the loop body is one function the JIT keeps in registers; through {@link #apply}'s
   * switch, a loop that has met several kinds merges their vectors and boxes them.
   */
  static void applyRun(
      Activation f, MemorySegment xs, long xo, MemorySegment ys, long yo, int len) {
    switch (f.kind()) {
      case GELU -> geluRun(xs, xo, ys, yo, len);
      case GELU_TANH -> geluTanhRun(xs, xo, ys, yo, len);
      case RELU -> reluRun(xs, xo, ys, yo, len);
      // TODO(perf): the other kinds share this loop; once it has met several of them the switch
      // in apply merges their vectors and C2 boxes them (measured ~16 bytes per element). A loop
      // per kind, as above, when one of them matters for speed.
      default -> anyRun(f, xs, xo, ys, yo, len);
    }
  }

  /** a[off..off+len) = f(a[off..off+len)) in place, whole vectors (the array has room past len). */
  static void applyLine(Activation f, float[] a, int off, int len) {
    switch (f.kind()) {
      case GELU -> {
        for (int i = 0; i < len; i += LANES)
          gelu(FloatVector.fromArray(SPECIES, a, off + i)).intoArray(a, off + i);
      }
      case GELU_TANH -> {
        for (int i = 0; i < len; i += LANES)
          geluTanh(FloatVector.fromArray(SPECIES, a, off + i)).intoArray(a, off + i);
      }
      case RELU -> {
        for (int i = 0; i < len; i += LANES)
          FloatVector.fromArray(SPECIES, a, off + i).max(0f).intoArray(a, off + i);
      }
      default -> {
        for (int i = 0; i < len; i += LANES)
          apply(f, FloatVector.fromArray(SPECIES, a, off + i)).intoArray(a, off + i);
      }
    }
  }

  private static void geluRun(MemorySegment xs, long xo, MemorySegment ys, long yo, int len) {
    int vn = SPECIES.loopBound(len), i = 0;
    for (; i < vn; i += LANES) gelu(load(xs, xo + i)).intoMemorySegment(ys, (yo + i) * 4, NATIVE);
    if (i < len) {
      VectorMask<Float> m = SPECIES.indexInRange(i, len);
      gelu(load(xs, xo + i, m)).intoMemorySegment(ys, (yo + i) * 4, NATIVE, m);
    }
  }

  private static void geluTanhRun(MemorySegment xs, long xo, MemorySegment ys, long yo, int len) {
    int vn = SPECIES.loopBound(len), i = 0;
    for (; i < vn; i += LANES)
      geluTanh(load(xs, xo + i)).intoMemorySegment(ys, (yo + i) * 4, NATIVE);
    if (i < len) {
      VectorMask<Float> m = SPECIES.indexInRange(i, len);
      geluTanh(load(xs, xo + i, m)).intoMemorySegment(ys, (yo + i) * 4, NATIVE, m);
    }
  }

  private static void reluRun(MemorySegment xs, long xo, MemorySegment ys, long yo, int len) {
    int vn = SPECIES.loopBound(len), i = 0;
    for (; i < vn; i += LANES) load(xs, xo + i).max(0f).intoMemorySegment(ys, (yo + i) * 4, NATIVE);
    if (i < len) {
      VectorMask<Float> m = SPECIES.indexInRange(i, len);
      load(xs, xo + i, m).max(0f).intoMemorySegment(ys, (yo + i) * 4, NATIVE, m);
    }
  }

  private static void anyRun(
      Activation f, MemorySegment xs, long xo, MemorySegment ys, long yo, int len) {
    int vn = SPECIES.loopBound(len), i = 0;
    for (; i < vn; i += LANES)
      apply(f, load(xs, xo + i)).intoMemorySegment(ys, (yo + i) * 4, NATIVE);
    if (i < len) {
      VectorMask<Float> m = SPECIES.indexInRange(i, len);
      apply(f, load(xs, xo + i, m)).intoMemorySegment(ys, (yo + i) * 4, NATIVE, m);
    }
  }

  private static FloatVector load(MemorySegment s, long at) {
    return FloatVector.fromMemorySegment(SPECIES, s, at * 4, NATIVE);
  }

  private static FloatVector load(MemorySegment s, long at, VectorMask<Float> m) {
    return FloatVector.fromMemorySegment(SPECIES, s, at * 4, NATIVE, m);
  }

  /** 1 / (1 + exp(-x)): exp(-x) overflows to inf for x < -88 and the quotient is then 0. */
  private static FloatVector sigmoid(FloatVector x) {
    return FloatVector.broadcast(SPECIES, 1f).div(VectorMath.exp(x.neg()).add(1f));
  }

  private static FloatVector leakyRelu(FloatVector x, float alpha) {
    return x.blend(x.mul(alpha), x.compare(VectorOperators.LT, 0f));
  }

  private static FloatVector thresholdedRelu(FloatVector x, float alpha) {
    return FloatVector.zero(SPECIES).blend(x, x.compare(VectorOperators.GT, alpha));
  }

  private static FloatVector elu(FloatVector x, float alpha) {
    return x.blend(VectorMath.expm1(x).mul(alpha), x.compare(VectorOperators.LT, 0f));
  }

  /** log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), which cannot overflow. */
  private static FloatVector softplus(FloatVector x) {
    return x.max(0f).add(VectorMath.log1p(VectorMath.exp(x.abs().neg())));
  }

  /** x·Φ(x) = x/2·(1 + erf(x/√2)): 1 + erf is 0 below x ≈ -5.6, and the product -0, not NaN. */
  private static FloatVector gelu(FloatVector x) {
    return x.mul(0.5f).mul(erf(x.mul(0.70710678f)).add(1f));
  }

  /**
   * x/2·(1 + tanh(u)) with u = √(2/π)·(x + 0.044715·x³), evaluated as x / (1 + exp(-2u)) (the same
   * function: (1 + tanh(u))/2 is the logistic of 2u), which needs one exp and no tanh (the vector
   * tanh is several times slower here). Where x³ overflows, exp(-2u) is inf or 0 and the quotient
   * is -0 or x, the function's limits; within about 2 ulp otherwise.
   */
  private static FloatVector geluTanh(FloatVector x) {
    FloatVector u2 = x.mul(x).mul(0.044715f * 2 * 0.7978845608f).add(2 * 0.7978845608f).mul(x);
    return x.div(u2.neg().lanewise(VectorOperators.EXP).add(1f)); // as erfLarge: speed
  }

  // erf in float32 on two ranges (coefficients fitted for this library by weighted least squares
  // against float64 erf with numpy; the script is src/test/resources/erf/fit_erf.py):
  //   |x| <= 0.921875:      erf(x) = x + x·(c0 - 1 + x²·P(x²))   (P of degree 5, Horner with FMA;
  //                          the leading x kept apart so that its rounding is the last one)
  //   0.921875 < |x| < 3.93: erf(|x|) = 1 - exp(Q(|x|))           (Q of degree 10 fits log erfc)
  //   |x| >= 3.93:           1, which erf rounds to in float32 within half an ulp.
  // Measured over [0, 5] in steps of 2.5e-5 (float32 arithmetic with FMA, correctly rounded exp):
  // at most 1.2 ulp, 7e-8 absolute. Sign restored at the end; NaN stays NaN.
  private static final float ERF_SPLIT = 0.921875f, ERF_ONE = 3.93f;

  /**
   * erf lane by lane in float32, within about 1 ulp (see the comment above). Both ranges are
   * computed for every lane and blended; each is a method of its own so that every method stays
   * small enough for the JIT to inline (see {@link #apply}).
   */
  static FloatVector erf(FloatVector x) {
    FloatVector a = x.abs();
    FloatVector r = erfLarge(a).blend(erfSmall(a), a.compare(VectorOperators.LE, ERF_SPLIT));
    return r.blend(r.neg(), x.compare(VectorOperators.LT, 0f));
  }

  /** |x| <= 0.921875: x·(1 + (c0 - 1) + x²·P(x²)), the leading x added last. */
  private static FloatVector erfSmall(FloatVector a) {
    FloatVector x2 = a.mul(a);
    FloatVector p = FloatVector.broadcast(SPECIES, 8.410933514824137e-05f);
    p = p.fma(x2, FloatVector.broadcast(SPECIES, -0.0008153758244588971f));
    p = p.fma(x2, FloatVector.broadcast(SPECIES, 0.005202173721045256f));
    p = p.fma(x2, FloatVector.broadcast(SPECIES, -0.026859955862164497f));
    p = p.fma(x2, FloatVector.broadcast(SPECIES, 0.11283708363771439f));
    p = p.fma(x2, FloatVector.broadcast(SPECIES, -0.37612634897232056f));
    return a.fma(p.fma(x2, FloatVector.broadcast(SPECIES, 0.12837916612625122f)), a);
  }

  /** |x| > 0.921875: 1 - exp(Q(|x|)), |x| clamped to the fitted range, 1 from 3.93 on. */
  private static FloatVector erfLarge(FloatVector a) {
    FloatVector t = a.min(ERF_ONE);
    FloatVector q = FloatVector.broadcast(SPECIES, -3.403982304917008e-07f);
    q = q.fma(t, FloatVector.broadcast(SPECIES, 7.176840881584212e-06f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, -6.545972428284585e-05f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, 0.0003199821221642196f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, -0.0006925010238774121f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, -0.0016986520495265722f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, 0.021465271711349487f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, -0.10468132048845291f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, -0.6356106996536255f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, -1.128692388534546f));
    q = q.fma(t, FloatVector.broadcast(SPECIES, 4.339062797953375e-05f));
    // The Vector API's EXP (SVML once C2 compiles it), not VectorMath.exp: at the end of the
    // GELU call chain C2 declined to inline the polynomial and MiniLM lost a quarter of its speed
    // (277 against ~200 sentences/s). TODO(determinism): its last bit can change with the JIT tier.
    FloatVector r = q.lanewise(VectorOperators.EXP).neg().add(1f);
    return r.blend(1f, a.compare(VectorOperators.GE, ERF_ONE));
  }
}
