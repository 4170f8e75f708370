package io.github.seqkernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The row-major → column-major mapping of {@link CublasLayout}, without a GPU: for every layout in
 * the grid, the call it makes is evaluated with a scalar column-major SGEMM written here (which
 * also enforces cuBLAS's argument rules) and compared with the row-major product, every element of
 * the output buffer, gaps included. Operands are small integers, so both sums are exact in any
 * order and the comparison is exact.
 */
class CublasLayoutTest {
  /** How a matrix of the grid lies in memory. */
  enum Kind {
    ROW, // row-major, rows `pad` elements apart beyond the row length
    COL, // column-major, likewise
    STRIDED, // every element 2 apart along a row, rows further: no unit stride
    BROADCAST, // stride 0 down the rows (one row repeated), unit along it
    OVERLAP, // unit strides both ways: rows overlap (a sliding window)
    VECTOR // unit down the rows, 0 along them: MatMul's rank-1 b, a column whose N is 1
  }

  record Layout(Kind kind, int pad) {
    /** Strides {s0, s1} of an [r, c] matrix laid out this way. */
    long[] strides(int r, int c) {
      return switch (kind) {
        case ROW -> new long[] {c + pad, 1};
        case COL -> new long[] {1, r + pad};
        case STRIDED -> new long[] {2L * c + 1 + pad, 2};
        case BROADCAST -> new long[] {0, 1};
        case OVERLAP -> new long[] {1, 1};
        case VECTOR -> new long[] {1, 0};
      };
    }

    /**
     * True when cuBLAS cannot read an [r, c] matrix laid out this way: no unit stride across two
     * real dims, a stride of 0 down more than one row, or rows that overlap. A dim of size 1 makes
     * its stride irrelevant, and an empty matrix is never read.
     */
    boolean hopeless(int r, int c) {
      if (r == 0 || c == 0) return false;
      return switch (kind) {
        case ROW, COL -> false;
        case STRIDED, OVERLAP -> r > 1 && c > 1;
        case BROADCAST -> r > 1;
        case VECTOR -> c > 1;
      };
    }
  }

  static final List<Layout> OPERANDS = new ArrayList<>(), OUTPUTS = new ArrayList<>();

  static {
    for (int pad : new int[] {0, 3}) {
      OPERANDS.add(new Layout(Kind.ROW, pad));
      OPERANDS.add(new Layout(Kind.COL, pad));
      OUTPUTS.add(new Layout(Kind.ROW, pad));
      OUTPUTS.add(new Layout(Kind.COL, pad));
    }
    OPERANDS.add(new Layout(Kind.STRIDED, 0));
    OPERANDS.add(new Layout(Kind.BROADCAST, 0));
    OPERANDS.add(new Layout(Kind.OVERLAP, 0));
    OPERANDS.add(new Layout(Kind.VECTOR, 0));
    OUTPUTS.add(new Layout(Kind.STRIDED, 0));
  }

  /** Batches: count, and whether a's and b's batch strides are 0 (one matrix shared). */
  record Batch(int count, boolean shareA, boolean shareB) {}

  static final Batch[] BATCHES = {
    new Batch(1, false, false),
    new Batch(3, false, false),
    new Batch(3, true, false),
    new Batch(3, false, true),
  };

  @Test
  void everyLayoutOfTheGridMapsToACallThatComputesTheProductOrIsRefused() {
    int calls = 0, refusals = 0;
    for (int m : new int[] {1, 2, 3}) {
      for (int n : new int[] {1, 2, 4}) {
        for (int k : new int[] {0, 1, 3}) {
          for (Layout la : OPERANDS) {
            for (Layout lb : OPERANDS) {
              for (Layout ly : OUTPUTS) {
                for (Batch bt : BATCHES) {
                  if (check(m, n, k, la, lb, ly, bt)) calls++;
                  else refusals++;
                }
              }
            }
          }
        }
      }
    }
    // The grid holds both outcomes in numbers (a mapping that refused everything would fail).
    assertTrue(calls > 10_000 && refusals > 1_000, calls + " calls, " + refusals + " refusals");
  }

  /** One case: true when mapped (and the call was right), false when refused (rightly). */
  private static boolean check(int m, int n, int k, Layout la, Layout lb, Layout ly, Batch bt) {
    long[] as = la.strides(m, k), bs = lb.strides(k, n), ys = ly.strides(m, n);
    long aSpan = span(m, k, as), bSpan = span(k, n, bs), ySpan = span(m, n, ys);
    // Batch strides: one matrix span apart plus a gap of 2, or 0 for a shared operand.
    long aStep = bt.count > 1 && !bt.shareA ? aSpan + 2 : 0;
    long bStep = bt.count > 1 && !bt.shareB ? bSpan + 2 : 0;
    long yStep = bt.count > 1 ? ySpan + 2 : 0;
    String what =
        String.format(
            "M=%d N=%d K=%d a %s %s b %s %s y %s %s %s",
            m, n, k, la, Arrays.toString(as), lb, Arrays.toString(bs), ly, Arrays.toString(ys), bt);
    CublasLayout.Plan plan =
        CublasLayout.map(
            m, n, k, as[0], as[1], bs[0], bs[1], ys[0], ys[1], bt.count, aStep, bStep, yStep);

    // Refused exactly when one of the three matrices is one cuBLAS cannot read.
    boolean hopeless = la.hopeless(m, k) || lb.hopeless(k, n) || ly.hopeless(m, n);
    if (plan instanceof CublasLayout.NotExpressible(String reason)) {
      if (!hopeless) fail(what + ": refused: " + reason);
      return false;
    }
    CublasLayout.Call call = (CublasLayout.Call) plan;
    if (hopeless) fail(what + ": no unit stride, yet mapped to " + call);

    // Operands: small integers (exact sums); y starts with integers too (beta) and gaps hold a
    // sentinel that must survive.
    float[] a = new float[(int) ((bt.count - 1) * aStep + aSpan + 4)];
    float[] b = new float[(int) ((bt.count - 1) * bStep + bSpan + 4)];
    float[] y0 = new float[(int) ((bt.count - 1) * yStep + ySpan + 4)];
    for (int i = 0; i < a.length; i++) a[i] = (i * 7 % 11) - 5;
    for (int i = 0; i < b.length; i++) b[i] = (i * 5 % 9) - 4;
    Arrays.fill(y0, -777f);
    for (int e = 0; e < bt.count; e++) {
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) y0[(int) (e * yStep + i * ys[0] + j * ys[1])] = (i + 2 * j) % 5;
      }
    }
    float alpha = 2f, beta = -1f;

    // Row-major reference.
    float[] want = y0.clone();
    for (int e = 0; e < bt.count; e++) {
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          float acc = 0;
          for (int p = 0; p < k; p++) {
            acc +=
                a[(int) (e * aStep + i * as[0] + p * as[1])]
                    * b[(int) (e * bStep + p * bs[0] + j * bs[1])];
          }
          int at = (int) (e * yStep + i * ys[0] + j * ys[1]);
          want[at] = alpha * acc + beta * y0[at];
        }
      }
    }

    // The call, as cuBLAS would run it (operands swapped where the plan says).
    float[] got = y0.clone();
    MemorySegment opA = MemorySegment.ofArray(call.swapped() ? b : a);
    MemorySegment opB = MemorySegment.ofArray(call.swapped() ? a : b);
    HostBlas.sgemm(call, alpha, opA, 0, opB, 0, beta, MemorySegment.ofArray(got), 0, what);
    for (int i = 0; i < want.length; i++) {
      if (want[i] != got[i]) {
        fail(what + " -> " + call + ": element " + i + " is " + got[i] + ", expected " + want[i]);
      }
    }
    return true;
  }

  /** Elements from the first to the last one an [r, c] matrix addresses (1 for an empty one). */
  private static long span(int r, int c, long[] s) {
    if (r == 0 || c == 0) return 1;
    return (r - 1) * s[0] + (c - 1) * s[1] + 1;
  }

  @Test
  void theUsualLayoutsMapAsExpected() {
    // Row-major a [M, K], b [K, N], y [M, N]: Yᵀ = Bᵀ·Aᵀ, both read as they lie (N, N).
    CublasLayout.Call c = call(CublasLayout.map(5, 7, 3, 3, 1, 7, 1, 7, 1));
    assertEquals(new CublasLayout.Call(true, false, false, 7, 5, 3, 7, 3, 7, 0, 0, 0, 1), c);
    // nn.Linear: b = wᵀ with w [N, K] row-major (op(B)(k, j) at j·K + k): cuBLAS's A is T.
    c = call(CublasLayout.map(5, 7, 3, 3, 1, 1, 3, 7, 1));
    assertEquals(new CublasLayout.Call(true, true, false, 7, 5, 3, 3, 3, 7, 0, 0, 0, 1), c);
    // Attention-style batch: [B·H] products of [S, D] · [D, S] with uniform strides.
    c = call(CublasLayout.map(4, 4, 8, 8, 1, 1, 8, 4, 1, 6, 32, 32, 16));
    assertEquals(new CublasLayout.Call(true, true, false, 4, 4, 8, 8, 8, 4, 32, 32, 16, 6), c);
    // A column-major y keeps the operands in place.
    c = call(CublasLayout.map(5, 7, 3, 1, 5, 1, 3, 1, 5));
    assertEquals(new CublasLayout.Call(false, false, false, 5, 7, 3, 5, 3, 5, 0, 0, 0, 1), c);
    // A stride-2 view of a's columns, a negative batch stride, an oversized batch: refused.
    assertInstanceOf(
        CublasLayout.NotExpressible.class, CublasLayout.map(5, 7, 3, 6, 2, 7, 1, 7, 1));
    assertInstanceOf(
        CublasLayout.NotExpressible.class,
        CublasLayout.map(5, 7, 3, 3, 1, 7, 1, 7, 1, 2, -15, 0, 35));
    assertInstanceOf(
        CublasLayout.NotExpressible.class,
        CublasLayout.map(1, 1, 1, 1, 1, 1, 1, 1, 1, 1L << 31, 1, 1, 1));
  }

  private static CublasLayout.Call call(CublasLayout.Plan p) {
    return assertInstanceOf(CublasLayout.Call.class, p);
  }
}
