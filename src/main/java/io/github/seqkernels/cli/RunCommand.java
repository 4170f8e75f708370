package io.github.seqkernels.cli;

import io.github.seqkernels.Activation;
import io.github.seqkernels.AttentionOptions;
import io.github.seqkernels.Backend;
import io.github.seqkernels.Causal;
import io.github.seqkernels.Conv1dOptions;
import io.github.seqkernels.Direction;
import io.github.seqkernels.GemmOptions;
import io.github.seqkernels.Mask;
import io.github.seqkernels.MatMulOp;
import io.github.seqkernels.RecurrentInputs;
import io.github.seqkernels.RecurrentOptions;
import io.github.seqkernels.RecurrentOutputs;
import io.github.seqkernels.SoftmaxOptions;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.internal.AttentionShape;
import io.github.seqkernels.internal.RecurrentShape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code seqkernels run <op> --in in.npz --out out.npz}: one operator on arrays from a file. */
@Command(
    name = "run",
    description = "Run one operator on the arrays of an .npz file.",
    subcommands = {
      RunCommand.Softmax.class,
      RunCommand.Attention.class,
      RunCommand.Lstm.class,
      RunCommand.Gru.class,
      RunCommand.Rnn.class,
      RunCommand.Gemm.class,
      RunCommand.MatMul.class,
      RunCommand.Linear.class,
      RunCommand.LayerNorm.class,
      RunCommand.Gelu.class,
      RunCommand.Conv1d.class,
      RunCommand.Embedding.class,
      NnCommands.Mha.class,
      NnCommands.EncoderLayer.class,
      NnCommands.DecoderLayer.class,
      NnCommands.Additive.class,
      NnCommands.Luong.class
    },
    mixinStandardHelpOptions = true)
final class RunCommand {
  /** Options every operator takes. */
  static final class Io {
    @Option(names = "--in", required = true, description = "input .npz")
    Path in;

    @Option(names = "--out", required = true, description = "output .npz (written atomically)")
    Path out;

    @Option(
        names = "--backend",
        defaultValue = "auto",
        description = "auto, cpu, cuda or cuda-emulator (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--threads", description = "CPU threads (default: all cores)")
    Integer threads;

    /** Reads the input after checking the output path, so a bad --out costs no work. */
    Npz read() {
      Npz.checkOutput(in, out);
      return Npz.read(in);
    }

    Backend open() {
      int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
      if (t < 1) throw new IllegalArgumentException("--threads: must be >= 1, got " + t);
      return Backend.create(backend, t);
    }
  }

  @Command(
      name = "softmax",
      mixinStandardHelpOptions = true,
      description = "x (float32, any rank) -> y = softmax(scale·x) along --axis.")
  static final class Softmax implements Runnable {
    @Mixin Io io;

    @Option(names = "--axis", defaultValue = "-1", description = "axis (default: last)")
    int axis;

    @Option(names = "--scale", defaultValue = "1", description = "logit scale (default: 1)")
    float scale;

    @Option(names = "--log", description = "log-softmax")
    boolean log;

    @Override
    public void run() {
      Npz in = io.read();
      in.requireOnly("softmax", List.of("x"));
      long[] shape = in.shape("x");
      Tensor x = Tensor.wrap(in.floats("x"), shape);
      float[] y = new float[Math.toIntExact(x.numel())];
      try (Backend be = io.open()) {
        be.softmax()
            .forward(
                x,
                Tensor.wrap(y, shape),
                SoftmaxOptions.defaults().withAxis(axis).withScale(scale).withLog(log));
      }
      Npz.write(io.out, List.of(new Npz.Out("y", y, shape)));
    }
  }

  @Command(
      name = "attention",
      mixinStandardHelpOptions = true,
      description = {
        "q [B,Hq,Sq,D], k [B,Hkv,Sk,D], v [B,Hkv,Sk,Dv] (float32); optional keep or "
            + "block (bool, broadcast to [B,Hq,Sq,Sk]; keep: true = may attend, block: true = "
            + "hidden), bias (float32, broadcast), key_lengths (int32 [B]) -> out [B,Hq,Sq,Dv], "
            + "lse [B,Hq,Sq], and weights [B,Hq,Sq,Sk] with --weights."
      })
  static final class Attention implements Runnable {
    @Mixin Io io;

