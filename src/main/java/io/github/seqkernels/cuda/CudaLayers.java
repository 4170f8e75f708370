package io.github.seqkernels.cuda;

import io.github.seqkernels.EmbeddingOp;
import io.github.seqkernels.LayerNormOp;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * LayerNorm and embedding lookup on the CUDA backend ({@code layernorm_f32}, {@code embedding_f32}
 * in kernels/layers.cu). Operands travel as contiguous device copies; validation and messages are
 * the CPU operators'.
 */
final class CudaLayers {
  private CudaLayers() {}

  static final class Norm implements LayerNormOp {
    private final CudaBackend be;

    Norm(CudaBackend be) {
      this.be = be;
    }

    @Override
    public synchronized void forward(
        Tensor x, Tensor residual, Tensor scale, Tensor bias, float epsilon, Tensor y) {
      AttentionShape.requireNonNull("x", x);
      AttentionShape.requireNonNull("scale", scale);
      AttentionShape.requireNonNull("y", y);
      if (x.rank() < 1) AttentionShape.fail("x: rank must be >= 1, got 0");
      AttentionShape.requireSameShape("y", y, x);
      if (residual != null) AttentionShape.requireSameShape("residual", residual, x);
      long e = x.size(x.rank() - 1);
      if (scale.rank() != 1 || scale.size(0) != e) {
        AttentionShape.fail("scale: must be [" + e + "], got " + Arrays.toString(scale.shape()));
      }
      if (bias != null && (bias.rank() != 1 || bias.size(0) != e)) {
        AttentionShape.fail("bias: must be [" + e + "], got " + Arrays.toString(bias.shape()));
      }
      if (!(epsilon >= 0) || Float.isInfinite(epsilon)) {
        AttentionShape.fail("epsilon: must be finite and >= 0, got " + epsilon);
      }
      if (e > Integer.MAX_VALUE) AttentionShape.fail("x: last dim " + e + " exceeds 2^31-1");
      long rows = e == 0 ? 0 : x.numel() / e;
      if (rows == 0) return;
      if (rows > Integer.MAX_VALUE) AttentionShape.fail("x: " + rows + " rows exceed 2^31-1");
      String what = "layerNorm x" + Arrays.toString(x.shape());
      try (DeviceTensor dx = be.device(x.shape()).upload(x);
          DeviceTensor dr = residual == null ? null : be.device(x.shape()).upload(residual);
          DeviceTensor ds = be.device(e).upload(scale);
          DeviceTensor db = bias == null ? null : be.device(e).upload(bias)) {
        KernelLauncher l = be.launcher();
        KernelArgs a =
            new KernelArgs()
                .ptr(dx.pointer())
                .ptr(dr == null ? 0 : dr.pointer())
                .ptr(ds.pointer())
                .ptr(db == null ? 0 : db.pointer())
                .ptr(dx.pointer())
                .i32((int) e)
                .f32(epsilon);
        int threads = (int) Math.min(256, (e + 31) / 32 * 32);
        l.launch(
            l.function("layers", "layernorm_f32"),
            new int[] {(int) rows, 1, 1},
            new int[] {threads, 1, 1},
            0,
            a,
            what);
        l.synchronize();
        dx.download(y);
      }
    }
  }

  static final class Embedding implements EmbeddingOp {
    private final CudaBackend be;

    Embedding(CudaBackend be) {
      this.be = be;
    }

    @Override
    public synchronized void forward(Tensor table, int[] ids, Tensor y) {
      AttentionShape.requireNonNull("table", table);
      AttentionShape.requireNonNull("ids", ids);
      AttentionShape.requireNonNull("y", y);
      if (table.rank() != 2) {
        AttentionShape.fail("table: must be [V, E], got rank " + table.rank());
      }
      long v = table.size(0), e = table.size(1);
      if (y.rank() < 1 || y.size(y.rank() - 1) != e) {
        AttentionShape.fail("y: last dim must be E = " + e + ", got " + Arrays.toString(y.shape()));
      }
      if (y.numel() != ids.length * e) {
        AttentionShape.fail(
            "y: must hold ids.length = "
                + ids.length
                + " rows, has "
                + (e == 0 ? 0 : y.numel() / e));
      }
      for (int i = 0; i < ids.length; i++) {
        if (ids[i] < 0 || ids[i] >= v) {
          AttentionShape.fail("ids[" + i + "]: must be in [0, " + v + "), got " + ids[i]);
        }
      }
      if (ids.length == 0 || e == 0) return;
      String what = "embedding table" + Arrays.toString(table.shape()) + " ids " + ids.length;
      try (DeviceTensor dt = be.device(v, e).upload(table);
          DeviceTensor dy = be.device(y.shape());
          Staging st = new Staging(be.launcher(), be.pool())) {
        long pIds = st.bytes(MemorySegment.ofArray(ids), (long) ids.length * Integer.BYTES);
        KernelLauncher l = be.launcher();
        KernelArgs a = new KernelArgs().ptr(dt.pointer()).ptr(pIds).ptr(dy.pointer()).i32((int) e);
        l.launch(
            l.function("layers", "embedding_f32"),
            new int[] {ids.length, 1, 1},
            new int[] {128, 1, 1},
            0,
            a,
            what);
        l.synchronize();
        dy.download(y);
      }
    }
  }
}
