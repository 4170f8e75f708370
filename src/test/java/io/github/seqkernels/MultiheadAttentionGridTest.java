package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.seqkernels.nn.MultiheadAttention;
import io.github.seqkernels.nn.MultiheadAttentionOptions;
import io.github.seqkernels.reference.ScalarNn;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * MultiheadAttention against the float64 control (ScalarNn) on an awkward grid: heads 1, 2, 3; B =
 * 1, 3; Sq != Sk; the three projection paths (self, shared key/value, separate with kdim and vdim
 * != E); every mask option, fully hidden rows among them; strided inputs and weights.
 */
class MultiheadAttentionGridTest extends CpuBackendTest {
  enum Kind {
    SELF,
    SHARED_KV,
    SEPARATE
  }

  /** A [B, S, n] tensor as a strided view of a [S, B, n] buffer (not contiguous). */
  static Tensor strided(Random r, int b, int s, int n) {
    return Tensor.wrap(Check.gaussian(r, s * b * n, 1), s, b, n).permute(1, 0, 2);
  }

  static Tensor matrix(Random r, int rows, int cols, double std) {
    return Tensor.wrap(Check.gaussian(r, rows * cols, std), rows, cols);
  }

  static MultiheadAttentionOptions options(Random r, int option, int b, int h, int sq, int sk) {
    MultiheadAttentionOptions o = MultiheadAttentionOptions.none();
    boolean[] pad = new boolean[b * sk];
    for (int i = 0; i < pad.length; i++) pad[i] = r.nextInt(3) == 0;
    if (b > 1) java.util.Arrays.fill(pad, sk, 2 * sk, true); // batch entry 1: every key hidden
    int[] lengths = new int[b];
    for (int i = 0; i < b; i++) lengths[i] = i == 1 ? 0 : 1 + r.nextInt(sk);
    boolean[] attn = new boolean[b * h * sq * sk];
    for (int i = 0; i < attn.length; i++) attn[i] = r.nextInt(4) == 0;
    return switch (option) {
      case 0 -> o;
      case 1 -> o.withKeyPaddingMask(pad, b, sk);
      case 2 -> o.withKeyLengths(lengths).withCausal(true);
      case 3 -> o.withAttnMask(Mask.block(attn, b * h, sq, sk));
      // the bool attn_mask turned into a -inf bias beside the padding mask
      case 4 -> o.withAttnMask(Mask.block(attn, b * h, sq, sk)).withKeyPaddingMask(pad, b, sk);
      case 5 -> o.withAttnMask(matrix(r, sq, sk, 2)).withKeyLengths(lengths);
      default -> throw new AssertionError(option);
    };
  }

  @Test
  void matchesTheFloat64ControlOnTheGrid() {
    Random r = Check.random(71);
    int cases = 0;
    for (int heads : new int[] {1, 2, 3}) {
      for (int d : new int[] {1, 5}) {
        int e = heads * d;
        for (int b : new int[] {1, 3}) {
          for (int[] s : new int[][] {{1, 7}, {5, 3}, {17, 17}}) {
            for (Kind kind : Kind.values()) {
              int sq = s[0], sk = kind == Kind.SELF ? s[0] : s[1];
              for (int option = 0; option < 6; option++) {
                check(r, kind, heads, e, b, sq, sk, option);
                cases++;
              }
            }
          }
        }
      }
    }
    assertEquals(3 * 2 * 2 * 3 * 3 * 6, cases);
  }