    @Option(
        names = "--causal",
        defaultValue = "none",
        description = "none, top-left or bottom-right (default: ${DEFAULT-VALUE})")
    String causal;

    @Option(names = "--scale", description = "score scale (default: 1/sqrt(D))")
    Float scale;

    @Option(names = "--weights", description = "also write the attention weights")
    boolean weights;

    @Option(names = "--hard", description = "hard attention: the value of the best allowed key")
    boolean hard;

    @Override
    public void run() {
      Causal c = parseCausal(causal);
      Npz in = io.read();
      in.requireOnly("attention", List.of("q", "k", "v", "keep", "block", "bias", "key_lengths"));
      Tensor q = tensor(in, "q"), k = tensor(in, "k"), v = tensor(in, "v");
      AttentionOptions o = AttentionOptions.defaults().withCausal(c).withHard(hard);
      if (scale != null) {
        if (!Float.isFinite(scale)) {
          throw new IllegalArgumentException("--scale: must be finite, got " + scale);
        }
        o = o.withScale(scale);
      }
      if (in.has("keep") && in.has("block")) {
        throw new IllegalArgumentException(
            "keep, block: give at most one mask (keep: true = may attend; block: true = hidden)");
      }
      if (in.has("keep")) o = o.withMask(Mask.keep(in.bools("keep"), in.shape("keep")));
      if (in.has("block")) o = o.withMask(Mask.block(in.bools("block"), in.shape("block")));
      if (in.has("bias")) o = o.withBias(tensor(in, "bias"));
      if (in.has("key_lengths")) {
        if (in.shape("key_lengths").length != 1) {
          throw new IllegalArgumentException(
              "key_lengths: rank must be 1 [B], got shape "
                  + java.util.Arrays.toString(in.shape("key_lengths")));
        }
        o = o.withKeyLengths(in.ints("key_lengths"));
      }
      // Output sizes come from the inputs, so their ranks are checked first.
      AttentionShape.requireRank("q", q, 4, "[B, Hq, Sq, D]");
      AttentionShape.requireRank("k", k, 4, "[B, Hkv, Sk, D]");
      AttentionShape.requireRank("v", v, 4, "[B, Hkv, Sk, Dv]");
      long b = q.size(0), h = q.size(1), sq = q.size(2), sk = k.size(2), dv = v.size(3);
      long[] outShape = {b, h, sq, dv}, lseShape = {b, h, sq}, wShape = {b, h, sq, sk};
      float[] out = new float[Math.toIntExact(b * h * sq * dv)];
      float[] lse = new float[Math.toIntExact(b * h * sq)];
      float[] w = weights ? new float[Math.toIntExact(b * h * sq * sk)] : null;
      try (Backend be = io.open()) {
        be.attention()
            .forward(
                q,
                k,
                v,
                o,
                Tensor.wrap(out, outShape),
                Tensor.wrap(lse, lseShape),
                w == null ? null : Tensor.wrap(w, wShape));
      }
      List<Npz.Out> outs = new ArrayList<>();
      outs.add(new Npz.Out("out", out, outShape));
      outs.add(new Npz.Out("lse", lse, lseShape));
      if (w != null) outs.add(new Npz.Out("weights", w, wShape));
      Npz.write(io.out, outs);
    }

    private static Causal parseCausal(String s) {
      try {
        return Causal.parse(s);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--" + e.getMessage());
      }
    }

    private static Tensor tensor(Npz in, String name) {
      return Tensor.wrap(in.floats(name), in.shape(name));
    }
  }

  /** The ONNX LSTM / GRU / RNN attributes as flags, and the arrays named as the ONNX inputs. */
  abstract static class Recurrent implements Runnable {
    @Mixin Io io;

    @Option(
        names = "--direction",
        defaultValue = "forward",
        description = "forward, reverse or bidirectional (default: ${DEFAULT-VALUE})")
    String direction;

    @Option(names = "--hidden-size", description = "hidden size (default: from R's last dim)")
    Integer hiddenSize;

    @Option(names = "--clip", description = "cell clip threshold (default: none)")
    Float clip;

    @Option(
        names = "--layout",
        defaultValue = "0",
        description = "0: X [S,B,I], Y [S,dirs,B,H]; 1: X [B,S,I], Y [B,S,dirs,H]")
    int layout;

