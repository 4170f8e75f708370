package io.github.seqkernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.seqkernels.GemmOptions;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.WorkerPool;
import io.github.seqkernels.reference.ScalarGemm;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The array entry points of {@link CpuGemm} that other CPU operators call: serial (with a Scratch),
 * with op(B) packed once, and parallel. All of them agree bit for bit with the tensor operator, and
 * with the float64 control within the bound explained in GemmTest.within.
 */
class GemmEntryPointsTest {
  static final long SEED = Long.getLong("seqkernels.seed", 20261203L);

  static float[] gaussian(Random r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
    return a;
  }

  /**
   * Sub-matrices of bigger arrays (offsets, leading dims past the row length), every transpose:
   * serial, packed, parallel and tensor results are the same bits, and match the control. C's
   * elements outside the sub-matrix are never written.
   */
  @Test
  void entryPointsAgree() {
    Random r = new Random(SEED + 1);
    int[][] shapes = {{97, 130, 17}, {7, 300, 257}, {130, 3, 64}, {1, 64, 5}, {13, 600, 5000}};
    try (WorkerPool pool = new WorkerPool(2)) {
      CpuGemm op = new CpuGemm(pool);
      CpuGemm.Scratch s = new CpuGemm.Scratch();
      for (int[] mnk : shapes) {
        for (int t = 0; t < 4; t++) {
          boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
          int m = mnk[0], n = mnk[1], k = mnk[2];
          int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
          int lda = ac + 3, ldb = bc + 1, ldc = n + 2, aOff = 5, bOff = 2, cOff = 7;
          float[] a = gaussian(r, aOff + ar * lda), b = gaussian(r, bOff + br * ldb);
          float[] c0 = gaussian(r, cOff + m * ldc + 4);
          float alpha = 0.75f, beta = -1.5f;
          String what = Arrays.toString(mnk) + " transA " + ta + " transB " + tb;

          float[] serial = c0.clone(), packed = c0.clone(), parallel = c0.clone();
          CpuGemm.gemm(
              ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, serial, cOff, ldc, s);
          CpuGemm.PackedB pb = CpuGemm.pack(tb, k, n, b, bOff, ldb, null, s);
          CpuGemm.gemm(ta, m, alpha, a, aOff, lda, pb, beta, packed, cOff, ldc, s);
          op.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, parallel, cOff, ldc);
          assertArrayEquals(serial, packed, what + ": packed");
          assertArrayEquals(serial, parallel, what + ": parallel");

          // The tensor operator on views of the same memory, C as an input and y separate.
          Tensor at = view(a, aOff, ar, ac, lda), bt = view(b, bOff, br, bc, ldb);
          Tensor ct = view(c0, cOff, m, n, ldc);
          Tensor yt = Tensor.allocate(m, n);
          GemmOptions o = new GemmOptions(ta, tb, alpha, beta);
          op.forward(at, bt, ct, o, yt);
          float[] sub = new float[m * n];
          for (int i = 0; i < m; i++) System.arraycopy(serial, cOff + i * ldc, sub, i * n, n);
          assertArrayEquals(sub, yt.toArray(), what + ": tensor");

          ScalarGemm.Product ref = ScalarGemm.gemm(at, bt, ct, o);
          double eps = Math.ulp(1f); // the bound of GemmTest.within
          for (int i = 0; i < sub.length; i++) {
            double tol = (k + 2) * eps * ref.abs()[i] + eps * Math.abs(ref.y()[i]);
            assertTrue(Math.abs(sub[i] - ref.y()[i]) <= tol, what + " at " + i);
          }
          for (int i = 0; i < c0.length; i++) {
            boolean inside = i >= cOff && (i - cOff) / ldc < m && (i - cOff) % ldc < n;
            if (!inside) assertEquals(c0[i], serial[i], what + ": C written outside at " + i);
          }
        }
      }
    }
  }

  static Tensor view(float[] data, int off, int rows, int cols, int ld) {
    return Tensor.view(
        java.lang.foreign.MemorySegment.ofArray(data),
        off,
        new long[] {rows, cols},
        new long[] {ld, 1});
  }

  /** BLAS convention: beta = 0 does not read C, so garbage (NaN) there does not matter. */
  @Test
  void betaZeroDoesNotReadC() {
    float[] a = {1, 2, 3, 4}, b = {5, 6, 7, 8}, c = {Float.NaN, Float.NaN, Float.NaN, Float.NaN};
    CpuGemm.gemm(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2, new CpuGemm.Scratch());
    assertArrayEquals(new float[] {19, 22, 43, 50}, c);
  }

  @Test
  void badArguments() {
    CpuGemm.Scratch s = new CpuGemm.Scratch();
    float[] x = new float[40];
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CpuGemm.gemm(false, false, 4, 5, 8, 1, x, 0, 7, x, 0, 5, 0, x, 0, 5, s));
    assertEquals("lda: must be >= 8 (the row length of a), got 7", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CpuGemm.gemm(false, false, 4, 5, 8, 1, x, 0, 8, x, 0, 5, 0, x, 21, 5, s));
    assertEquals(
        "c: a 4 x 5 matrix at offset 21 with ld 5 needs 41 floats, got 40", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CpuGemm.gemm(false, true, -1, 5, 8, 1, x, 0, 8, x, 0, 8, 0, x, 0, 5, s));
    assertEquals("m, n, k: must be >= 0, got m = -1, n = 5, k = 8", e.getMessage());
  }

  /**
   * Serial and packed calls of a steady shape allocate nothing (measured: 0 bytes). Until the JIT
   * has compiled the kernels, vectors are real objects, so the least of up to 20 rounds counts: a
   * per-call allocation would show in every round.
   */
  @Test
  void serialCallsDoNotAllocate() {
    Random r = new Random(SEED + 2);
    int m = 16, n = 256, k = 64;
    float[] a = gaussian(r, m * k), b = gaussian(r, n * k), c = new float[m * n];
    CpuGemm.Scratch s = new CpuGemm.Scratch();
    CpuGemm.PackedB pb = CpuGemm.pack(true, k, n, b, 0, k, null, s);
    var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    int calls = 1000;
    long perCall = Long.MAX_VALUE;
    for (int round = 0; round < 20 && perCall >= 16; round++) {
      long before = mx.getCurrentThreadAllocatedBytes();
      for (int i = 0; i < calls; i++) {
        CpuGemm.gemm(false, true, m, n, k, 1, a, 0, k, b, 0, k, 1, c, 0, n, s);
        CpuGemm.gemm(false, m, 1, a, 0, k, pb, 1, c, 0, n, s);
        CpuGemm.pack(true, k, n, b, 0, k, pb, s);
      }
      perCall = Math.min(perCall, (mx.getCurrentThreadAllocatedBytes() - before) / calls);
    }
    assertTrue(perCall < 16, "allocated " + perCall + " bytes per call set");
  }
}
