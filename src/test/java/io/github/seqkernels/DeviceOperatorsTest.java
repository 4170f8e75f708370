package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.seqkernels.cuda.CudaBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every operator of a backend with device memory takes its own device tensors and gives the same
 * bits as with host tensors: each case runs three times on the same backend, all arguments on the
 * host, all on the device, and mixed (every other argument on the device), and the outputs are
 * compared bit for bit (including strided views, which stay views on the device). Runs on the test
 * backend when it has device memory ({@code cuda-emulator}, and {@code cuda-emulator-cublas} for
 * the cuBLAS path), else on the CUDA emulator.
 */
class DeviceOperatorsTest {
  static Backend be;

  @BeforeAll
  static void open() {
    Backend t = CpuBackendTest.openTestBackend();
    if (!t.usesDeviceMemory()) {
      t.close();
      t = CudaBackend.emulated();
    }
    be = t;
  }

  @AfterAll
  static void close() {
    be.close();
  }

  /** One call's arguments: shapes of every tensor, which of them are written, and the call. */
  record Case(String name, long[][] shapes, int outputs, Consumer<Tensor[]> op) {}

  /** Runs c with the arguments placed by {@code device[i]}; returns the outputs' values. */
  static float[][] run(Case c, boolean[] device) {
    Random r = Check.random(c.name().hashCode());
    List<Tensor> owned = new ArrayList<>();
    Tensor[] args = new Tensor[c.shapes().length];
    try {
      for (int i = 0; i < args.length; i++) {
        long n = 1;
        for (long s : c.shapes()[i]) n *= s;
        Tensor h = Tensor.wrap(Check.gaussian(r, (int) n, 1), c.shapes()[i]);
        args[i] = device[i] ? be.upload(h) : h;
        if (device[i]) {
          assertFalse(args[i].isHost());
          owned.add(args[i]);
        }
      }
      c.op().accept(args);
      int first = args.length - c.outputs();
      float[][] out = new float[c.outputs()][];
      for (int i = 0; i < c.outputs(); i++) {
        Tensor t = args[first + i];
        if (t.isHost()) {
          out[i] = t.toArray();
        } else {
          try (Tensor h = be.download(t)) {
            out[i] = h.toArray();
          }
        }
      }
      return out;
    } finally {
      for (Tensor t : owned) t.close();
    }
  }

  static void check(Case c) {
    int n = c.shapes().length;
    boolean[] host = new boolean[n], dev = new boolean[n], mixed = new boolean[n];
    java.util.Arrays.fill(dev, true);
    for (int i = 0; i < n; i++) mixed[i] = i % 2 == 0;
    float[][] expected = run(c, host), onDevice = run(c, dev), mix = run(c, mixed);
    for (int i = 0; i < expected.length; i++) {
      assertArrayEquals(bits(expected[i]), bits(onDevice[i]), c.name() + " output " + i);
      assertArrayEquals(bits(expected[i]), bits(mix[i]), c.name() + " mixed, output " + i);
    }
  }

  static int[] bits(float[] a) {
    int[] b = new int[a.length];
    for (int i = 0; i < a.length; i++) b[i] = Float.floatToRawIntBits(a[i]);
    return b;
  }

  @Test
  void softmax() {
    check(
        new Case(
            "softmax",
            new long[][] {{3, 7, 5}, {3, 5, 7}},
            1,
            a ->
                be.softmax()
                    .forward(
                        a[0].permute(0, 2, 1),
                        a[1],
                        SoftmaxOptions.defaults().withAxis(1).withScale(0.7f))));
    check(
        new Case(
            "log softmax",
            new long[][] {{4, 9}, {4, 9}},
            1,
            a -> be.softmax().forward(a[0], a[1], SoftmaxOptions.defaults().withLog(true))));
  }

  @Test
  void attention() {
    // q as a [B, S, H, D] buffer seen as [B, H, S, D]; key lengths, causal, additive bias.
    check(
        new Case(
            "attention",
            new long[][] {
              {2, 5, 4, 8},
              {2, 2, 6, 8},
              {2, 2, 6, 8},
              {1, 1, 5, 6},
              {2, 4, 5, 8},
              {2, 4, 5},
              {2, 4, 5, 6}
            },
            3,
            a ->
                be.attention()
                    .forward(
                        a[0].permute(0, 2, 1, 3),
                        a[1],
                        a[2],
                        AttentionOptions.defaults()
                            .withCausal(Causal.BOTTOM_RIGHT)
                            .withKeyLengths(6, 4)
                            .withBias(a[3]),
                        a[4],
                        a[5],
                        a[6])));
  }

  @Test
  void gemmAndMatMul() {
    check(
        new Case(
            "gemm",
            new long[][] {{3, 4}, {5, 3}, {5}, {4, 5}},
            1,
            a ->
                be.gemm()
                    .forward(
                        a[0],
                        a[1],
                        a[2],
                        GemmOptions.defaults()
                            .withTransA(true)
                            .withTransB(true)
                            .withAlpha(0.5f)
                            .withBeta(2f),
                        a[3])));
    check(
        new Case(
            "gemm strided y",
            new long[][] {{6, 4}, {4, 5}, {5, 6}},
            1,
            a -> be.gemm().forward(a[0], a[1], null, GemmOptions.defaults(), a[2].permute(1, 0))));
    check(
        new Case(
            "matmul",
            new long[][] {{2, 1, 3, 4}, {3, 4, 5}, {2, 3, 3, 5}},
            1,
            a -> be.matmul().forward(a[0], a[1], a[2])));
    check(
        new Case(
            "matmul vector",
            new long[][] {{7}, {2, 7, 3}, {2, 3}},
            1,
            a -> be.matmul().forward(a[0], a[1], a[2])));
  }