  void check(Random r, Kind kind, int heads, int e, int b, int sq, int sk, int option) {
    int kdim = kind == Kind.SEPARATE ? 4 : e, vdim = kind == Kind.SEPARATE ? 7 : e;
    Tensor query = strided(r, b, sq, e);
    Tensor key = kind == Kind.SELF ? query : strided(r, b, sk, kdim);
    Tensor value = kind == Kind.SEPARATE ? strided(r, b, sk, vdim) : key;
    double std = 1 / Math.sqrt(e);
    Tensor wo = matrix(r, e, e, std), bo = Tensor.wrap(Check.gaussian(r, e, 0.1), e);
    MultiheadAttention m;
    Tensor wq, bq, wk, bk, wv, bv;
    if (kind == Kind.SEPARATE) {
      wq = matrix(r, e, e, std);
      wk = matrix(r, e, kdim, std);
      wv = matrix(r, e, vdim, std);
      bq = Tensor.wrap(Check.gaussian(r, e, 0.1), e);
      bk = null; // a missing bias
      bv = Tensor.wrap(Check.gaussian(r, e, 0.1), e);
      m = MultiheadAttention.separate(backend, heads, wq, bq, wk, bk, wv, bv, wo, bo);
    } else {
      // in_proj_weight [3E, E] as the transposed view of an [E, 3E] buffer
      Tensor inW = matrix(r, e, 3 * e, std).permute(1, 0);
      Tensor inB = Tensor.wrap(Check.gaussian(r, 3 * e, 0.1), 3 * e);
      m = MultiheadAttention.packed(backend, heads, inW, inB, wo, bo);
      wq = rows(inW, 0, e);
      wk = rows(inW, e, e);
      wv = rows(inW, 2 * e, e);
      bq = rows(inB, 0, e);
      bk = rows(inB, e, e);
      bv = rows(inB, 2 * e, e);
    }
    MultiheadAttentionOptions o = options(r, option, b, heads, sq, sk);
    ScalarNn.MhaResult ref =
        ScalarNn.multiheadAttention(query, key, value, heads, wq, bq, wk, bk, wv, bv, wo, bo, o);
    String what =
        kind + " H=" + heads + " E=" + e + " B=" + b + " Sq=" + sq + " Sk=" + sk + " " + o;
    try (m) {
      // out and the mean weights strided ([Sq, B, ...] buffers), per-head weights contiguous
      Tensor out = Tensor.allocate(sq, b, e).permute(1, 0, 2);
      Tensor mean = Tensor.allocate(sq, b, sk).permute(1, 0, 2);
      Tensor perHead = Tensor.allocate(b, heads, sq, sk);
      m.forward(query, key, value, o, out, mean);
      Check.close(what + " out", ref.out(), out.toArray());
      Check.close(what + " mean weights", ref.meanWeights(), mean.toArray());
      m.forward(query, key, value, o, out, perHead);
      Check.close(what + " out (2nd call)", ref.out(), out.toArray());
      Check.close(what + " weights", ref.weights(), perHead.toArray());
      m.forward(query, key, value, o, out);
      Check.close(what + " out (no weights)", ref.out(), out.toArray());
    }
  }

  static Tensor rows(Tensor t, long from, long n) {
    long[] shape = t.shape();
    shape[0] = n;
    return Tensor.view(t.segment(), t.offset() + from * t.stride(0), shape, t.strides());
  }

  @Test
  void fullyHiddenRowsGiveTheOutputBiasAndZeroWeights() {
    Random r = Check.random(72);
    int e = 6, heads = 2;
    Tensor x = Tensor.wrap(Check.gaussian(r, 2 * 3 * e, 1), 2, 3, e);
    Tensor inW = matrix(r, 3 * e, e, 0.5), wo = matrix(r, e, e, 0.5);
    Tensor bo = Tensor.wrap(Check.gaussian(r, e, 1), e);
    try (MultiheadAttention m = MultiheadAttention.packed(backend, heads, inW, null, wo, bo)) {
      Tensor out = Tensor.allocate(2, 3, e), w = Tensor.allocate(2, 3, 3);
      m.forward(x, x, x, MultiheadAttentionOptions.none().withKeyLengths(3, 0), out, w);
      for (int i = 0; i < 3; i++) {
        for (int c = 0; c < e; c++) assertEquals(bo.get(c), out.get(1, i, c), 0f);
        for (int j = 0; j < 3; j++) assertEquals(0f, w.get(1, i, j));
      }
    }
  }

  @Test
  void badInputIsRefusedWithTheRuleAndTheValue() {
    Random r = Check.random(73);
    Tensor w10 = matrix(r, 30, 10, 1), o10 = matrix(r, 10, 10, 1);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> MultiheadAttention.packed(backend, 3, w10, null, o10, null));
    assertEquals("heads: embed_dim 10 must be divisible by heads, got heads = 3", e.getMessage());
    try (MultiheadAttention m = MultiheadAttention.packed(backend, 2, w10, null, o10, null)) {
      Tensor x = Tensor.allocate(2, 4, 10), out = Tensor.allocate(2, 4, 10);
      Tensor bad = Tensor.allocate(2, 4, 9);
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> m.forward(bad, bad, bad, MultiheadAttentionOptions.none(), out));
      assertTrue(e.getMessage().startsWith("query: shape must be [B, Sq, E]"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  m.forward(
                      x,
                      x,
                      x,
                      MultiheadAttentionOptions.none().withKeyPaddingMask(new boolean[8], 4, 2),
                      out));
      assertEquals("keyPaddingMask: shape must be [B, Sk] = [2, 4], got [4, 2]", e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> m.forward(x, x, x, MultiheadAttentionOptions.none().withKeyLengths(4, 5), out));
      assertEquals("keyLengths[1] = 5 must be in [0, Sk = 4]", e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  m.forward(
                      x, x, x, MultiheadAttentionOptions.none(), out, Tensor.allocate(2, 3, 4, 4)));
      assertTrue(e.getMessage().startsWith("weights: shape must be [B, Sq, Sk]"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  m.forward(
                      x,
                      x,
                      x,
                      MultiheadAttentionOptions.none().withAttnMask(Tensor.allocate(3, 4, 4)),
                      out));
      assertTrue(e.getMessage().startsWith("attnMask: shape must be"), e.getMessage());
    }
  }
}
