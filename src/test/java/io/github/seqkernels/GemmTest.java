package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.seqkernels.cuda.CudaBackend;
import io.github.seqkernels.reference.ScalarGemm;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * GemmOp against the float64 control: every (M, N, K) in {1, 2, 7, 17, 64, 97, 130, 257}³, with the
 * transposes, C's broadcast shape, the memory layout and (alpha, beta) rotating so that each size
 * meets each of them; one small size with every combination; K = 0 and empty outputs; bad input;
 * steady state; thread-count independence.
 */
class GemmTest extends CpuBackendTest {
  /** How C is given: absent, or a shape that broadcasts to [M, N]. */
  enum CKind {
    NONE,
    SCALAR, // []
    ONE, // [1]
    ROW, // [N]
    COLUMN, // [M, 1]
    ONE_ROW, // [1, N]
    FULL // [M, N]
  }

  /** How a matrix is stored: the kernels see each through different strides. */
  enum Layout {
    CONTIGUOUS,
    NATIVE, // off-heap memory
    STRIDED, // rows padded and an offset; the padding holds NaN (inputs) or a sentinel (y)
    TRANSPOSED // stored column-major, viewed row-major by permute
  }

  static final float[][] ALPHA_BETA = {{1, 1}, {0.5f, -2}, {1, 0}, {-1.25f, 0.75f}, {0, 1}};
  static final int[] SIZES = {1, 2, 7, 17, 64, 97, 130, 257};
  static final float SENTINEL = 12345f;

  record Case(
      int m,
      int n,
      int k,
      boolean transA,
      boolean transB,
      CKind c,
      Layout layout,
      float alpha,
      float beta) {
    @Override
    public String toString() {
      return "M"
          + m
          + " N"
          + n
          + " K"
          + k
          + (transA ? " transA" : "")
          + (transB ? " transB" : "")
          + " C "
          + c
          + " "
          + layout
          + " alpha "
          + alpha
          + " beta "
          + beta;
    }
  }