  @Test
  void linear() {
    check(
        new Case(
            "linear gelu",
            new long[][] {{3, 2, 4}, {5, 4}, {5}, {2, 3, 5}},
            1,
            a ->
                be.linear()
                    .forward(a[0].permute(1, 0, 2), a[1], a[2], Activation.of("Gelu"), a[3])));
    check(
        new Case(
            "linear transposed weight, strided out",
            new long[][] {{6, 4}, {4, 5}, {5, 6}},
            1,
            a -> be.linear().forward(a[0], a[1].permute(1, 0), null, a[2].permute(1, 0))));
  }

  @Test
  void layerNormElementwiseEmbeddingConv() {
    check(
        new Case(
            "layerNorm",
            new long[][] {{3, 8}, {3, 8}, {8}, {8}, {3, 8}},
            1,
            a -> be.layerNorm().forward(a[0], a[1], a[2], a[3], 1e-5f, a[4])));
    check(
        new Case(
            "layerNorm in place, permuted",
            new long[][] {{8, 3}, {8}, {8}},
            1,
            a ->
                be.layerNorm()
                    .forward(a[0].permute(1, 0), a[1], null, 1e-12f, a[0].permute(1, 0))));
    check(
        new Case(
            "activation",
            new long[][] {{3, 4, 5}, {5, 3, 4}},
            1,
            a -> be.elementwise().apply(a[0], Activation.of("Tanh"), a[1].permute(1, 2, 0))));
    check(
        new Case(
            "add broadcast, in place",
            new long[][] {{4}, {3, 4}},
            1,
            a -> be.elementwise().add(a[1], a[0], a[1])));
    check(
        new Case(
            "embedding",
            new long[][] {{10, 6}, {4, 6}},
            1,
            a -> be.embedding().forward(a[0], new int[] {3, 0, 9, 3}, a[1])));
    check(
        new Case(
            "conv1d",
            new long[][] {{2, 3, 9}, {4, 3, 3}, {4}, {2, 4, 5}},
            1,
            a ->
                be.conv1d()
                    .forward(
                        a[0],
                        a[1],
                        a[2],
                        Conv1dOptions.defaults().withStride(2).withPadding(1),
                        a[3])));
  }

  @Test
  void recurrentLayers() {
    check(
        new Case(
            "lstm",
            new long[][] {
              {5, 2, 3},
              {1, 16, 3},
              {1, 16, 4},
              {1, 32},
              {1, 2, 4},
              {1, 2, 4},
              {1, 12},
              {5, 1, 2, 4},
              {1, 2, 4},
              {1, 2, 4}
            },
            3,
            a ->
                be.lstm()
                    .forward(
                        RecurrentInputs.of(a[0], a[1], a[2])
                            .withB(a[3])
                            .withInitialH(a[4])
                            .withInitialC(a[5])
                            .withP(a[6])
                            .withSequenceLens(5, 3),
                        RecurrentOptions.of(4),
                        new RecurrentOutputs(a[7], a[8], a[9]))));
    check(
        new Case(
            "gru bidirectional, batch-first",
            new long[][] {{2, 4, 3}, {2, 15, 3}, {2, 15, 5}, {2, 30}, {2, 4, 2, 5}, {2, 2, 5}},
            2,
            a ->
                be.gru()
                    .forward(
                        RecurrentInputs.of(a[0], a[1], a[2]).withB(a[3]),
                        RecurrentOptions.of(5).withDirection(Direction.BIDIRECTIONAL).withLayout(1),
                        new RecurrentOutputs(a[4], a[5], null))));
  }

  @Test
  void recurrentCellKeepsItsStateOnTheDevice() {
    check(
        new Case(
            "lstm cell, 3 steps",
            new long[][] {{16, 3}, {16, 4}, {32}, {2, 3}, {2, 4}, {2, 4}},
            2,
            a -> {
              RecurrentCell cell = be.lstmCell(a[0], a[1], a[2], null, RecurrentOptions.of(4));
              RecurrentState st = new RecurrentState(a[4], a[5]);
              for (int i = 0; i < 3; i++) cell.step(a[3], st, st);
            }));
    // A cell made from device weights keeps device copies: closing the originals changes nothing.
    Random r = Check.random(5);
    Tensor w = be.upload(Tensor.wrap(Check.gaussian(r, 48, 1), 16, 3));
    Tensor rr = be.upload(Tensor.wrap(Check.gaussian(r, 64, 1), 16, 4));
    RecurrentCell cell = be.lstmCell(w, rr, null, null, RecurrentOptions.of(4));
    w.close();
    rr.close();
    try (Tensor x = be.upload(Tensor.wrap(Check.gaussian(r, 3, 1), 1, 3));
        RecurrentState st = new RecurrentState(be.allocate(1, 4), be.allocate(1, 4));
        Tensor h = Tensor.allocate(1, 4)) {
      cell.step(x, st, st);
      be.copy(st.h(), h);
      float[] v = h.toArray();
      boolean any = false;
      for (float f : v) any |= f != 0f;
      assertTrue(any, "the step wrote h");
    }
  }
}
