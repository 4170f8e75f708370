package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.seqkernels.nn.AdditiveAttention;
import io.github.seqkernels.nn.MultiheadAttentionOptions;
import io.github.seqkernels.nn.MultiplicativeAttention;
import io.github.seqkernels.reference.ScalarNn;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Bahdanau (additive) and Luong (multiplicative) attention against the float64 control on an
 * awkward grid, and against the torch definitions in make_transformer.py.
 */
class SingleHeadAttentionTest extends CpuBackendTest {
  static final int DQ = 3, DK = 5, DV = 4;

  static Tensor vector(Random r, int n, double std) {
    return Tensor.wrap(Check.gaussian(r, n, std), n);
  }

  @Test
  void matchTheFloat64ControlOnTheGrid() {
    Random r = Check.random(81);
    int cases = 0;
    for (int b : new int[] {1, 3}) {
      // {Sq, Sk, A}: the last one is bigger than a tanh chunk, so it runs in row chunks
      for (int[] s : new int[][] {{1, 7, 6}, {5, 3, 1}, {17, 17, 13}, {40, 50, 40}}) {
        int sq = s[0], sk = s[1], a = s[2];
        Tensor query = MultiheadAttentionGridTest.strided(r, b, sq, DQ);
        Tensor key = MultiheadAttentionGridTest.strided(r, b, sk, DK);
        Tensor value = MultiheadAttentionGridTest.strided(r, b, sk, DV);
        Tensor wq = MultiheadAttentionGridTest.matrix(r, a, DQ, 0.6);
        Tensor wk = MultiheadAttentionGridTest.matrix(r, DK, a, 0.6).permute(1, 0);
        Tensor bias = a == 1 ? null : vector(r, a, 0.5), v = vector(r, a, 1);
        Tensor w = MultiheadAttentionGridTest.matrix(r, DQ, DK, 0.6);
        for (int option = 0; option < 6; option++) {
          MultiheadAttentionOptions o = MultiheadAttentionGridTest.options(r, option, b, 1, sq, sk);
          String what = "B=" + b + " Sq=" + sq + " Sk=" + sk + " A=" + a + " " + o;
          Tensor ctx = Tensor.allocate(sq, b, DV).permute(1, 0, 2);
          Tensor weights = Tensor.allocate(b, sq, sk);
          try (AdditiveAttention add = new AdditiveAttention(backend, wq, wk, bias, v)) {
            ScalarNn.Attended ref = ScalarNn.additive(query, key, value, wq, wk, bias, v, o);
            add.forward(query, key, value, o, ctx, weights);
            Check.close("additive " + what + " context", ref.context(), ctx.toArray());
            Check.close("additive " + what + " weights", ref.weights(), weights.toArray());
            add.forward(query, key, value, o, ctx);
            Check.close("additive " + what + " context (2nd)", ref.context(), ctx.toArray());
          }
          try (MultiplicativeAttention mul = new MultiplicativeAttention(backend, w, 0, 0.7f)) {
            ScalarNn.Attended ref = ScalarNn.multiplicative(query, key, value, w, 0.7f, o);
            mul.forward(query, key, value, o, ctx, weights);
            Check.close("luong " + what + " context", ref.context(), ctx.toArray());
            Check.close("luong " + what + " weights", ref.weights(), weights.toArray());
          }
          cases++;
        }
      }
    }
    assertEquals(2 * 4 * 6, cases);
  }

  @Test
  void dotFormIsTheIdentityWeight() {
    Random r = Check.random(82);
    Tensor q = Tensor.wrap(Check.gaussian(r, 2 * 3 * 4, 1), 2, 3, 4);
    Tensor k = Tensor.wrap(Check.gaussian(r, 2 * 5 * 4, 1), 2, 5, 4);
    Tensor v = Tensor.wrap(Check.gaussian(r, 2 * 5 * 2, 1), 2, 5, 2);
    float[] eye = new float[16];
    for (int i = 0; i < 4; i++) eye[i * 5] = 1;
    MultiheadAttentionOptions o = MultiheadAttentionOptions.none().withCausal(true);
    ScalarNn.Attended ref = ScalarNn.multiplicative(q, k, v, Tensor.wrap(eye, 4, 4), 0.5, o);
    try (MultiplicativeAttention dot = new MultiplicativeAttention(backend, null, 4, 0.5f)) {
      Tensor ctx = Tensor.allocate(2, 3, 2);
      dot.forward(q, k, v, o, ctx);
      Check.close("dot", ref.context(), ctx.toArray());
    }
  }

  @Test
  void matchTorchDefinitions() {
    // The npz holds float32 inputs and float64 results of the torch formulas.
    TransformerPytorchTest.readReferencesIfNeeded();
    Tensor q = TransformerPytorchTest.get("att.query"), k = TransformerPytorchTest.get("att.key");
    Tensor v = TransformerPytorchTest.get("att.value");
    MultiheadAttentionOptions pad =
        MultiheadAttentionOptions.none()
            .withKeyPaddingMask(TransformerPytorchTest.block("att.key_padding_mask"));
    Tensor ctx = Tensor.allocate(2, 5, 3), w = Tensor.allocate(2, 5, 7);
    try (AdditiveAttention add =
        new AdditiveAttention(
            backend,
            TransformerPytorchTest.get("att.w_query"),
            TransformerPytorchTest.get("att.w_key"),
            TransformerPytorchTest.get("att.bias"),
            TransformerPytorchTest.get("att.v"))) {
      add.forward(q, k, v, pad, ctx, w);
      TransformerPytorchTest.close(
          "additive context", TransformerPytorchTest.get("att.additive_context"), ctx);
      TransformerPytorchTest.close(
          "additive weights", TransformerPytorchTest.get("att.additive_weights"), w);
    }
    try (MultiplicativeAttention mul =
        new MultiplicativeAttention(backend, TransformerPytorchTest.get("att.w"))) {
      mul.forward(q, k, v, pad.withCausal(true), ctx, w);
      TransformerPytorchTest.close(
          "luong context", TransformerPytorchTest.get("att.luong_causal_context"), ctx);
      TransformerPytorchTest.close(
          "luong weights", TransformerPytorchTest.get("att.luong_causal_weights"), w);
    }
  }

  @Test
  void badShapesAreRefused() {
    Random r = Check.random(83);
    Tensor wq = MultiheadAttentionGridTest.matrix(r, 6, DQ, 1);
    Tensor wk = MultiheadAttentionGridTest.matrix(r, 5, DK, 1);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new AdditiveAttention(backend, wq, wk, null, vector(r, 6, 1)));
    assertEquals("wKey: shape must be [6, *], got [5, 5]", e.getMessage());
    try (MultiplicativeAttention mul =
        new MultiplicativeAttention(backend, MultiheadAttentionGridTest.matrix(r, DQ, DK, 1))) {
      Tensor q = Tensor.allocate(2, 3, DQ), k = Tensor.allocate(2, 4, DK);
      Tensor v = Tensor.allocate(2, 4, DV), ctx = Tensor.allocate(2, 3, DV + 1);
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> mul.forward(q, k, v, MultiheadAttentionOptions.none(), ctx));
      assertEquals("context: shape must be [B, Sq, Dv] = [2, 3, 4], got [2, 3, 5]", e.getMessage());
    }
  }
}
