package io.github.seqkernels;

import io.github.seqkernels.reference.ScalarReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every backend against the float64 control on the grid: B in {1,3}, (Hq,Hkv) in
 * {(1,1),(4,4),(8,2)}, Sq and Sk in {1,7,64,97,1025}, D in {1,5,32,64,80,128}, each mask kind,
 * every causal alignment and both layouts. Every (Sq, Sk, D) triple runs; the other axes rotate
 * through their values so each one meets every size, and the cost of the control stays bounded by
 * shrinking batch and heads on the largest shapes.
 */
class AttentionGridTest extends CpuBackendTest {
  enum MaskKind {
    NONE,
    KEY_LENGTHS,
    KEEP,
    BLOCK,
    BIAS,
    BIAS_AND_KEEP,
    ALL
  }

  record Case(
      int b,
      int hq,
      int hkv,
      int sq,
      int sk,
      int d,
      int dv,
      MaskKind mask,
      Causal causal,
      boolean bshd,
      boolean hard) {
    @Override
    public String toString() {
      return "B"
          + b
          + " Hq"
          + hq
          + " Hkv"
          + hkv
          + " Sq"
          + sq
          + " Sk"
          + sk
          + " D"
          + d
          + " Dv"
          + dv
          + " "
          + mask
          + " "
          + causal
          + (bshd ? " BSHD" : " BHSD")
          + (hard ? " hard" : "");
    }
  }

