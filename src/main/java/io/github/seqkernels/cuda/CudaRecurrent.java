package io.github.seqkernels.cuda;

import static io.github.seqkernels.internal.RecurrentShape.unsqueeze;

import io.github.seqkernels.Activation;
import io.github.seqkernels.Direction;
import io.github.seqkernels.RecurrentCell;
import io.github.seqkernels.RecurrentInputs;
import io.github.seqkernels.RecurrentOp;
import io.github.seqkernels.RecurrentOptions;
import io.github.seqkernels.RecurrentOutputs;
import io.github.seqkernels.RecurrentState;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.GemmShape;
import io.github.seqkernels.internal.RecurrentShape;
import io.github.seqkernels.internal.RecurrentShape.Kind;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * ONNX LSTM, GRU and RNN on the CUDA backend. Per direction: one product ({@link CudaGemm#run}:
 * cuBLAS or gemm_f32) for the input products of every step, {@code xw = x·Wᵀ + Wb} ({@code [S·B,
 * G·H]}), then per step the recurrent product {@code hr = h·Rᵀ + Rb} and one fused gate kernel of
 * kernels/recurrent.cu that updates h (and c) in place and writes the step's rows of Y. GRU with
 * linear_before_reset 0 takes two more launches per step: the reset gate forms {@code r ⊙ h}, whose
 * product with the h block of R feeds the gates. Validation is the shared {@link RecurrentShape},
 * so both backends refuse the same input with the same messages.
 *
 * <p>TODO(perf): one launch pair per step (on cuBLAS three: Rb is copied into hr before the
 * product); a persistent kernel that keeps R in shared memory would cut the per-step launch cost
 * for small batches.
 */
final class CudaRecurrent implements RecurrentOp {
  /** sizeof(RecArgs): 9 pointers, 3 strides, 5 ints, clip, 3 kinds, 6 floats, clip_on. */
  static final int ARGS_BYTES = 160;

  private final CudaBackend be;
  private final Kind kind;
  private final RecurrentShape shape;

  CudaRecurrent(CudaBackend be, Kind kind) {
    this.be = be;
    this.kind = kind;
    this.shape = new RecurrentShape(kind);
  }

  @Override
  public synchronized void forward(RecurrentInputs in, RecurrentOptions o, RecurrentOutputs out) {
    RecurrentShape sh = shape.validate(in, o, out, be.placement());
    int s = sh.s, b = sh.b, isz = sh.i, h = sh.h, g = kind.gates, gh = g * h;
    if (b == 0) return;
    GemmShape.requireSize("X", "S·B", (long) s * b, 65535L * 64);
    String what =
        kind.name().toLowerCase()
            + " x"
            + Arrays.toString(in.x().shape())
            + " H "
            + h
            + " "
            + o.direction().name().toLowerCase();
    Tensor x = in.x(), w = in.w(), r = in.r(), bias = in.b(), p = in.p();
    KernelLauncher l = be.launcher();
    // x as a contiguous [S, B, I] copy whatever the layout: its rows are the GEMM's rows.
    Tensor xSbi = sh.layout == 0 ? x : x.permute(1, 0, 2);
    try (Staging st = new Staging(be);
        Arena arena = Arena.ofConfined()) {
      Tensor xw = st.temp((long) s * b, gh), hr = st.temp(b, gh), hs = st.temp(b, h);
      Tensor cs = st.temp(b, h), rh = st.temp(b, h), hh = st.temp(b, h);
      long px = xSbi.numel() > 0 ? st.contiguousIn(xSbi) : 0;
      long pw = st.in(w), pr = st.in(r);
      long pb = bias == null ? 0 : st.in(bias), pp = p == null ? 0 : st.in(p);
      long py = out.y() == null ? 0 : st.out(out.y());
      long pLens = 0;
      if (in.sequenceLens() != null) {
        pLens = st.bytes(MemorySegment.ofArray(in.sequenceLens()), 4L * b);
      }
      // Y as [S, dirs, B, H] strides whatever the layout.
      long[] ySt = new long[4];
      if (out.y() != null) {
        int[] order = sh.layout == 0 ? new int[] {0, 1, 2, 3} : new int[] {1, 2, 0, 3};
        for (int k = 0; k < 4; k++) ySt[k] = out.y().stride(order[k]);
      }
      MemorySegment args = arena.allocate(ARGS_BYTES, 8);
      boolean twoPhase = kind == Kind.GRU && !o.linearBeforeReset();
      String entry =
          switch (kind) {
            case LSTM -> "lstm_gates_f32";
            case GRU -> "gru_gates_f32";
            case RNN -> "rnn_gates_f32";
          };
      Kernel gates = l.function("recurrent", entry);
      Kernel reset = twoPhase ? l.function("recurrent", "gru_reset_f32") : null;
      int[] grid = {(int) Math.min(65535, ((long) b * h + 127) / 128), 1, 1};
      int[] block = {128, 1, 1};

      for (int d = 0; d < sh.dirs; d++) {
        boolean reverse = o.direction() == Direction.REVERSE || d == 1;
        loadState(in.initialH(), sh.layout, d, hs);
        if (kind == Kind.LSTM) loadState(in.initialC(), sh.layout, d, cs);
        long wd = pw + 4 * d * w.stride(0), rd = pr + 4 * d * r.stride(0);
        long wb = bias == null ? 0 : pb + 4 * d * bias.stride(0);
        long rb = bias == null ? 0 : wb + 4 * (long) gh * bias.stride(1);
        long bs1 = bias == null ? 0 : bias.stride(1);

        // Input products of every step: xw = x·W[d]ᵀ + Wb[d].
        if (s > 0) {
          CudaGemm.run(
              be,
              what,
              px,
              isz,
              1,
              wd,
              w.stride(2),
              w.stride(1),
              wb,
              0,
              bs1,
              address(xw),
              gh,
              1,
              s * b,
              gh,
              isz,
              1f,
              1f,
              null);
        }
        fillArgs(args, sh, o, d, p, pp, hs, cs, rh, hh, twoPhase, pLens, ySt);
        for (int step = 0; step < s; step++) {
          int t = reverse ? s - 1 - step : step;
          // hr = h·R[d]ᵀ + Rb[d].
          CudaGemm.run(
              be,
              what,
              address(hs),
              h,
              1,
              rd,
              r.stride(2),
              r.stride(1),
              rb,
              0,
              bs1,
              address(hr),
              gh,
              1,
              b,
              gh,
              h,
              1f,
              1f,
              null);
          args.set(ValueLayout.JAVA_LONG, 0, address(xw) + 4L * t * b * gh);
          args.set(ValueLayout.JAVA_LONG, 8, address(hr));
          args.set(ValueLayout.JAVA_LONG, 56, py == 0 ? 0 : py + 4 * (t * ySt[0] + d * ySt[1]));
          args.set(ValueLayout.JAVA_INT, 104, t);
          if (twoPhase) {
            // rh = r ⊙ h, then hh = rh·Rh[d]ᵀ + Rbh[d] (the h block, rows 2H..3H of R).
            l.launch(reset, grid, block, 0, new KernelArgs().struct(args), what);
            CudaGemm.run(
                be,
                what,
                address(rh),
                h,
                1,
                rd + 4L * 2 * h * r.stride(1),
                r.stride(2),
                r.stride(1),
                rb == 0 ? 0 : rb + 4L * 2 * h * bs1,
                0,
                bs1,
                address(hh),
                h,
                1,
                b,
                h,
                h,
                1f,
                1f,
                null);
          }
          l.launch(gates, grid, block, 0, new KernelArgs().struct(args), what);
        }
        storeState(out.yH(), sh.layout, d, hs);
        if (kind == Kind.LSTM) storeState(out.yC(), sh.layout, d, cs);
      }
      st.finish();
    }
  }

  /** The fields of RecArgs that hold for a whole direction. */
  private void fillArgs(
      MemorySegment a,
      RecurrentShape sh,
      RecurrentOptions o,
      int d,
      Tensor p,
      long pp,
      Tensor hs,
      Tensor cs,
      Tensor rh,
      Tensor hh,
      boolean twoPhase,
      long pLens,
      long[] ySt) {
    a.set(ValueLayout.JAVA_LONG, 16, twoPhase ? address(hh) : 0);
    a.set(ValueLayout.JAVA_LONG, 24, address(hs));
    a.set(ValueLayout.JAVA_LONG, 32, address(cs));
    a.set(ValueLayout.JAVA_LONG, 40, address(rh));
    a.set(ValueLayout.JAVA_LONG, 48, p == null ? 0 : pp + 4 * d * p.stride(0));
    a.set(ValueLayout.JAVA_LONG, 64, pLens);
    a.set(ValueLayout.JAVA_LONG, 72, p == null ? 0 : p.stride(1));
    // y strides along B and H (the step and direction go into the pointer).
    a.set(ValueLayout.JAVA_LONG, 80, ySt[2]);
    a.set(ValueLayout.JAVA_LONG, 88, ySt[3]);
    a.set(ValueLayout.JAVA_INT, 96, sh.b);
    a.set(ValueLayout.JAVA_INT, 100, sh.h);
    a.set(ValueLayout.JAVA_INT, 108, o.inputForget() ? 1 : 0);
    a.set(ValueLayout.JAVA_INT, 112, o.linearBeforeReset() ? 1 : 0);
    a.set(ValueLayout.JAVA_FLOAT, 116, Float.isInfinite(sh.clip) ? 0f : sh.clip);
    int na = kind.activations;
    for (int k = 0; k < 3; k++) {
      Activation f = k < na ? sh.acts[d * na + k] : null;
      a.set(ValueLayout.JAVA_INT, 120 + 4L * k, f == null ? -1 : f.kind().ordinal());
      a.set(ValueLayout.JAVA_FLOAT, 132 + 4L * k, f == null ? 0f : f.alpha());
      a.set(ValueLayout.JAVA_FLOAT, 144 + 4L * k, f == null ? 0f : f.beta());
    }
    a.set(ValueLayout.JAVA_INT, 156, Float.isInfinite(sh.clip) ? 0 : 1);
  }

  /** Direction d's [B, H] slice of a state tensor ([dirs, B, H], layout 1: [B, dirs, H]). */
  private static Tensor slice(Tensor t, int layout, int d) {
    int dd = layout == 0 ? 0 : 1, bd = 1 - dd;
    return t.asStrided(
        new long[] {t.size(bd), t.size(2)},
        new long[] {t.stride(bd), t.stride(2)},
        t.offset() + d * t.stride(dd));
  }

  private void loadState(Tensor init, int layout, int d, Tensor dst) {
    if (init == null) {
      be.launcher().zero(address(dst), dst.numel() * Float.BYTES);
    } else {
      be.copy(slice(init, layout, d), dst);
    }
  }

  private void storeState(Tensor out, int layout, int d, Tensor src) {
    if (out != null) be.copy(src, slice(out, layout, d));
  }

  private static long address(Tensor t) {
    return CudaBackend.address(t);
  }

  /**
   * A cell: a one-step forward over copies of the weights with a leading dim of 1; x and the states
   * travel as they do for the layer.
   */
  RecurrentCell cell(Tensor w, Tensor r, Tensor b, Tensor p, RecurrentOptions o) {
    RecurrentShape.requireCell(kind, w, r, b, p, o);
    // Copies taken now: as on the CPU, later changes to the caller's tensors are not seen. Device
    // copies live in the pool until the backend closes (a cell has no close of its own).
    Tensor w3 = unsqueeze(copy(w)), r3 = unsqueeze(copy(r));
    Tensor b2 = unsqueeze(copy(b)), p2 = unsqueeze(copy(p));
    int isz = (int) w.size(1), hsz = o.hiddenSize();
    RecurrentOptions opts = o.withLayout(0);
    // Validates the weights and options now, as the CPU cell does when it packs them.
    Tensor probe = Tensor.wrap(new float[isz], 1, 1, isz);
    new RecurrentShape(kind)
        .validate(
            new RecurrentInputs(probe, w3, r3, b2, null, null, null, p2),
            opts,
            new RecurrentOutputs(null, null, null),
            be.placement());
    return new RecurrentCell() {
      @Override
      public void step(Tensor x, RecurrentState state, RecurrentState next) {
        RecurrentShape.requireStep(kind, x, state, next);
        forward(
            RecurrentShape.stepInputs(kind, x, w3, r3, b2, p2, state),
            opts,
            RecurrentShape.stepOutputs(kind, next));
      }

      @Override
      public int hiddenSize() {
        return hsz;
      }

      @Override
      public RecurrentState newState(int batch) {
        return RecurrentState.zeros(batch, hsz, kind == Kind.LSTM);
      }
    };
  }

  /**
   * A copy where t lives: a host array for a host tensor (staged per step, as any host operand), a
   * block of this backend's pool for a device tensor, so that device weights stay on the device.
   */
  private Tensor copy(Tensor t) {
    if (t == null) return null;
    return t.isHost() ? Tensor.wrap(t.toArray(), t.shape()) : be.upload(t);
  }
}
