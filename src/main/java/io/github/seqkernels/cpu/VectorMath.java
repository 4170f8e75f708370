package io.github.seqkernels.cpu;

import static io.github.seqkernels.cpu.CpuVectors.LANES;
import static io.github.seqkernels.cpu.CpuVectors.SPECIES;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * exp, expm1, log1p and tanh in float32 built from operations that IEEE 754 rounds exactly (add,
 * multiply, fused multiply-add, divide, bit moves), so a result never depends on how the JIT
 * compiled the code that asked for it.
 *
 * <p>Why not {@code lanewise(VectorOperators.EXP)}: HotSpot's C2 computes the Vector API's
 * transcendental operators with Intel's SVML, while the interpreter and C1 compute them lane by
 * lane with {@link Math}; the two differ in the last bit for some inputs (measured: a 4096-element
 * tanh and sigmoid gave different bits interpreted and after C2 compiled the loop). A kernel whose
 * code is compiled part-way through a run then gives another answer for the same input, which broke
 * the CPU recurrent layers' promise of the same bits in any batch and on any thread count.
 *
 * <p>Accuracy: exp within 2 ulp over its whole range (subnormal results included), tanh within 3
 * ulp, expm1 and log1p within 3 ulp; tested against float64 in {@code VectorMathTest}. Special
 * values: exp(-inf) = 0, exp(+inf) = inf, NaN in gives NaN out, exp(0) = 1 exactly.
 *
 * <p>Method: exp(x) = 2^n · e^r with n = round(x·log2(e)) and r = x - n·ln2 in two parts (|r| ≤
 * ln2/2), e^r by its Taylor polynomial of degree 7 in Horner form with FMAs (truncation error at
 * |r| = 0.347 below 2^-27), and 2^n applied as two exact power-of-two factors so that results down
 * to the subnormals and up to the overflow round once.
 *
 * <p>Used by the activations ({@link Activations}: recurrent gates, elementwise, the epilogues of
 * Linear and GEMM) except GELU, and, through {@link #expShiftedSum} and the scalar {@link
 * #exp(float)}, by softmax and attention. GELU keeps the Vector API's EXP for speed (see
 * Activations.erfLarge).
 */
final class VectorMath {
  private VectorMath() {}

  private static final float LOG2E = 1.44269504088896341f;
  // ln2 split so that n·LN2_HI is exact for |n| < 2^10: LN2_HI has 11 leading bits.
  private static final float LN2_HI = 0.693359375f;
  private static final float LN2_LO = -2.12194440e-4f;
  // Adding 1.5·2^23 rounds a float of magnitude < 2^22 to the nearest integer (ties to even) and
  // leaves that integer in the low mantissa bits.
  private static final float ROUNDER = 12582912f;
  private static final int ROUNDER_BITS = 0x4B400000;
  // exp overflows above 88.7228 and is below half the smallest subnormal under -103.97; clamping
  // to a little beyond keeps n within what the two power-of-two factors can carry.
  private static final float EXP_HI = 89f;
  private static final float EXP_LO = -104f;
  // 1/k! for k = 2..6.
  private static final float C2 = 0.5f;
  private static final float C3 = 1.6666667163e-1f;
  private static final float C4 = 4.1666667908e-2f;
  private static final float C5 = 8.3333337680e-3f;
  private static final float C6 = 1.3888889225e-3f;
  private static final float C7 = 1.9841270114e-4f;

  // Rotations by 8, 4, 2 and 1 lanes (those below LANES are used), each a constant of its own so
  // that C2 knows the shuffle's class and keeps the vectors in registers.
  private static final VectorShuffle<Float> ROT8 = rotation(8);
  private static final VectorShuffle<Float> ROT4 = rotation(4);
  private static final VectorShuffle<Float> ROT2 = rotation(2);
  private static final VectorShuffle<Float> ROT1 = rotation(1);

  private static VectorShuffle<Float> rotation(int by) {
    return VectorShuffle.fromOp(SPECIES, j -> (j + by) % LANES);
  }

