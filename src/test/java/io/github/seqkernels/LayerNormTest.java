package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.seqkernels.reference.ScalarTransformer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * LayerNormOp against the float64 control: row lengths across the vector widths and their tails,
 * with and without residual and bias, contiguous and reversed (no unit stride) layouts, in place on
 * x and on residual, BERT's epsilon 1e-12 and the usual 1e-5, rows of constant value.
 */
class LayerNormTest extends CpuBackendTest {
  static final int[] E = {1, 2, 3, 7, 8, 17, 33, 130, 384, 1025};
  static final int[] ROWS = {1, 5, 33};

  record Case(int rows, int e, boolean residual, boolean bias, boolean reversed, float eps) {}

  static Stream<Case> grid() {
    List<Case> cases = new ArrayList<>();
    int i = 0;
    for (int e : E) {
      for (int rows : ROWS) {
        for (int combo = 0; combo < 4; combo++, i++) {
          cases.add(
              new Case(
                  rows,
                  e,
                  (combo & 1) != 0,
                  (combo & 2) != 0,
                  i % 3 == 1,
                  i % 2 == 0 ? 1e-12f : 1e-5f));
        }
      }
    }
    return cases.stream();
  }

  /*
   * Tolerance 1e-5 + 1e-4·|ref|: the result is O(1) (normalised, then scale ~1 and bias ~1), a
   * float32 mean and variance over up to ~1000 values carry relative errors of a few 1e-7, far
   * below; a wrong mean, a biased/unbiased mix-up (a factor E/(E-1)) or a lost residual is far
   * above for every E here but 1 (where the normalised row is 0 and only bias remains).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("grid")
  void matchesControl(Case c) {
    Random r = Check.random(31L * c.e + c.rows + (c.residual ? 7 : 0) + (c.bias ? 13 : 0));
    long[] shape = c.rows == 5 ? new long[] {5, 1, c.e} : new long[] {c.rows, c.e};
    int n = c.rows * c.e;
    Tensor x = layout(Check.gaussian(r, n, 2), shape, c.reversed);
    // An offset on the residual (mean 3) makes a lost or double-counted residual visible.
    float[] rd = Check.gaussian(r, n, 1);
    for (int i = 0; i < n; i++) rd[i] += 3;
    Tensor res = c.residual ? layout(rd, shape, !c.reversed) : null;
    Tensor scale = Tensor.wrap(Check.gaussian(r, c.e, 1), c.e);
    Tensor bias = c.bias ? Tensor.wrap(Check.gaussian(r, c.e, 1), c.e) : null;
    Tensor y = c.reversed ? Check.reversed(new float[n], shape) : Tensor.allocate(shape);
    backend.layerNorm().forward(x, res, scale, bias, c.eps, y);
    double[] want = ScalarTransformer.layerNorm(x, res, scale, bias, c.eps);
    Check.close(c.toString(), want, y.toArray());
  }

  @Test
  void inPlaceOnXAndOnResidual() {
    Random r = Check.random(5);
    int rows = 9, e = 130;
    Tensor scale = Tensor.wrap(Check.gaussian(r, e, 1), e);
    Tensor bias = Tensor.wrap(Check.gaussian(r, e, 1), e);
    float[] xd = Check.gaussian(r, rows * e, 1), rd = Check.gaussian(r, rows * e, 1);
    double[] want =
        ScalarTransformer.layerNorm(
            Tensor.wrap(xd, rows, e), Tensor.wrap(rd, rows, e), scale, bias, 1e-5);

    Tensor x = Tensor.wrap(xd.clone(), rows, e), res = Tensor.wrap(rd.clone(), rows, e);
    backend.layerNorm().forward(x, res, scale, bias, 1e-5f, x);
    Check.close("y == x", want, x.toArray());

    x = Check.reversed(xd, rows, e);
    res = Check.reversed(rd, rows, e);
    backend.layerNorm().forward(x, res, scale, bias, 1e-5f, res);
    Check.close("y == residual, reversed", want, res.toArray());
  }

  /**
   * A constant row has variance 0: with BERT's epsilon 1e-12, the normalised row must be exactly 0
   * (y = bias), not rounding noise divided by sqrt(1e-12) (a mean off by one ulp would give
   * deviations ~1e-8 and y ~1e-2 off).
   */
  @Test
  void constantRowsGiveTheBias() {
    for (int e : new int[] {1, 7, 384, 1025}) {
      float[] x = new float[3 * e];
      for (int i = 0; i < x.length; i++) x[i] = i < e ? 0.1f : i < 2 * e ? -7.3f : 1e6f / 3;
      Tensor scale = Tensor.wrap(Check.gaussian(Check.random(e), e, 1), e);
      float[] b = Check.gaussian(Check.random(e + 1), e, 1);
      Tensor y = Tensor.allocate(3, e);
      backend.layerNorm().forward(Tensor.wrap(x, 3, e), scale, Tensor.wrap(b, e), 1e-12f, y);
      float[] got = y.toArray();
      for (int i = 0; i < got.length; i++)
        assertEquals(b[i % e], got[i], "e=" + e + " [" + i + "]");
    }
  }

  @Test
  void emptyTensorsAreANoOp() {
    Tensor s = Tensor.wrap(new float[4], 4);
    backend.layerNorm().forward(Tensor.allocate(0, 4), s, null, 1e-5f, Tensor.allocate(0, 4));
    Tensor s0 = Tensor.allocate(0);
    backend.layerNorm().forward(Tensor.allocate(3, 0), s0, null, 1e-5f, Tensor.allocate(3, 0));
  }

  static Tensor layout(float[] data, long[] shape, boolean reversed) {
    return reversed ? Check.reversed(data, shape) : Tensor.wrap(data, shape);
  }
}