    @Option(
        names = "--activations",
        split = ",",
        description = "comma-separated ONNX activation names, per direction (default: the op's)")
    List<String> activations;

    @Option(names = "--activation-alpha", split = ",", description = "comma-separated alphas")
    float[] alphas;

    @Option(names = "--activation-beta", split = ",", description = "comma-separated betas")
    float[] betas;

    abstract RecurrentShape.Kind kind();

    RecurrentOptions extra(RecurrentOptions o) {
      return o;
    }

    @Override
    public void run() {
      RecurrentShape.Kind kind = kind();
      boolean lstm = kind == RecurrentShape.Kind.LSTM;
      Npz in = io.read();
      List<String> known =
          new ArrayList<>(List.of("X", "W", "R", "B", "sequence_lens", "initial_h"));
      if (lstm) known.addAll(List.of("initial_c", "P"));
      in.requireOnly(kind.name().toLowerCase(), known);
      Direction dir;
      try {
        dir = Direction.parse(direction);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--" + e.getMessage());
      }
      if (!in.has("R")) in.floats("R"); // the missing-array message
      // hidden_size, when not given, from R [dirs, G·H, H]: its middle dim, so that an R with a
      // wrong last dim is reported as R's error rather than making W look wrong.
      long[] rShape = in.shape("R");
      int gates = kind.gates;
      int h =
          hiddenSize != null
              ? hiddenSize
              : rShape.length == 3 && rShape[1] % gates == 0
                  ? (int) (rShape[1] / gates)
                  : (int) rShape[rShape.length - 1];
      RecurrentOptions o = RecurrentOptions.of(h).withDirection(dir).withLayout(layout);
      if (clip != null) o = o.withClip(clip);
      if (activations != null) o = o.withActivations(Activation.parse(activations, alphas, betas));
      o = extra(o);
      RecurrentInputs ri =
          RecurrentInputs.of(tensor(in, "X"), tensor(in, "W"), tensor(in, "R"))
              .withB(opt(in, "B"))
              .withInitialH(opt(in, "initial_h"))
              .withInitialC(lstm ? opt(in, "initial_c") : null)
              .withP(lstm ? opt(in, "P") : null);
      if (in.has("sequence_lens")) ri = ri.withSequenceLens(in.ints("sequence_lens"));

      AttentionShape.requireRank("X", ri.x(), 3, layout == 0 ? "[S, B, I]" : "[B, S, I]");
      long s = ri.x().size(layout == 0 ? 0 : 1), b = ri.x().size(layout == 0 ? 1 : 0);
      int dirs = dir.count();
      long[] yShape = layout == 0 ? new long[] {s, dirs, b, h} : new long[] {b, s, dirs, h};
      long[] st = layout == 0 ? new long[] {dirs, b, h} : new long[] {b, dirs, h};
      float[] y = new float[Math.toIntExact(s * dirs * b * h)];
      float[] yH = new float[Math.toIntExact(dirs * b * h)];
      float[] yC = lstm ? new float[yH.length] : null;
      try (Backend be = io.open()) {
        kind.on(be)
            .forward(
                ri,
                o,
                new RecurrentOutputs(
                    Tensor.wrap(y, yShape),
                    Tensor.wrap(yH, st),
                    yC == null ? null : Tensor.wrap(yC, st)));
      }
      List<Npz.Out> outs = new ArrayList<>();
      outs.add(new Npz.Out("Y", y, yShape));
      outs.add(new Npz.Out("Y_h", yH, st));
      if (yC != null) outs.add(new Npz.Out("Y_c", yC, st));
      Npz.write(io.out, outs);
    }

    private static Tensor tensor(Npz in, String name) {
      return Tensor.wrap(in.floats(name), in.shape(name));
    }

    private static Tensor opt(Npz in, String name) {
      return in.has(name) ? tensor(in, name) : null;
    }
  }

  @Command(
      name = "gemm",
      mixinStandardHelpOptions = true,
      description = {
        "A [M,K] ([K,M] with --trans-a), B [K,N] ([N,K] with --trans-b), optional C "
            + "(broadcast to [M,N]: [], [N], [M,1], [1,N] or [M,N]) (float32) -> "
            + "Y = alpha·op(A)·op(B) + beta·C [M,N] (ONNX Gemm)."
      })
  static final class Gemm implements Runnable {
    @Mixin Io io;