  /**
   * a[from + i] = exp(a[from + i] - shift) for i < len (a multiple of LANES) when {@code store},
   * and returns the sum of those values: the exp pass of softmax and of attention's online softmax.
   * The sum adds lane-wise, then the lanes in a fixed tree (lanes LANES/2 apart first), since
   * {@code reduceLanes(ADD)} adds in another order once C2 compiles it than interpreted.
   *
   * <p>The body of {@link #exp(FloatVector)} is written out in the loop, on purpose: called per
   * vector from a kernel, C2 sometimes declines to inline it (the callee is large, the caller has
   * many nodes) and then boxes every vector that crosses the call (25 KB per attention call, caught
   * by SteadyStateTest). Only scalars cross this method's boundary. Same operations in the same
   * order as exp, so the same bits.
   */
  static float expShiftedSum(float[] a, int from, int len, float shift, boolean store) {
    FloatVector sv = FloatVector.broadcast(SPECIES, shift);
    FloatVector acc = FloatVector.zero(SPECIES);
    for (int i = from; i < from + len; i += LANES) {
      FloatVector c = FloatVector.fromArray(SPECIES, a, i).sub(sv).min(EXP_HI).max(EXP_LO);
      FloatVector t = c.fma(LOG2E, ROUNDER);
      FloatVector n = t.sub(ROUNDER);
      FloatVector r = n.fma(bc(-LN2_HI), c);
      r = n.fma(bc(-LN2_LO), r);
      FloatVector p = r.fma(C7, C6);
      p = p.fma(r, bc(C5));
      p = p.fma(r, bc(C4));
      p = p.fma(r, bc(C3));
      p = p.fma(r, bc(C2));
      p = p.fma(r, bc(1f));
      p = p.fma(r, bc(1f));
      IntVector ni = ((IntVector) t.reinterpretAsInts()).sub(ROUNDER_BITS);
      IntVector n1 = ni.lanewise(VectorOperators.ASHR, 1);
      IntVector n2 = ni.sub(n1);
      FloatVector s1 = n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
      FloatVector s2 = n2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
      FloatVector e = p.mul(s1).mul(s2);
      if (store) e.intoArray(a, i);
      acc = acc.add(e);
    }
    if (LANES > 16) throw new AssertionError("VectorMath: more than 16 lanes");
    if (LANES == 16) acc = acc.add(acc.rearrange(ROT8));
    if (LANES >= 8) acc = acc.add(acc.rearrange(ROT4));
    if (LANES >= 4) acc = acc.add(acc.rearrange(ROT2));
    return acc.add(acc.rearrange(ROT1)).lane(0);
  }

  /** The same operations as {@link #exp(FloatVector)} on one float: the same bits. */
  static float exp(float x) {
    float c = Math.max(Math.min(x, EXP_HI), EXP_LO);
    float t = Math.fma(c, LOG2E, ROUNDER);
    float n = t - ROUNDER;
    float r = Math.fma(n, -LN2_HI, c);
    r = Math.fma(n, -LN2_LO, r);
    float p = Math.fma(r, C7, C6);
    p = Math.fma(p, r, C5);
    p = Math.fma(p, r, C4);
    p = Math.fma(p, r, C3);
    p = Math.fma(p, r, C2);
    p = Math.fma(p, r, 1f);
    p = Math.fma(p, r, 1f);
    int ni = Float.floatToRawIntBits(t) - ROUNDER_BITS;
    int n1 = ni >> 1, n2 = ni - n1;
    return p * Float.intBitsToFloat((n1 + 127) << 23) * Float.intBitsToFloat((n2 + 127) << 23);
  }

  private static FloatVector bc(float v) {
    return FloatVector.broadcast(SPECIES, v);
  }

  static FloatVector exp(FloatVector x) {
    FloatVector c = x.min(EXP_HI).max(EXP_LO); // NaN stays NaN
    FloatVector t = c.fma(LOG2E, ROUNDER);
    FloatVector n = t.sub(ROUNDER);
    FloatVector r = n.fma(bc(-LN2_HI), c);
    r = n.fma(bc(-LN2_LO), r);
    FloatVector p = r.fma(C7, C6);
    p = p.fma(r, bc(C5));
    p = p.fma(r, bc(C4));
    p = p.fma(r, bc(C3));
    p = p.fma(r, bc(C2));
    p = p.fma(r, bc(1f));
    p = p.fma(r, bc(1f));
    IntVector ni = ((IntVector) t.reinterpretAsInts()).sub(ROUNDER_BITS);
    IntVector n1 = ni.lanewise(VectorOperators.ASHR, 1);
    IntVector n2 = ni.sub(n1);
    FloatVector s1 = n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    FloatVector s2 = n2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    return p.mul(s1).mul(s2);
  }

