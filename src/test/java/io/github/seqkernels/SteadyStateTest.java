package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** Steady-state behaviour: no allocation per call, thread-count independence, logging. */
class SteadyStateTest {
  static long allocatedBytes() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getCurrentThreadAllocatedBytes();
  }

  /**
   * With one thread every piece runs on the calling thread, so its allocation counter sees all of a
   * call's allocations. After warm-up (scratch grown, code compiled) a call allocates nothing
   * (measured: 0 bytes). The bound of 16 bytes per call, averaged over 2000 calls, leaves room for
   * a one-off allocation by the JIT (a deoptimisation) but not for any per-call object.
   */
  @Test
  void attentionAndSoftmaxDoNotAllocatePerCall() {
    try (Backend be = Backend.create("cpu", 1)) {
      int b = 1, h = 2, s = 97, d = 40;
      Tensor q = Tensor.allocate(b, h, s, d), k = Tensor.allocate(b, h, s, d);
      Tensor v = Tensor.allocate(b, h, s, d), out = Tensor.allocate(b, h, s, d);
      Tensor lse = Tensor.allocate(b, h, s);
      Tensor x = Tensor.allocate(64, 100), y = Tensor.allocate(64, 100);
      AttentionOptions o =
          AttentionOptions.defaults().withCausal(Causal.BOTTOM_RIGHT).withKeyLengths(90);
      SoftmaxOptions so = SoftmaxOptions.defaults().withLog(true);
      // Code still interpreted or compiled by C1 boxes every vector, so steady state is reached
      // only once C2 has compiled the kernels, which takes longer on a busy machine: measure
      // rounds of calls until one allocates nothing, for at most 20 rounds.
      int calls = 1000;
      long perCall = Long.MAX_VALUE;
      for (int round = 0; round < 20 && perCall >= 16; round++) {
        long before = allocatedBytes();
        for (int i = 0; i < calls; i++) {
          be.attention().forward(q, k, v, o, out, lse, null);
          be.softmax().forward(x, y, so);
        }
        perCall = (allocatedBytes() - before) / calls;
      }
      assertTrue(perCall < 16, "allocated " + perCall + " bytes per call pair");
    }
  }

  /** Each (batch, head) is computed the same way whatever the thread count: bit-identical. */
  @Test
  void resultDoesNotDependOnThreadCount() {
    java.util.Random r = Check.random(31);
    Tensor q = Tensor.wrap(Check.gaussian(r, 3 * 4 * 130 * 24, 1), 3, 4, 130, 24);
    Tensor k = Tensor.wrap(Check.gaussian(r, 3 * 2 * 150 * 24, 1), 3, 2, 150, 24);
    Tensor v = Tensor.wrap(Check.gaussian(r, 3 * 2 * 150 * 16, 1), 3, 2, 150, 16);
    float[] first = null;
    for (int threads : new int[] {1, 2, 3}) {
      try (Backend be = Backend.create("cpu", threads)) {
        Tensor out = Tensor.allocate(3, 4, 130, 16);
        be.attention()
            .forward(q, k, v, AttentionOptions.defaults().withCausal(Causal.TOP_LEFT), out);
        if (first == null) first = out.toArray();
        else org.junit.jupiter.api.Assertions.assertArrayEquals(first, out.toArray());
      }
    }
  }

  @Test
  void autoLogsItsChoice() {
    Logger jul = Logger.getLogger("io.github.seqkernels");
    List<String> seen = new ArrayList<>();
    Handler h =
        new Handler() {
          @Override
          public void publish(LogRecord rec) {
            seen.add(
                rec.getLevel()
                    + " "
                    + java.text.MessageFormat.format(rec.getMessage(), rec.getParameters()));
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    jul.addHandler(h);
    java.util.logging.Level before = jul.getLevel(); // the CLI quietens it when run in-process
    jul.setLevel(java.util.logging.Level.INFO);
    try (Backend be = Backend.create("auto", 2)) {
      assertEquals("cpu", be.name());
    } finally {
      jul.removeHandler(h);
      jul.setLevel(before);
    }
    assertEquals(1, seen.size(), seen.toString());
    assertTrue(seen.get(0).startsWith("INFO backend auto: chose cpu (Vector API"), seen.get(0));
  }
}
