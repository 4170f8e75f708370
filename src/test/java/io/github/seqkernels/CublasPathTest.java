package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.seqkernels.cuda.CudaBackend;
import io.github.seqkernels.cuda.HostBlas;
import io.github.seqkernels.reference.ScalarGemm;
import io.github.seqkernels.reference.ScalarTransformer;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Which products the CUDA backend hands to cuBLAS and which stay on gemm_f32, on the emulator with
 * {@link HostBlas} standing in for cuBLAS: the calls it receives are counted, and each result is
 * checked against the float64 control ({@link GemmTest#within}, {@link LinearTest#within}). The
 * suites themselves run on the same stand-in in the cuda-emulator-cublas execution.
 */
class CublasPathTest {
  static HostBlas blas;
  static CudaBackend be;
  static Backend cpu;

  @BeforeAll
  static void open() {
    blas = new HostBlas();
    be = HostBlas.backend(blas);
    cpu = Backend.create("cpu", 1);
  }

  @AfterAll
  static void close() {
    be.close();
    cpu.close();
  }

  @BeforeEach
  void resetCounts() {
    blas.sgemmCalls = blas.batchedCalls = 0;
  }

  static Tensor random(Random r, long... shape) {
    return Tensor.wrap(Check.gaussian(r, (int) Tensor.numel(shape), 1), shape);
  }

  @Test
  void theEngineIsNamed() {
    assertEquals("host stand-in for cuBLAS (tests)", be.gemmEngine());
    assertTrue(be.description().contains("GEMMs on host stand-in"), be.description());
    try (CudaBackend own = CudaBackend.emulated()) {
      assertEquals("own gemm_f32 (emulator)", own.gemmEngine());
    }
  }

  @Test
  void gemmWithBroadcastCAndTransposesIsOneCall() {
    Random r = Check.random(61);
    Tensor a = random(r, 9, 7), b = random(r, 11, 9), c = random(r, 11), y = Tensor.allocate(7, 11);
    GemmOptions o = new GemmOptions(true, true, 0.5f, -2f);
    be.gemm().forward(a, b, c, o, y);
    assertEquals(1, blas.sgemmCalls);
    GemmTest.within("gemm", ScalarGemm.gemm(a, b, c, o), y.toArray(), 9);
    // C = y itself, read in place.
    Tensor y2 = Tensor.wrap(y.toArray(), 7, 11), y3 = Tensor.wrap(y.toArray(), 7, 11);
    be.gemm().forward(a, b, y2, o, y2);
    GemmTest.within("gemm c=y", ScalarGemm.gemm(a, b, y3, o), y2.toArray(), 9);
  }

  @Test
  void layoutsCuBlasCannotTakeStayOnTheOwnKernel() {
    Random r = Check.random(62);
    // a: every other column of a [5, 16] buffer, no unit stride.
    Tensor wide = random(r, 5, 16);
    Tensor a = Tensor.view(wide.segment(), 0, new long[] {5, 8}, new long[] {16, 2});
    Tensor b = random(r, 8, 6), y = Tensor.allocate(5, 6), want = Tensor.allocate(5, 6);
    be.gemm().forward(a, b, null, GemmOptions.defaults(), y);
    assertEquals(0, blas.sgemmCalls + blas.batchedCalls);
    cpu.gemm().forward(a, b, null, GemmOptions.defaults(), want);
    assertArrayEquals(want.toArray(), y.toArray(), "gemm_f32 gives the CPU's bits");
    // K = 0: y = beta·c with no product.
    Tensor c = random(r, 5, 6), z = Tensor.allocate(5, 6);
    be.gemm().forward(Tensor.allocate(5, 0), Tensor.allocate(0, 6), c, GemmOptions.defaults(), z);
    assertEquals(0, blas.sgemmCalls + blas.batchedCalls);
    assertArrayEquals(c.toArray(), z.toArray());
  }

  @Test
  void matmulBatchesFoldIntoStridedBatchedCalls() {
    Random r = Check.random(63);
    // Attention-style [2, 3] batch of [5, 4] @ [4, 6]: one strided-batched call of 6.
    Tensor a = random(r, 2, 3, 5, 4), b = random(r, 2, 3, 4, 6), y = Tensor.allocate(2, 3, 5, 6);
    be.matmul().forward(a, b, y);
    assertEquals(1, blas.batchedCalls);
    GemmTest.within("matmul", ScalarGemm.matmul(a, b), y.toArray(), 4);

    // a [2, 1] and b [1, 3] broadcast to [2, 3]: the dims do not fold, 2 calls of 3.
    resetCounts();
    Tensor a2 = random(r, 2, 1, 5, 4), b2 = random(r, 1, 3, 4, 6);
    be.matmul().forward(a2, b2, y);
    assertEquals(2, blas.batchedCalls);
    assertEquals(0, blas.sgemmCalls);
    GemmTest.within("matmul broadcast", ScalarGemm.matmul(a2, b2), y.toArray(), 4);

    // b as [B, S, H, D] memory read as [B, H, D, S]: H steps by D, B by S·H·D, not H·D, so the
    // batch dims do not fold: a call of 3 per B.
    resetCounts();
    Tensor bp = random(r, 2, 6, 3, 4).permute(0, 2, 3, 1);
    be.matmul().forward(a, bp, y);
    assertEquals(2, blas.batchedCalls);
    GemmTest.within("matmul permuted", ScalarGemm.matmul(a, bp), y.toArray(), 4);

    // Rank-1 b: one product [5, 4] @ [4].
    resetCounts();
    Tensor v = random(r, 4), yv = Tensor.allocate(5);
    be.matmul().forward(random(r, 5, 4), v, yv);
    assertEquals(1, blas.sgemmCalls);
  }

  @Test
  void linearRunsTheProductOnCuBlasAndTheActivationAfter() {
    Random r = Check.random(64);
    Tensor x = random(r, 2, 3, 8), w = random(r, 5, 8), bias = random(r, 5);
    Tensor y = Tensor.allocate(2, 3, 5);
    Activation gelu = Activation.of("Gelu");
    be.linear().forward(x, w, bias, gelu, y);
    assertEquals(1, blas.sgemmCalls);
    LinearTest.within("linear", ScalarTransformer.linear(x, w, bias), 8, gelu, y.toArray());
  }
}