  /**
   * tanh(x) = sign(x)·(1 - 2/(e^{2|x|} + 1)) from |x| = 0.55 on; below, where that form cancels,
   * the odd Taylor series to x^17 (truncation below 2^-25 relative at 0.55).
   */
  static FloatVector tanh(FloatVector x) {
    FloatVector a = x.abs();
    FloatVector big = exp(a.add(a)).add(1f);
    big = FloatVector.broadcast(SPECIES, 1f).sub(FloatVector.broadcast(SPECIES, 2f).div(big));
    big = big.blend(big.neg(), x.compare(VectorOperators.LT, 0f));
    FloatVector z = x.mul(x);
    // tanh x = x + x·z·Q(z): the series' coefficients of x^3 .. x^17, highest first.
    FloatVector q = z.fma(5.9002744e-4f, -1.4558344e-3f);
    q = q.fma(z, bc(3.5921280e-3f));
    q = q.fma(z, bc(-8.8632355e-3f));
    q = q.fma(z, bc(2.1869488e-2f));
    q = q.fma(z, bc(-5.3968254e-2f));
    q = q.fma(z, bc(1.3333334e-1f));
    q = q.fma(z, bc(-3.3333334e-1f));
    FloatVector small = x.fma(z.mul(q), x);
    VectorMask<Float> useSmall = a.compare(VectorOperators.LT, 0.55f);
    // ±0 gives itself: x + x·(z·Q) would round -0 to +0.
    return big.blend(small, useSmall).blend(x, x.compare(VectorOperators.EQ, 0f));
  }

  /**
   * e^x - 1: for |x| < 1.1 its Taylor series to x^14 (no cancellation; truncation below 2^-37),
   * beyond it exp(x) - 1, whose rounding then costs at most one more ulp.
   */
  static FloatVector expm1(FloatVector x) {
    FloatVector q = x.fma(1.147074536050896e-11f, 1.6059044372074283e-10f); // 1/14!, 1/13!
    q = q.fma(x, bc(2.0876755879584152e-09f));
    q = q.fma(x, bc(2.5052107943679403e-08f));
    q = q.fma(x, bc(2.755731998149713e-07f));
    q = q.fma(x, bc(2.7557318844628753e-06f));
    q = q.fma(x, bc(2.4801587642286904e-05f));
    q = q.fma(x, bc(0.00019841270113829523f));
    q = q.fma(x, bc(0.0013888889225199819f));
    q = q.fma(x, bc(0.008333333767950535f));
    q = q.fma(x, bc(0.0416666679084301f));
    q = q.fma(x, bc(0.1666666716337204f));
    q = q.fma(x, bc(C2));
    FloatVector small = x.mul(x).fma(q, x);
    FloatVector big = exp(x).sub(1f);
    return big.blend(small, x.abs().compare(VectorOperators.LT, 1.1f));
  }

  /**
   * log(1 + x) for x ≥ 0 (what softplus asks for: x = e^{-|y|} in (0, 1]). u = 1 + x rounded,
   * log(u) from u = m·2^e with m in [√½, √2) and the series in s = (m - 1)/(m + 1) (|s| ≤ 0.172,
   * terms to s^11), plus the rounding error of u, (x - (u - 1))/u, as a first-order correction.
   * Negative x, NaN: NaN; +inf: inf.
   */
  static FloatVector log1p(FloatVector x) {
    FloatVector u = x.add(1f);
    IntVector bits = (IntVector) u.reinterpretAsInts();
    // Move m into [√½, √2): subtract the exponent of u / √2's binade from u's bits.
    IntVector k = bits.sub(0x3F3504F3).lanewise(VectorOperators.ASHR, 23);
    FloatVector m = bits.sub(k.lanewise(VectorOperators.LSHL, 23)).reinterpretAsFloats();
    FloatVector s = m.sub(1f).div(m.add(1f));
    FloatVector s2 = s.mul(s);
    FloatVector q = s2.fma(2f / 11, 2f / 9);
    q = q.fma(s2, bc(2f / 7));
    q = q.fma(s2, bc(2f / 5));
    q = q.fma(s2, bc(2f / 3));
    q = q.fma(s2, bc(2f));
    FloatVector logm = s.mul(q);
    FloatVector kf = (FloatVector) k.convert(VectorOperators.I2F, 0);
    FloatVector corr = x.sub(u.sub(1f)).div(u);
    FloatVector r = kf.fma(bc(LN2_LO), corr).add(logm);
    r = kf.fma(bc(LN2_HI), r);
    // Tiny x: u = 1 exactly and the sum above is x itself through corr. Special inputs.
    r = r.blend(x, x.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY));
    return r.blend(Float.NaN, x.compare(VectorOperators.LT, 0f).or(x.test(VectorOperators.IS_NAN)));
  }
}