  static Stream<Case> grid() {
    List<Case> cases = new ArrayList<>();
    for (int mi = 0; mi < SIZES.length; mi++) {
      for (int ni = 0; ni < SIZES.length; ni++) {
        for (int ki = 0; ki < SIZES.length; ki++) {
          // Sums of the indices with different weights: for any fixed size of one dim, the other
          // two still run every transpose, C kind, layout and (alpha, beta) past it.
          int t = (mi + ni + ki) % 4;
          float[] ab = ALPHA_BETA[(mi + 2 * ni + 4 * ki) % ALPHA_BETA.length];
          cases.add(
              new Case(
                  SIZES[mi],
                  SIZES[ni],
                  SIZES[ki],
                  (t & 1) != 0,
                  (t & 2) != 0,
                  CKind.values()[(2 * mi + ni + 3 * ki) % CKind.values().length],
                  Layout.values()[(mi + 3 * ni + 2 * ki) % Layout.values().length],
                  ab[0],
                  ab[1]));
        }
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("grid")
  void matchesControl(Case c) {
    run(c);
  }

  /** One awkward size (and a thin one, which is solved transposed) with every combination. */
  @Test
  void everyCombination() {
    for (int[] mnk : new int[][] {{7, 19, 13}, {97, 3, 17}}) {
      for (int t = 0; t < 4; t++) {
        for (CKind ck : CKind.values()) {
          for (Layout l : Layout.values()) {
            for (float[] ab : ALPHA_BETA) {
              run(
                  new Case(
                      mnk[0], mnk[1], mnk[2], (t & 1) != 0, (t & 2) != 0, ck, l, ab[0], ab[1]));
            }
          }
        }
      }
    }
  }

  /**
   * Long K: op(B) no longer fits one packed chunk (columns are split) and row blocks shrink; the
   * rows of the parallel path's pieces are split by columns too (M small).
   */
  @Test
  void longInnerDimension() {
    run(new Case(13, 600, 4100, false, true, CKind.ROW, Layout.CONTIGUOUS, 1, 1));
    run(new Case(9, 1000, 2500, true, false, CKind.FULL, Layout.STRIDED, 0.5f, -1));
  }

  /** K = 0: op(A)·op(B) is a zero matrix, so Y = beta·C (or 0). Empty Y: nothing happens. */
  @Test
  void emptyProducts() {
    run(new Case(5, 9, 0, false, false, CKind.ROW, Layout.CONTIGUOUS, 2, 0.5f));
    run(new Case(5, 9, 0, true, true, CKind.NONE, Layout.STRIDED, 2, 0.5f));
    Tensor y = Tensor.wrap(new float[0], 0, 4);
    backend.gemm().forward(Tensor.wrap(new float[0], 0, 3), Tensor.wrap(new float[12], 3, 4), y);
  }

  /**
   * c may be y itself: {@code Y = alpha·A·B + beta·Y} in place, each element read before written.
   */
  @Test
  void inPlaceOnC() {
    Random r = Check.random(47);
    int m = 97, n = 130, k = 64;
    Tensor a = Tensor.wrap(Check.gaussian(r, m * k, 1), m, k);
    Tensor b = Tensor.wrap(Check.gaussian(r, k * n, 1), k, n);
    Tensor y = Tensor.wrap(Check.gaussian(r, m * n, 1), m, n);
    GemmOptions o = GemmOptions.defaults().withAlpha(0.5f).withBeta(-1f);
    ScalarGemm.Product ref = ScalarGemm.gemm(a, b, y, o);
    backend.gemm().forward(a, b, y, o, y);
    within("in place", ref, y.toArray(), k);
  }

  static void run(Case c) {
    Random r = Check.random(c.toString().hashCode());
    int ar = c.transA ? c.k : c.m, ac = c.transA ? c.m : c.k;
    int br = c.transB ? c.n : c.k, bc = c.transB ? c.k : c.n;
    Tensor a = matrix(Check.gaussian(r, ar * ac, 1), ar, ac, c.layout, Float.NaN);
    Tensor b = matrix(Check.gaussian(r, br * bc, 1), br, bc, c.layout, Float.NaN);
    Tensor cT = cTensor(r, c);
    float[] sentinels = new float[c.m * c.n];
    Arrays.fill(sentinels, SENTINEL);
    Tensor y = matrix(sentinels, c.m, c.n, c.layout, SENTINEL);
    GemmOptions o =
        GemmOptions.defaults()
            .withTransA(c.transA)
            .withTransB(c.transB)
            .withAlpha(c.alpha)
            .withBeta(c.beta);

    backend.gemm().forward(a, b, cT, o, y);

    ScalarGemm.Product ref = ScalarGemm.gemm(a, b, cT, o);
    within(c.toString(), ref, y.toArray(), c.k);
    if (c.layout == Layout.STRIDED) requirePaddingUntouched(c.toString(), y);
  }

  /**
   * Asserts {@code |actual - y| <= atol + rtol·|y|} with {@code atol = (K + 2)·eps·abs} and {@code
   * rtol = eps}, where abs is the control's sum of |terms| ({@code |alpha|·sum |a·b| + |beta·c|})
   * and eps = 2^-23. Why: a float32 sum of K terms, in any order, is within about K·u·sum|terms| of
   * the exact sum (u = 2^-24, the unit roundoff; Higham, Accuracy and Stability of Numerical
   * Algorithms, 4.2), and alpha and the C term add two roundings more; eps = 2u doubles that worst
   * case. It still catches any wrong or missing term, which on average is abs / K, far above the
   * bound (at K = 257: a term ~4e-3·abs, the bound ~3e-5·abs). The scale is abs, not |y|, because a
   * sum of mixed signs can cancel to near zero while its rounding error does not.
   */
  static void within(String what, ScalarGemm.Product ref, float[] actual, int k) {
    double eps = Math.ulp(1f);
    double[] y = ref.y(), abs = ref.abs();
    if (actual.length != y.length) fail(what + ": length " + actual.length + " != " + y.length);
    StringBuilder sb = new StringBuilder();
    int bad = 0;
    for (int i = 0; i < y.length; i++) {
      double tol = (k + 2) * eps * abs[i] + eps * Math.abs(y[i]);
      if (!(Math.abs(actual[i] - y[i]) <= tol)) { // NaN fails
        if (bad++ < 5) {
          sb.append("\n  [")
              .append(i)
              .append("] expected ")
              .append(y[i])
              .append(" actual ")
              .append(actual[i])
              .append(" tolerance ")
              .append(tol);
        }
      }
    }
    if (bad > 0) fail(what + ": " + bad + " of " + y.length + " elements out of tolerance" + sb);
  }

  /**
   * A rows x cols tensor holding {@code data} (row-major) in the given layout; padding of the
   * strided layout holds {@code pad} (NaN for inputs, so a kernel that reads it fails).
   */
  static Tensor matrix(float[] data, int rows, int cols, Layout layout, float pad) {
    switch (layout) {
      case CONTIGUOUS:
        return Tensor.wrap(data.clone(), rows, cols);
      case NATIVE:
        {
          Tensor t = Tensor.allocate(Arena.ofAuto(), rows, cols);
          t.copyFrom(data);
          return t;
        }
      case STRIDED:
        {
          int ld = cols + 5, off = 3;
          float[] buf = new float[off + rows * ld + 2];
          Arrays.fill(buf, pad);
          for (int i = 0; i < rows; i++) System.arraycopy(data, i * cols, buf, off + i * ld, cols);
          return Tensor.view(
              MemorySegment.ofArray(buf), off, new long[] {rows, cols}, new long[] {ld, 1});
        }
      default:
        {
          float[] t = new float[rows * cols];
          for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) t[j * rows + i] = data[i * cols + j];
          }
          return Tensor.wrap(t, cols, rows).permute(1, 0);
        }
    }
  }

  /** Every float of a strided y's buffer outside its rows x cols elements is still SENTINEL. */
  static void requirePaddingUntouched(String what, Tensor y) {
    float[] buf = y.segment().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
    boolean[] inside = new boolean[buf.length];
    for (long i = 0; i < y.size(0); i++) {
      for (long j = 0; j < y.size(1); j++) {
        inside[(int) (y.offset() + i * y.stride(0) + j * y.stride(1))] = true;
      }
    }
    for (int i = 0; i < buf.length; i++) {
      if (!inside[i] && buf[i] != SENTINEL) fail(what + ": y padding at " + i + " was written");
    }
  }

  static Tensor cTensor(Random r, Case c) {
    return switch (c.c) {
      case NONE -> null;
      case SCALAR -> Tensor.wrap(Check.gaussian(r, 1, 1));
      case ONE -> Tensor.wrap(Check.gaussian(r, 1, 1), 1);
      case ROW -> Tensor.wrap(Check.gaussian(r, c.n, 1), c.n);
      case COLUMN -> matrix(Check.gaussian(r, c.m, 1), c.m, 1, c.layout, Float.NaN);
      case ONE_ROW -> matrix(Check.gaussian(r, c.n, 1), 1, c.n, c.layout, Float.NaN);
      case FULL -> matrix(Check.gaussian(r, c.m * c.n, 1), c.m, c.n, c.layout, Float.NaN);
    };
  }

  // -----------------------------------------------------------------------------------------------
  // Determinism

  /**
   * Every element is one FMA chain over k in order, whatever the split: the same bits for 1, 2 and
   * 3 threads, and a row's result does not depend on the other rows in the product.
   */
  @Test
  void resultDoesNotDependOnThreadsOrOtherRows() {
    Random r = Check.random(41);
    int m = 257, n = 130, k = 97;
    Tensor a = Tensor.wrap(Check.gaussian(r, k * m, 1), k, m); // used transposed
    Tensor b = Tensor.wrap(Check.gaussian(r, n * k, 1), n, k); // used transposed
    Tensor c = Tensor.wrap(Check.gaussian(r, n, 1), n);
    GemmOptions o = new GemmOptions(true, true, 0.75f, -1.5f);
    float[] first = null;
    for (int threads : new int[] {1, 2, 3}) {
      try (Backend be = Backend.create("cpu", threads)) {
        Tensor y = Tensor.allocate(m, n);
        be.gemm().forward(a, b, c, o, y);
        if (first == null) first = y.toArray();
        else assertArrayEquals(first, y.toArray(), threads + " threads");
      }
    }
    // Rows 100..104 alone: the columns 100..104 of the stored (transposed) a. The own kernels (CPU,
    // gemm_f32) give the same bits; cuBLAS sums in its own order, so there the rows are checked
    // against the control instead.
    Tensor a5 = Tensor.view(a.segment(), 100, new long[] {k, 5}, new long[] {m, 1});
    Tensor y5 = Tensor.allocate(5, n);
    backend.gemm().forward(a5, b, c, o, y5);
    if (backend instanceof CudaBackend cuda && !cuda.gemmEngine().startsWith("own ")) {
      within(cuda.gemmEngine(), ScalarGemm.gemm(a5, b, c, o), y5.toArray(), k);
    } else {
      assertArrayEquals(Arrays.copyOfRange(first, 100 * n, 105 * n), y5.toArray());
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Bad input

  static Tensor t(long... shape) {
    float[] a = new float[(int) Tensor.numel(shape)];
    Arrays.fill(a, SENTINEL);
    return Tensor.wrap(a, shape);
  }

  static void refused(String expected, Tensor a, Tensor b, Tensor c, GemmOptions o, Tensor y) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> backend.gemm().forward(a, b, c, o, y));
    assertEquals(expected, e.getMessage());
    if (y != null) {
      for (float f : y.toArray()) assertEquals(SENTINEL, f, "y written before refusal");
    }
  }

  @Test
  void badInput() {
    GemmOptions d = GemmOptions.defaults();
    GemmOptions tb = d.withTransB(true);
    refused(
        "a: rank must be 2 [M, K], got 3 (shape [1, 4, 8])", t(1, 4, 8), t(8, 5), null, d, t(4, 5));
    refused(
        "a: rank must be 2 [K, M], got 1 (shape [8])",
        t(8),
        t(8, 5),
        null,
        d.withTransA(true),
        t(4, 5));
    refused("b: rank must be 2 [N, K], got 0 (shape [])", t(4, 8), t(), null, tb, t(4, 5));
    refused(
        "b: inner dim 7 != a inner dim 8 (a [4, 8], b [7, 5])", t(4, 8), t(7, 5), null, d, t(4, 5));
    refused(
        "b: inner dim 7 != a inner dim 8 (a [8, 4] transposed, b [5, 7] transposed)",
        t(8, 4),
        t(5, 7),
        null,
        new GemmOptions(true, true, 1, 1),
        t(4, 5));
    refused(
        "c: dim 0 of shape [4] is 4, must be 1 or 5 to broadcast to [4, 5]",
        t(4, 8),
        t(8, 5),
        t(4),
        d,
        t(4, 5));
    refused(
        "c: dim 0 of shape [3, 5] is 3, must be 1 or 4 to broadcast to [4, 5]",
        t(4, 8),
        t(8, 5),
        t(3, 5),
        d,
        t(4, 5));
    refused(
        "c: rank 3 exceeds 2 (shape [1, 4, 5] cannot broadcast to [4, 5])",
        t(4, 8),
        t(8, 5),
        t(1, 4, 5),
        d,
        t(4, 5));
    refused("y: shape must be [4, 5], got [5, 4]", t(4, 8), t(8, 5), null, d, t(5, 4));
    refused("y: shape must be [4, 5], got [20]", t(4, 8), t(8, 5), null, d, t(20));
    refused("b: must not be null", t(4, 8), null, null, d, t(4, 5));
    refused("options: must not be null", t(4, 8), t(8, 5), null, null, t(4, 5));
    try (Arena arena = Arena.ofConfined()) {
      Tensor confined = Tensor.allocate(arena, 8, 5);
      refused(
          "b: memory is confined to one thread, and operators run on several; allocate it"
              + " with Tensor.allocate or a shared, auto or global Arena",
          t(4, 8),
          confined,
          null,
          d,
          t(4, 5));
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Steady state

  /**
   * After warm-up a call allocates nothing (measured: 0 bytes); one thread, so the calling thread's
   * allocation counter sees everything. The bound, 16 bytes per call averaged over 500 calls,
   * leaves room for a one-off JIT allocation but not for any per-call object.
   */
  @Test
  void doesNotAllocatePerCall() {
    try (Backend be = Backend.create("cpu", 1)) {
      Random r = Check.random(43);
      Tensor a = Tensor.wrap(Check.gaussian(r, 97 * 70, 1), 97, 70);
      Tensor b = Tensor.wrap(Check.gaussian(r, 130 * 70, 1), 130, 70);
      Tensor c = Tensor.wrap(Check.gaussian(r, 130, 1), 1, 130);
      Tensor y = Tensor.allocate(97, 130);
      GemmOptions o = GemmOptions.defaults().withTransB(true).withAlpha(0.5f);
      Tensor x3 = Tensor.wrap(Check.gaussian(r, 3 * 17 * 33, 1), 3, 17, 33);
      Tensor w3 = Tensor.wrap(Check.gaussian(r, 3 * 33 * 9, 1), 3, 33, 9);
      Tensor w = Tensor.wrap(Check.gaussian(r, 33 * 9, 1), 33, 9);
      Tensor y3 = Tensor.allocate(3, 17, 9);
      int calls = 500;
      long perCall = Long.MAX_VALUE;
      for (int round = 0; round < 20 && perCall >= 16; round++) {
        long before = SteadyStateTest.allocatedBytes();
        for (int i = 0; i < calls; i++) {
          be.gemm().forward(a, b, c, o, y);
          be.matmul().forward(x3, w3, y3); // batched
          be.matmul().forward(x3, w, y3); // folded into one product
        }
        perCall = Math.min(perCall, (SteadyStateTest.allocatedBytes() - before) / calls);
      }
      assertTrue(perCall < 16, "allocated " + perCall + " bytes per call set");
    }
  }
}