  static Stream<Case> grid() {
    int[] sizes = {1, 7, 64, 97, 1025};
    int[] dims = {1, 5, 32, 64, 80, 128};
    int[][] heads = {{1, 1}, {4, 4}, {8, 2}};
    MaskKind[] masks = MaskKind.values();
    Causal[] causals = Causal.values();
    List<Case> cases = new ArrayList<>();
    int n = 0;
    for (int sq : sizes) {
      for (int sk : sizes) {
        for (int d : dims) {
          int b = 1 + 2 * (n % 2);
          int[] hh = heads[n % 3];
          // Keep the control's work (B·Hq·Sq·Sk·(D+Dv)) near 10^8 multiply-adds per case.
          long work = (long) sq * sk * (2L * d);
          if (work * b * hh[0] > 200_000_000L) b = 1;
          if (work * b * hh[0] > 200_000_000L) hh = heads[0];
          int dv = n % 4 == 3 ? d + 3 : d;
          cases.add(
              new Case(
                  b,
                  hh[0],
                  hh[1],
                  sq,
                  sk,
                  d,
                  dv,
                  masks[n % masks.length],
                  causals[(n / 2) % 3],
                  n % 5 < 2,
                  n % 11 == 7));
          n++;
        }
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("grid")
  void matchesControl(Case c) {
    Random r = Check.random(c.toString().hashCode());
    Tensor q = tensor(r, c.b, c.hq, c.sq, c.d, c.bshd);
    Tensor k = tensor(r, c.b, c.hkv, c.sk, c.d, c.bshd);
    Tensor v = tensor(r, c.b, c.hkv, c.sk, c.dv, c.bshd);
    AttentionOptions o = options(r, c);
    Tensor out = tensor(null, c.b, c.hq, c.sq, c.dv, c.bshd);
    Tensor lse = Tensor.wrap(new float[c.b * c.hq * c.sq], c.b, c.hq, c.sq);
    boolean withWeights = (long) c.b * c.hq * c.sq * c.sk <= 2_000_000;
    Tensor weights =
        withWeights
            ? Tensor.wrap(new float[c.b * c.hq * c.sq * c.sk], c.b, c.hq, c.sq, c.sk)
            : null;

    backend.attention().forward(q, k, v, o, out, lse, weights);

    ScalarReference.AttentionResult ref = ScalarReference.attention(q, k, v, o);
    Check.close(c + " out", ref.out(), out.toArray());
    Check.close(c + " lse", ref.lse(), lse.toArray());
    if (withWeights) Check.close(c + " weights", ref.weights(), weights.toArray());
  }

  /**
   * NaN and infinity in keys and values that are blocked (by the mask for every query, past the key
   * length, or by the causal rule for some queries) never reach the output; a value that is allowed
   * for some rows poisons exactly those rows, as the control says.
   */
  @ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.EnumSource(Causal.class)
  void poisonedBlockedKeysDoNotLeak(Causal causal) {
    int b = 2, h = 2, sq = 70, sk = 150, d = 16;
    Random r = Check.random(77 + causal.ordinal());
    float[] kd = Check.gaussian(r, b * h * sk * d, 1), vd = Check.gaussian(r, b * h * sk * d, 1);
    boolean[] keep = new boolean[b * sk];
    int[] lengths = {150, 120};
    for (int bi = 0; bi < b; bi++) {
      for (int j = 0; j < sk; j++) {
        keep[bi * sk + j] = j % 3 != 1;
        boolean blocked = !keep[bi * sk + j] || j >= lengths[bi];
        if (!blocked && !(causal == Causal.NONE || j > sq / 2)) continue;
        if (!blocked && j != sk - 2) continue; // one causally-blocked poisoned key only
        for (int hh = 0; hh < h; hh++) {
          int row = ((bi * h + hh) * sk + j) * d;
          kd[row + j % d] = Float.NaN;
          vd[row + (j + 1) % d] = j % 2 == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        }
      }
    }
    Tensor q = Tensor.wrap(Check.gaussian(r, b * h * sq * d, 1), b, h, sq, d);
    Tensor k = Tensor.wrap(kd, b, h, sk, d), v = Tensor.wrap(vd, b, h, sk, d);
    AttentionOptions o =
        AttentionOptions.defaults()
            .withCausal(causal)
            .withMask(Mask.keep(keep, b, 1, 1, sk))
            .withKeyLengths(lengths);
    Tensor out = Tensor.allocate(b, h, sq, d);
    backend.attention().forward(q, k, v, o, out);
    double[] ref = ScalarReference.attention(q, k, v, o).out();
    Check.close("poisoned " + causal, ref, out.toArray());
  }

  /** A [B,H,S,D] tensor, stored either as [B,H,S,D] or as a [B,S,H,D] buffer viewed permuted. */
  static Tensor tensor(Random r, int b, int h, int s, int d, boolean bshd) {
    float[] data = r == null ? new float[b * h * s * d] : Check.gaussian(r, b * h * s * d, 1.0);
    if (!bshd) return Tensor.wrap(data, b, h, s, d);
    return Tensor.wrap(data, b, s, h, d).permute(0, 2, 1, 3);
  }

  static AttentionOptions options(Random r, Case c) {
    AttentionOptions o = AttentionOptions.defaults().withCausal(c.causal).withHard(c.hard);
    boolean lengths = c.mask == MaskKind.KEY_LENGTHS || c.mask == MaskKind.ALL;
    boolean keep =
        c.mask == MaskKind.KEEP || c.mask == MaskKind.BIAS_AND_KEEP || c.mask == MaskKind.ALL;
    boolean bias =
        c.mask == MaskKind.BIAS || c.mask == MaskKind.BIAS_AND_KEEP || c.mask == MaskKind.ALL;
    if (lengths) {
      int[] len = new int[c.b];
      for (int i = 0; i < c.b; i++) len[i] = i == 0 ? c.sk : r.nextInt(c.sk + 1); // 0 included
      o = o.withKeyLengths(len);
    }
    if (keep || c.mask == MaskKind.BLOCK) {
      // Broadcast shapes: [Sq, Sk] shared by batch and heads, or [B, 1, 1, Sk] padding-style.
      long[] shape =
          (c.sq + c.sk) % 2 == 0 ? new long[] {c.sq, c.sk} : new long[] {c.b, 1, 1, c.sk};
      boolean[] m = new boolean[(int) Tensor.numel(shape)];
      for (int i = 0; i < m.length; i++) m[i] = r.nextInt(4) != 0; // ~1/4 blocked
      o = o.withMask(keep ? Mask.keep(m, shape) : Mask.block(flip(m), shape));
    }
    if (bias) {
      // [B, Hq, Sq, Sk] or [Hq, 1, Sk] broadcast, values up to a few units like ALiBi/relative.
      long[] shape =
          c.hq % 2 == 0 ? new long[] {c.hq, 1, c.sk} : new long[] {c.b, c.hq, c.sq, c.sk};
      o = o.withBias(Tensor.wrap(Check.gaussian(r, (int) Tensor.numel(shape), 2.0), shape));
    }
    return o;
  }

  private static boolean[] flip(boolean[] m) {
    boolean[] f = new boolean[m.length];
    for (int i = 0; i < m.length; i++) f[i] = !m[i];
    return f;
  }
}