    @Option(
        names = "--alpha",
        defaultValue = "1",
        description = "scale of op(a)·op(b) (default: 1)")
    float alpha;

    @Option(names = "--beta", defaultValue = "1", description = "scale of c (default: 1)")
    float beta;

    @Option(names = "--trans-a", description = "a holds op(a) transposed, [K,M]")
    boolean transA;

    @Option(names = "--trans-b", description = "b holds op(b) transposed, [N,K]")
    boolean transB;

    @Override
    public void run() {
      Npz in = io.read();
      in.requireOnly("gemm", List.of("A", "B", "C"));
      Tensor a = Attention.tensor(in, "A"), b = Attention.tensor(in, "B");
      Tensor c = in.has("C") ? Attention.tensor(in, "C") : null;
      // The output size comes from the inputs, so their ranks are checked first.
      AttentionShape.requireRank("A", a, 2, transA ? "[K, M]" : "[M, K]");
      AttentionShape.requireRank("B", b, 2, transB ? "[N, K]" : "[K, N]");
      long[] shape = {a.size(transA ? 1 : 0), b.size(transB ? 0 : 1)};
      float[] y = new float[Math.toIntExact(shape[0] * shape[1])];
      try (Backend be = io.open()) {
        be.gemm()
            .forward(a, b, c, new GemmOptions(transA, transB, alpha, beta), Tensor.wrap(y, shape));
      }
      Npz.write(io.out, List.of(new Npz.Out("Y", y, shape)));
    }
  }

  @Command(
      name = "lstm",
      mixinStandardHelpOptions = true,
      description =
          "ONNX LSTM: X, W, R, optional B, sequence_lens, initial_h, initial_c, P "
              + "-> Y, Y_h, Y_c.")
  static final class Lstm extends Recurrent {
    @Option(names = "--input-forget", description = "couple the input and forget gates")
    boolean inputForget;

    @Override
    RecurrentShape.Kind kind() {
      return RecurrentShape.Kind.LSTM;
    }

    @Override
    RecurrentOptions extra(RecurrentOptions o) {
      return o.withInputForget(inputForget);
    }
  }

  @Command(
      name = "gru",
      mixinStandardHelpOptions = true,
      description = "ONNX GRU: X, W, R, optional B, sequence_lens, initial_h -> Y, Y_h.")
  static final class Gru extends Recurrent {
    @Option(
        names = "--linear-before-reset",
        description = "apply the reset gate after R·h " + "(PyTorch nn.GRU)")
    boolean linearBeforeReset;

    @Override
    RecurrentShape.Kind kind() {
      return RecurrentShape.Kind.GRU;
    }

    @Override
    RecurrentOptions extra(RecurrentOptions o) {
      return o.withLinearBeforeReset(linearBeforeReset);
    }
  }

  @Command(
      name = "rnn",
      mixinStandardHelpOptions = true,
      description = "ONNX RNN: X, W, R, optional B, sequence_lens, initial_h -> Y, Y_h.")
  static final class Rnn extends Recurrent {
    @Override
    RecurrentShape.Kind kind() {
      return RecurrentShape.Kind.RNN;
    }
  }

  @Command(
      name = "matmul",
      mixinStandardHelpOptions = true,
      description = {
        "A [..., M, K], B [..., K, N] (float32; rank 1 promoted, batch dims broadcast) -> "
            + "Y = A @ B (numpy / ONNX MatMul)."
      })
  static final class MatMul implements Runnable {
    @Mixin Io io;

    @Override
    public void run() {
      Npz in = io.read();
      in.requireOnly("matmul", List.of("A", "B"));
      Tensor a = Attention.tensor(in, "A"), b = Attention.tensor(in, "B");
      long[] shape = MatMulOp.outputShape(a.shape(), b.shape());
      long count = 1;
      for (long d : shape) count = Math.multiplyExact(count, d);
      float[] y = new float[Math.toIntExact(count)];
      try (Backend be = io.open()) {
        be.matmul().forward(a, b, Tensor.wrap(y, shape));
      }
      Npz.write(io.out, List.of(new Npz.Out("Y", y, shape)));
    }
  }

