package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.seqkernels.cuda.CudaBackend;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * LayerNorm and embedding on the CUDA backend (its emulator here) against a float64 control: row
 * lengths across one warp, several warps and more than one block width, a residual, strided views,
 * and y = x in place. These operators have no shared suite yet.
 */
class CudaLayersTest {
  static Backend cuda;

  @BeforeAll
  static void open() {
    cuda = CudaBackend.emulated();
  }

  @AfterAll
  static void close() {
    cuda.close();
  }

  /** The control: r = x + residual in float (as the operator's contract), the rest in double. */
  static double[] layerNorm(Tensor x, Tensor res, Tensor scale, Tensor bias, double eps) {
    float[] xs = x.toArray(), rs = res == null ? null : res.toArray();
    int e = (int) x.size(x.rank() - 1), rows = xs.length / e;
    double[] out = new double[xs.length];
    for (int row = 0; row < rows; row++) {
      double[] r = new double[e];
      double mean = 0, var = 0;
      for (int j = 0; j < e; j++) {
        r[j] = rs == null ? xs[row * e + j] : (float) (xs[row * e + j] + rs[row * e + j]);
        mean += r[j] / e;
      }
      for (int j = 0; j < e; j++) var += (r[j] - mean) * (r[j] - mean) / e;
      for (int j = 0; j < e; j++) {
        out[row * e + j] =
            (r[j] - mean) / Math.sqrt(var + eps) * scale.get(j) + (bias == null ? 0 : bias.get(j));
      }
    }
    return out;
  }

  @ParameterizedTest(name = "E={0}")
  @ValueSource(ints = {1, 3, 7, 31, 33, 130, 257, 1025})
  void layerNormMatchesControl(int e) {
    Random r = Check.random(e);
    int rows = 5;
    Tensor x = Tensor.wrap(Check.gaussian(r, rows * e, 3), rows, e);
    Tensor res = Tensor.wrap(Check.gaussian(r, rows * e, 1), rows, e);
    Tensor scale = Tensor.wrap(Check.gaussian(r, e, 1), e);
    Tensor bias = Tensor.wrap(Check.gaussian(r, e, 1), e);
    for (boolean withRes : new boolean[] {false, true}) {
      Tensor y = Tensor.allocate(rows, e);
      cuda.layerNorm().forward(x, withRes ? res : null, scale, bias, 1e-5f, y);
      // float32 sums of E terms against a float64 control: 1e-5 absolute on unit-scale outputs,
      // and 1e-4 relative, as for the other operators.
      Check.close(
          "E=" + e + " residual=" + withRes,
          layerNorm(x, withRes ? res : null, scale, bias, 1e-5),
          y.toArray(),
          1e-5,
          1e-4);
    }
  }

  @Test
  void layerNormOnAStridedViewInPlaceWithoutBias() {
    Random r = Check.random(77);
    Tensor base = Tensor.wrap(Check.gaussian(r, 6 * 40, 2), 40, 6);
    Tensor x = base.permute(1, 0); // [6, 40], non-contiguous
    Tensor scale = Tensor.wrap(Check.gaussian(r, 40, 1), 40);
    double[] want = layerNorm(x, null, scale, null, 1e-3);
    cuda.layerNorm().forward(x, scale, null, 1e-3f, x);
    Check.close("in place, strided", want, x.toArray(), 1e-5, 1e-4);
  }

  @Test
  void layerNormRefusesWhatTheCpuRefuses() {
    Tensor x = Tensor.allocate(2, 4);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> cuda.layerNorm().forward(x, Tensor.allocate(3), null, 1e-5f, x));
    assertEquals("scale: must be [4], got [3]", e.getMessage());
  }

  @Test
  void embeddingGathersRowsAndRefusesBadIds() {
    Random r = Check.random(78);
    int v = 11, e = 130;
    Tensor table = Tensor.wrap(Check.gaussian(r, v * e, 1), v, e);
    int[] ids = {0, 10, 3, 3, 7, 1};
    Tensor y = Tensor.wrap(new float[2 * 3 * e], 2, 3, e);
    cuda.embedding().forward(table, ids, y);
    float[] t = table.toArray(), got = y.toArray();
    for (int i = 0; i < ids.length; i++) {
      float[] want = java.util.Arrays.copyOfRange(t, ids[i] * e, ids[i] * e + e);
      assertArrayEquals(want, java.util.Arrays.copyOfRange(got, i * e, i * e + e), "row " + i);
    }
    IllegalArgumentException ex =
        assertThrows(
            IllegalArgumentException.class,
            () -> cuda.embedding().forward(table, new int[] {1, 11}, Tensor.allocate(2, e)));
    assertEquals("ids[1]: must be in [0, 11), got 11", ex.getMessage());
  }
}
