package io.github.seqkernels.cuda;

import io.github.seqkernels.AttentionOp;
import io.github.seqkernels.AttentionOptions;
import io.github.seqkernels.Causal;
import io.github.seqkernels.Mask;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Attention on the CUDA backend: {@code attention_fwd_f32} (kernels/attention.cu), fed through an
 * {@code AttnArgs} struct whose layout below mirrors the kernel's. Validation is the shared {@link
 * AttentionShape}, so both backends accept and refuse the same input with the same messages.
 */
final class CudaAttention implements AttentionOp {
  /** Queries per block and keys per tile: ATT_BQ and ATT_BK of attention.cu. */
  static final int BQ = 32, BK = 16;

  /** sizeof(AttnArgs): 9 pointers, 31 strides of 8 bytes, 11 ints and a float, padded to 8. */
  static final int ARGS_BYTES = 368;

  private final CudaBackend be;
  private final AttentionShape shape = new AttentionShape();
  private int[] lastLengths;
  private long lengthsBlock, lengthsBytes;

  CudaAttention(CudaBackend be) {
    this.be = be;
  }

  @Override
  public synchronized void forward(
      Tensor q, Tensor k, Tensor v, AttentionOptions o, Tensor out, Tensor lse, Tensor weights) {
    AttentionShape s = shape.validate(q, k, v, o, out, lse, weights, be.placement());
    if ((long) s.b * s.hq * s.sq == 0) return;
    if (s.hq > 65535 || s.b > 65535) {
      AttentionShape.fail(
          "q: batch " + s.b + " and heads " + s.hq + " must each be <= 65535 on the CUDA backend");
    }
    String what =
        "attention q"
            + Arrays.toString(q.shape())
            + " k"
            + Arrays.toString(k.shape())
            + " v"
            + Arrays.toString(v.shape())
            + " "
            + o;
    int shared = Float.BYTES * (BK * (s.d + s.dv) + BQ * s.dv);
    KernelLauncher l = be.launcher();
    if (shared > l.maxSharedBytes()) {
      AttentionShape.fail(
          "q: head dims D = "
              + s.d
              + ", Dv = "
              + s.dv
              + " need "
              + shared
              + " bytes of shared memory per block, the device allows "
              + l.maxSharedBytes());
    }
    try (Staging st = new Staging(be);
        Arena arena = Arena.ofConfined()) {
      MemorySegment a = arena.allocate(ARGS_BYTES, 8);
      a.set(ValueLayout.JAVA_LONG, 0, st.in(q));
      a.set(ValueLayout.JAVA_LONG, 8, st.in(k));
      a.set(ValueLayout.JAVA_LONG, 16, st.in(v));
      a.set(ValueLayout.JAVA_LONG, 24, st.out(out));
      a.set(ValueLayout.JAVA_LONG, 32, lse == null ? 0 : st.out(lse));
      a.set(ValueLayout.JAVA_LONG, 40, weights == null ? 0 : st.out(weights));
      a.set(ValueLayout.JAVA_LONG, 48, o.bias() == null ? 0 : st.in(o.bias()));
      Mask mask = o.mask();
      if (mask != null) {
        long n = 1;
        for (long d : mask.shape()) n *= d;
        a.set(ValueLayout.JAVA_LONG, 56, st.bytes(mask.bytes(), n));
      }
      int[] lengths = o.keyLengthsView();
      if (lengths != null) {
        a.set(ValueLayout.JAVA_LONG, 64, deviceLengths(lengths));
      }
      strides(a, 72, q, 4);
      strides(a, 104, k, 4);
      strides(a, 136, v, 4);
      strides(a, 168, out, 4);
      if (lse != null) strides(a, 200, lse, 3);
      if (weights != null) strides(a, 224, weights, 4);
      for (int i = 0; i < 4; i++) {
        a.set(ValueLayout.JAVA_LONG, 256 + 8L * i, o.bias() == null ? 0 : s.biasStrides[i]);
        a.set(ValueLayout.JAVA_LONG, 288 + 8L * i, mask == null ? 0 : s.maskStrides[i]);
      }
      int[] ints = {s.b, s.hq, s.hkv, s.sq, s.sk, s.d, s.dv};
      for (int i = 0; i < ints.length; i++) a.set(ValueLayout.JAVA_INT, 320 + 4L * i, ints[i]);
      a.set(ValueLayout.JAVA_FLOAT, 348, s.scale);
      a.set(ValueLayout.JAVA_INT, 352, causal(o.causal()));
      a.set(ValueLayout.JAVA_INT, 356, mask != null && mask.isBlockMask() ? 1 : 0);
      a.set(ValueLayout.JAVA_INT, 360, o.hard() ? 1 : 0);

      Kernel kernel = l.function("attention", "attention_fwd_f32");
      int[] grid = {(s.sq + BQ - 1) / BQ, s.hq, s.b};
      l.launch(kernel, grid, new int[] {BQ, 1, 1}, shared, new KernelArgs().struct(a), what);
      st.finish();
    }
  }

  /**
   * The key lengths on the device. A model passes the same lengths to every layer of a forward, so
   * the last ones are kept in a block of this operator's and copied again only when they change:
   * one small copy per batch instead of one per layer. The copy is ordered after the launches that
   * read the old contents (same stream), so rewriting the block is safe.
   */
  private long deviceLengths(int[] lengths) {
    if (lengthsBlock == 0 || !Arrays.equals(lengths, lastLengths)) {
      long bytes = Math.max(1, (long) lengths.length * Integer.BYTES);
      if (lengthsBlock != 0 && lengthsBytes < bytes) {
        be.pool().release(lengthsBlock);
        lengthsBlock = 0;
      }
      if (lengthsBlock == 0) {
        lengthsBlock = be.pool().allocate(bytes);
        lengthsBytes = bytes;
      }
      be.launcher()
          .copyToDevice(
              MemorySegment.ofArray(lengths), lengthsBlock, (long) lengths.length * Integer.BYTES);
      lastLengths = lengths.clone();
    }
    return lengthsBlock;
  }

  private static int causal(Causal c) {
    return switch (c) {
      case NONE -> 0;
      case TOP_LEFT -> 1;
      case BOTTOM_RIGHT -> 2;
    };
  }

  private static void strides(MemorySegment a, long at, Tensor t, int rank) {
    for (int i = 0; i < rank; i++) a.set(ValueLayout.JAVA_LONG, at + 8L * i, t.stride(i));
  }
}