  @Command(
      name = "linear",
      mixinStandardHelpOptions = true,
      description = {
        "x [..., K], weight [N, K] (PyTorch nn.Linear), optional bias [N] (float32) -> "
            + "y = f(x·weightᵀ + bias) [..., N], f from --activation."
      })
  static final class Linear implements Runnable {
    @Mixin Io io;

    @Option(
        names = "--activation",
        description =
            "fused activation, an ONNX name: Gelu, GeluTanh, Relu, Tanh, ... (default: none)")
    String activation;

    @Override
    public void run() {
      Activation f = activation == null ? null : parseActivation(activation);
      Npz in = io.read();
      in.requireOnly("linear", List.of("x", "weight", "bias"));
      Tensor x = Attention.tensor(in, "x"), w = Attention.tensor(in, "weight");
      Tensor b = in.has("bias") ? Attention.tensor(in, "bias") : null;
      // The output size comes from the inputs, so their ranks are checked first.
      AttentionShape.requireRank("weight", w, 2, "[N, K]");
      if (x.rank() < 1) throw new IllegalArgumentException("x: rank must be >= 1 [..., K], got 0");
      long[] shape = x.shape();
      shape[shape.length - 1] = w.size(0);
      float[] y =
          new float
              [Math.toIntExact(
                  Math.multiplyExact(x.numel() / Math.max(1, x.size(x.rank() - 1)), w.size(0)))];
      try (Backend be = io.open()) {
        Tensor yt = Tensor.wrap(y, shape);
        withArrayNames(() -> be.linear().forward(x, w, b, f, yt), "w", "weight", "b", "bias");
      }
      Npz.write(io.out, List.of(new Npz.Out("y", y, shape)));
    }
  }

  @Command(
      name = "layernorm",
      mixinStandardHelpOptions = true,
      description = {
        "x [..., E], scale [E], optional bias [E] and residual (x's shape) (float32) -> "
            + "y = LayerNorm(x + residual) over the last axis [..., E] (ONNX LayerNormalization, axis -1)."
      })
  static final class LayerNorm implements Runnable {
    @Mixin Io io;

    @Option(
        names = "--epsilon",
        defaultValue = "1e-5",
        description = "added to the variance (default: ${DEFAULT-VALUE})")
    float epsilon;

    @Override
    public void run() {
      Npz in = io.read();
      in.requireOnly("layernorm", List.of("x", "scale", "bias", "residual"));
      Tensor x = Attention.tensor(in, "x"), scale = Attention.tensor(in, "scale");
      Tensor b = in.has("bias") ? Attention.tensor(in, "bias") : null;
      Tensor res = in.has("residual") ? Attention.tensor(in, "residual") : null;
      float[] y = new float[Math.toIntExact(x.numel())];
      try (Backend be = io.open()) {
        be.layerNorm().forward(x, res, scale, b, epsilon, Tensor.wrap(y, x.shape()));
      }
      Npz.write(io.out, List.of(new Npz.Out("y", y, x.shape())));
    }
  }

  @Command(
      name = "gelu",
      mixinStandardHelpOptions = true,
      description =
          "x (float32, any shape) -> y = GELU(x), erf form or tanh form by --approximate.")
  static final class Gelu implements Runnable {
    @Mixin Io io;

    @Option(
        names = "--approximate",
        defaultValue = "none",
        description = "none (x·Φ(x), erf) or tanh (PyTorch's names; default: ${DEFAULT-VALUE})")
    String approximate;

    @Override
    public void run() {
      Activation f =
          switch (approximate) {
            case "none" -> Activation.of("Gelu");
            case "tanh" -> Activation.of("GeluTanh");
            default ->
                throw new IllegalArgumentException(
                    "--approximate: must be none or tanh, got '" + approximate + "'");
          };
      Npz in = io.read();
      in.requireOnly("gelu", List.of("x"));
      Tensor x = Attention.tensor(in, "x");
      float[] y = new float[Math.toIntExact(x.numel())];
      try (Backend be = io.open()) {
        be.elementwise().apply(x, f, Tensor.wrap(y, x.shape()));
      }
      Npz.write(io.out, List.of(new Npz.Out("y", y, x.shape())));
    }
  }

