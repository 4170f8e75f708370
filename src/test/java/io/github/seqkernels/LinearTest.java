package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.fail;

import io.github.seqkernels.reference.ScalarGemm;
import io.github.seqkernels.reference.ScalarTransformer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * LinearOp against the float64 control: (rows, K, N) over awkward sizes, x of rank 1 to 3, x and w
 * in every layout (w also as ONNX MatMul weights [K, N] viewed by permute), bias or none, and every
 * activation through the fused epilogue, each size meeting each of them.
 */
class LinearTest extends CpuBackendTest {
  static final int[] SIZES = {1, 3, 7, 17, 130, 385};

  /** null = no activation; then every kind. */
  static final List<Activation> ACTIVATIONS = new ArrayList<>();

  static {
    ACTIVATIONS.add(null);
    for (Activation.Kind k : Activation.Kind.values())
      ACTIVATIONS.add(ElementwiseTest.withParams(k));
  }

  record Case(
      int rows,
      int k,
      int n,
      int xRank,
      boolean xReversed,
      boolean wOnnx,
      boolean bias,
      Activation f) {}

  static Stream<Case> grid() {
    List<Case> cases = new ArrayList<>();
    for (int ri = 0; ri < SIZES.length; ri++) {
      for (int ki = 0; ki < SIZES.length; ki++) {
        for (int ni = 0; ni < SIZES.length; ni++) {
          int t = ri + 2 * ki + 3 * ni;
          cases.add(
              new Case(
                  SIZES[ri],
                  SIZES[ki],
                  SIZES[ni],
                  SIZES[ri] == 1 ? 1 + t % 3 : 2 + t % 2,
                  (ri + ki + ni) % 3 == 1,
                  (ri + 2 * ni) % 2 == 1,
                  t % 5 != 0,
                  ACTIVATIONS.get((ri + 3 * ki + 5 * ni) % ACTIVATIONS.size())));
        }
      }
    }
    // BERT's intermediate layer: GELU fused.
    cases.add(new Case(130, 384, 1536, 3, false, false, true, Activation.of("Gelu")));
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("grid")
  void matchesControl(Case c) {
    Random r = Check.random(c.toString().hashCode());
    long[] xShape =
        switch (c.xRank) {
          case 1 -> new long[] {c.k};
          case 2 -> new long[] {c.rows, c.k};
          default ->
              c.rows % 5 == 0 ? new long[] {5, c.rows / 5, c.k} : new long[] {1, c.rows, c.k};
        };
    long[] yShape = xShape.clone();
    yShape[yShape.length - 1] = c.n;
    float[] xd = Check.gaussian(r, c.rows * c.k, 1);
    Tensor x = c.xReversed ? Check.reversed(xd, xShape) : Tensor.wrap(xd, xShape);
    float[] wd = Check.gaussian(r, c.n * c.k, 1 / Math.sqrt(c.k));
    Tensor w = c.wOnnx ? Check.reversed(wd, c.n, c.k) : Tensor.wrap(wd, c.n, c.k);
    Tensor b = c.bias ? Tensor.wrap(Check.gaussian(r, c.n, 1), c.n) : null;
    Tensor y =
        c.xReversed ? Check.reversed(new float[c.rows * c.n], yShape) : Tensor.allocate(yShape);

    backend.linear().forward(x, w, b, c.f, y);

    within(c.toString(), ScalarTransformer.linear(x, w, b), c.k, c.f, y.toArray());
  }

  /**
   * Checks {@code y = f(z)} where the control gives z and its sum of |terms|. The float32 z may be
   * off by the k-term rounding bound {@code dz = (k + 2)·eps·abs + eps·|z|} (see GemmTest.within);
   * f carries that to at most {@code max |f(z ± dz) - f(z)|} (f is monotone or continuous on each
   * side, ThresholdedRelu's jump included), and f's own float32 evaluation adds 1e-6 + 1e-5·|f(z)|
   * (the ElementwiseTest tolerance).
   */
  static void within(String what, ScalarGemm.Product ref, int k, Activation f, float[] actual) {
    double eps = Math.ulp(1f);
    double[] z = ref.y(), abs = ref.abs();
    if (actual.length != z.length) fail(what + ": length " + actual.length + " != " + z.length);
    StringBuilder sb = new StringBuilder();
    int bad = 0;
    for (int i = 0; i < z.length; i++) {
      double dz = (k + 2) * eps * abs[i] + eps * Math.abs(z[i]);
      double want = f == null ? z[i] : f.applyExact(z[i]);
      double spread =
          f == null
              ? dz
              : Math.max(
                  Math.abs(f.applyExact(z[i] + dz) - want),
                  Math.abs(f.applyExact(z[i] - dz) - want));
      double tol = spread + 1e-6 + 1e-5 * Math.abs(want);
      if (!(Math.abs(actual[i] - want) <= tol) && bad++ < 5) {
        sb.append(
            String.format(
                "%n  [%d] z %.9g expected %.9g actual %.9g tolerance %.3g",
                i, z[i], want, actual[i], tol));
      }
    }
    if (bad > 0) fail(what + ": " + bad + " of " + z.length + " elements out of tolerance" + sb);
  }
}
