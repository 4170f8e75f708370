package io.github.seqkernels;

import io.github.seqkernels.reference.ScalarTransformer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * ElementwiseOp against the float64 control: every activation (GELU in both forms among them) over
 * lengths that cross the vector widths and their tails, on reversed (no unit stride) layouts and in
 * place; the broadcasting add with every kind of broadcast shape.
 */
class ElementwiseTest extends CpuBackendTest {
  static final int[] LENGTHS = {1, 2, 3, 7, 8, 9, 17, 130, 1025, 40_000};

  /** Values over the range where the activations bend, plus far tails and exact zeros. */
  static float[] values(Random r, int n) {
    float[] a = Check.gaussian(r, n, 3);
    float[] special = {0f, -0f, 40f, -40f, 1e4f, -1e4f, 3e38f, -3e38f, 5.5f, -5.5f, 1e-30f};
    for (int i = 0; i < Math.min(n, special.length); i++) a[(i * 7919) % n] = special[i];
    return a;
  }

  static Activation withParams(Activation.Kind k) {
    Activation a = Activation.of(k.onnxName());
    // Parameters away from the defaults, so a swapped alpha / beta shows.
    return switch (k) {
      case LEAKY_RELU, ELU, THRESHOLDED_RELU -> new Activation(k, 0.7f, 0f);
      case SCALED_TANH, AFFINE, HARD_SIGMOID -> new Activation(k, 0.3f, 0.6f);
      default -> a;
    };
  }

  /*
   * 1e-6 + 1e-5·|ref|: a float32 activation is within a few ulps of the exact value (relative
   * ~1e-6 at worst for the polynomial / exp based ones); GELU's erf replaced by a cruder one (the
   * Abramowitz-Stegun form is 1.5e-7 absolute) would still pass, but a wrong form (tanh for erf,
   * erf(x) for erf(x/√2)) differs by 1e-4 or more near |x| ~ 2.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(Activation.Kind.class)
  void everyActivationMatchesControl(Activation.Kind kind) {
    Activation f = withParams(kind);
    for (int n : LENGTHS) {
      Random r = Check.random(kind.ordinal() * 100_003L + n);
      float[] data = values(r, n);
      Tensor x = Tensor.wrap(data.clone(), n);
      Tensor y = Tensor.allocate(n);
      backend.elementwise().apply(x, f, y);
      double[] want = ScalarTransformer.apply(x, f);
      Check.close(kind + " n=" + n, want, y.toArray(), 1e-6, 1e-5);

      // In place, contiguous, and on a reversed [3, n] layout.
      backend.elementwise().apply(x, f, x);
      Check.close(kind + " in place n=" + n, want, x.toArray(), 1e-6, 1e-5);
      float[] d3 = values(r, 3 * n);
      Tensor x3 = Check.reversed(d3, 3, n);
      double[] want3 = ScalarTransformer.apply(x3, f);
      Tensor y3 = Check.reversed(new float[3 * n], 3, n);
      backend.elementwise().apply(x3, f, y3);
      Check.close(kind + " reversed 3x" + n, want3, y3.toArray(), 1e-6, 1e-5);
    }
  }

  @Test
  void addBroadcastsEveryWay() {
    Random r = Check.random(77);
    long[] shape = {2, 3, 5, 17};
    int n = 2 * 3 * 5 * 17;
    long[][] bShapes = {
      {}, {1}, {17}, {5, 1}, {5, 17}, {3, 1, 1}, {1, 3, 1, 17}, {2, 1, 5, 1}, {2, 3, 5, 17}
    };
    for (long[] bs : bShapes) {
      for (boolean reversed : new boolean[] {false, true}) {
        float[] ad = Check.gaussian(r, n, 1);
        float[] bd = Check.gaussian(r, (int) Tensor.numel(bs), 1);
        Tensor a = reversed ? Check.reversed(ad, shape) : Tensor.wrap(ad, shape);
        Tensor b = reversed && bs.length > 1 ? Check.reversed(bd, bs) : Tensor.wrap(bd, bs);
        Tensor y = reversed ? Check.reversed(new float[n], shape) : Tensor.allocate(shape);
        String what = java.util.Arrays.toString(bs) + (reversed ? " reversed" : "");
        double[] want = ScalarTransformer.add(a, b);
        backend.elementwise().add(a, b, y);
        // Exact: one float32 addition of two floats, correctly rounded.
        Check.close(what, want, y.toArray(), 0, 0x1p-24);
        backend.elementwise().add(a, b, a); // in place
        Check.close(what + " in place", want, a.toArray(), 0, 0x1p-24);
      }
    }
  }

  /** The residual add of a Transformer block: [B, S, E] + [E] and + [B, S, E], long rows. */
  @Test
  void addTransformerShapes() {
    Random r = Check.random(78);
    int b = 3, s = 37, e = 384;
    Tensor a = Tensor.wrap(Check.gaussian(r, b * s * e, 1), b, s, e);
    for (long[] bs : new long[][] {{e}, {b, s, e}, {s, e}}) {
      Tensor bt = Tensor.wrap(Check.gaussian(r, (int) Tensor.numel(bs), 1), bs);
      Tensor y = Tensor.allocate(b, s, e);
      backend.elementwise().add(a, bt, y);
      Check.close(
          java.util.Arrays.toString(bs), ScalarTransformer.add(a, bt), y.toArray(), 0, 0x1p-24);
    }
  }

  @Test
  void emptyTensorsAreANoOp() {
    backend
        .elementwise()
        .apply(Tensor.allocate(0, 3), Activation.of("Gelu"), Tensor.allocate(0, 3));
    backend.elementwise().add(Tensor.allocate(4, 0), Tensor.allocate(1), Tensor.allocate(4, 0));
  }
}