  @Command(
      name = "conv1d",
      mixinStandardHelpOptions = true,
      description = {
        "x [B, C, L], weight [O, C/groups, K], optional bias [O] (float32) -> y [B, O, Lout] "
            + "(PyTorch nn.Conv1d, ONNX Conv on one axis)."
      })
  static final class Conv1d implements Runnable {
    @Mixin Io io;

    @Option(names = "--stride", defaultValue = "1", description = "stride (default: 1)")
    int stride;

    @Option(
        names = "--pads",
        split = ",",
        description = "zero padding before,after the signal, or one value for both (default: 0,0)")
    int[] pads;

    @Option(names = "--dilation", defaultValue = "1", description = "dilation (default: 1)")
    int dilation;

    @Option(names = "--groups", defaultValue = "1", description = "groups (default: 1)")
    int groups;

    @Override
    public void run() {
      int[] p = pads == null ? new int[] {0, 0} : pads;
      if (p.length == 1) p = new int[] {p[0], p[0]};
      if (p.length != 2) {
        throw new IllegalArgumentException(
            "--pads: must be one value or two (before,after), got " + p.length + " values");
      }
      Conv1dOptions o = new Conv1dOptions(stride, p[0], p[1], dilation, groups);
      Npz in = io.read();
      in.requireOnly("conv1d", List.of("x", "weight", "bias"));
      Tensor x = Attention.tensor(in, "x"), w = Attention.tensor(in, "weight");
      Tensor b = in.has("bias") ? Attention.tensor(in, "bias") : null;
      // The output size comes from the inputs, so their ranks are checked first.
      AttentionShape.requireRank("x", x, 3, "[B, C, L]");
      AttentionShape.requireRank("weight", w, 3, "[O, C/groups, K]");
      long lout = Math.max(0, o.outputLength(x.size(2), w.size(2)));
      long[] shape = {x.size(0), w.size(0), lout};
      float[] y = new float[Math.toIntExact(x.size(0) * w.size(0) * lout)];
      try (Backend be = io.open()) {
        Tensor yt = Tensor.wrap(y, shape);
        withArrayNames(() -> be.conv1d().forward(x, w, b, o, yt), "w", "weight");
      }
      Npz.write(io.out, List.of(new Npz.Out("y", y, shape)));
    }
  }

  @Command(
      name = "embedding",
      mixinStandardHelpOptions = true,
      description = {
        "table [V, E] (float32), ids (int32 or int64, any shape) -> y [ids..., E] "
            + "(PyTorch nn.Embedding, ONNX Gather on axis 0)."
      })
  static final class Embedding implements Runnable {
    @Mixin Io io;

    @Override
    public void run() {
      Npz in = io.read();
      in.requireOnly("embedding", List.of("table", "ids"));
      Tensor table = Attention.tensor(in, "table");
      int[] ids = in.ints("ids");
      AttentionShape.requireRank("table", table, 2, "[V, E]");
      long[] idShape = in.shape("ids");
      long[] shape = java.util.Arrays.copyOf(idShape, idShape.length + 1);
      shape[idShape.length] = table.size(1);
      float[] y = new float[Math.toIntExact(ids.length * table.size(1))];
      try (Backend be = io.open()) {
        be.embedding().forward(table, ids, Tensor.wrap(y, shape));
      }
      Npz.write(io.out, List.of(new Npz.Out("y", y, shape)));
    }
  }

  /**
   * Runs an operator whose messages name its arguments as the Java API does ("w", "b") and reports
   * them under the file's array names ("weight", "bias"), so a message names an array the user has.
   */
  private static void withArrayNames(Runnable call, String... apiToArray) {
    try {
      call.run();
    } catch (IllegalArgumentException e) {
      String m = e.getMessage();
      for (int i = 0; i < apiToArray.length; i += 2) {
        if (m.startsWith(apiToArray[i] + ": ")) {
          throw new IllegalArgumentException(
              apiToArray[i + 1] + m.substring(apiToArray[i].length()), e);
        }
      }
      throw e;
    }
  }

  private static Activation parseActivation(String name) {
    try {
      return Activation.of(name);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "--activation: " + e.getMessage().replaceFirst("^activations: ", ""));
    }
  }
}
