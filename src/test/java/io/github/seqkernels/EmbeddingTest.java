package io.github.seqkernels;

import io.github.seqkernels.reference.ScalarTransformer;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * EmbeddingOp against the control: row widths across the vector widths, repeated and boundary ids,
 * table and y contiguous or reversed (no unit stride), y of rank 1 to 3. A copy is exact.
 */
class EmbeddingTest extends CpuBackendTest {
  @ParameterizedTest(name = "E={0}")
  @ValueSource(ints = {1, 3, 8, 17, 130, 384})
  void matchesControl(int e) {
    Random r = Check.random(e);
    int v = 97;
    float[] td = Check.gaussian(r, v * e, 1);
    for (boolean reversed : new boolean[] {false, true}) {
      Tensor table = reversed ? Check.reversed(td, v, e) : Tensor.wrap(td, v, e);
      for (int count : new int[] {0, 1, 6, 130}) {
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) ids[i] = i == 0 ? v - 1 : i == 1 ? 0 : r.nextInt(v);
        if (count > 3) ids[3] = ids[2]; // a repeat
        long[] shape =
            count == 1
                ? new long[] {e}
                : count % 2 == 0 ? new long[] {2, count / 2, e} : new long[] {count, e};
        Tensor y =
            reversed && shape.length > 1
                ? Check.reversed(new float[count * e], shape)
                : Tensor.allocate(shape);
        backend.embedding().forward(table, ids, y);
        String what = "E=" + e + " ids=" + count + (reversed ? " reversed" : "");
        Check.close(what, ScalarTransformer.embedding(table, ids), y.toArray(), 0, 0);
      }
    }
  }
}
