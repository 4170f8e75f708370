package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.github.seqkernels.reference.ScalarReference;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Softmax against the float64 control: awkward row lengths, every axis, scale, log, strides. */
class SoftmaxTest extends CpuBackendTest {
  @ParameterizedTest(name = "n={0}")
  @ValueSource(ints = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 127, 129, 1025, 2049})
  void rowLengthsAcrossVectorWidths(int n) {
    Random r = Check.random(n);
    for (boolean log : new boolean[] {false, true}) {
      for (float scale : new float[] {1f, 0.125f, -3f}) {
        Tensor x = Tensor.wrap(Check.gaussian(r, 3 * n, 4.0), 3, n);
        Tensor y = Tensor.allocate(3, n);
        backend.softmax().forward(x, y, SoftmaxOptions.defaults().withScale(scale).withLog(log));
        Check.close(
            "n=" + n + " log=" + log + " scale=" + scale,
            ScalarReference.softmax(x, -1, scale, log),
            y.toArray(),
            1e-6,
            1e-5);
        y.close();
      }
    }
  }

  @ParameterizedTest(name = "axis={0}")
  @ValueSource(ints = {0, 1, 2, 3, -1, -2, -3, -4})
  void everyAxisOfARank4Tensor(int axis) {
    long[] shape = {3, 5, 7, 33};
    Random r = Check.random(100 + axis);
    Tensor x = Tensor.wrap(Check.gaussian(r, 3 * 5 * 7 * 33, 3.0), shape);
    for (boolean log : new boolean[] {false, true}) {
      Tensor y = Tensor.allocate(shape);
      backend.softmax().forward(x, y, SoftmaxOptions.defaults().withAxis(axis).withLog(log));
      Check.close(
          "axis " + axis + " log=" + log,
          ScalarReference.softmax(x, axis, 1, log),
          y.toArray(),
          1e-6,
          1e-5);
      y.close();
    }
  }

  @Test
  void stridedViewsAndInPlace() {
    Random r = Check.random(7);
    float[] data = Check.gaussian(r, 4 * 9 * 6, 2.0);
    Tensor base = Tensor.wrap(data.clone(), 4, 9, 6);
    Tensor x = base.permute(2, 0, 1); // [6, 4, 9], non-contiguous
    double[] want = ScalarReference.softmax(x, 1, 1, false);
    Tensor y = Tensor.wrap(new float[6 * 9 * 4], 6, 9, 4).permute(0, 2, 1); // strided output
    backend.softmax().forward(x, y, SoftmaxOptions.defaults().withAxis(1));
    Check.close("strided", want, y.toArray(), 1e-6, 1e-5);
    backend.softmax().forward(x, x, SoftmaxOptions.defaults().withAxis(1)); // in place
    Check.close("in place", want, x.toArray(), 1e-6, 1e-5);
  }

  @Test
  void allNegativeInfinityRowHasNoMassAndGivesZeroNotNaN() {
    float ninf = Float.NEGATIVE_INFINITY;
    Tensor x = Tensor.wrap(new float[] {ninf, ninf, ninf, 0, ninf, 1}, 2, 3);
    Tensor y = Tensor.allocate(2, 3);
    backend.softmax().forward(x, y);
    assertArrayEquals(new float[] {0, 0, 0, 0.268941f, 0, 0.731059f}, y.toArray(), 1e-6f);
    backend.softmax().forward(x, y, SoftmaxOptions.defaults().withLog(true));
    assertArrayEquals(
        new float[] {ninf, ninf, ninf, -1.313262f, ninf, -0.313262f}, y.toArray(), 1e-6f);
  }

  @Test
  void emptyTensorsAreANoOp() {
    backend.softmax().forward(Tensor.allocate(0, 5), Tensor.allocate(0, 5));
    backend.softmax().forward(Tensor.allocate(3, 0), Tensor.allocate(3, 0));
  }
}
