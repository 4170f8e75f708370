package io.github.seqkernels.cli;

import io.github.seqkernels.Backend;
import io.github.seqkernels.Mask;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.nn.AdditiveAttention;
import io.github.seqkernels.nn.MultiheadAttention;
import io.github.seqkernels.nn.MultiheadAttentionOptions;
import io.github.seqkernels.nn.MultiplicativeAttention;
import io.github.seqkernels.nn.TransformerDecoderLayer;
import io.github.seqkernels.nn.TransformerEncoderLayer;
import io.github.seqkernels.nn.TransformerLayerConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code run mha}, {@code run encoder-layer}, {@code run decoder-layer}, {@code run
 * additive-attention} and {@code run luong-attention}: the {@code io.github.seqkernels.nn} modules
 * on arrays named as PyTorch names them (state-dict entries with their dots).
 */
final class NnCommands {
  private NnCommands() {}

  static Tensor tensor(Npz in, String name) {
    return Tensor.wrap(in.floats(name), in.shape(name));
  }

  /** A bool, uint8 or 0/1 integer array as booleans. */
  static boolean[] mask(Npz in, String name) {
    try {
      return in.bools(name);
    } catch (IllegalArgumentException notBool) {
      int[] v;
      try {
        v = in.ints(name);
      } catch (IllegalArgumentException notInt) {
        throw new IllegalArgumentException(
            name + ": dtype must be bool or 0/1 integers, " + notBool.getMessage());
      }
      boolean[] b = new boolean[v.length];
      for (int i = 0; i < v.length; i++) {
        if (v[i] != 0 && v[i] != 1) {
          throw new IllegalArgumentException(name + "[" + i + "] = " + v[i] + " must be 0 or 1");
        }
        b[i] = v[i] == 1;
      }
      return b;
    }
  }

  /**
   * The key options from the arrays {@code <padding>} ([B, Sk], true = padding) and {@code
   * <lengths>} ([B]), when present, and the causal flag.
   */
  static MultiheadAttentionOptions keyOptions(
      Npz in, String padding, String lengths, boolean causal) {
    MultiheadAttentionOptions o = MultiheadAttentionOptions.none().withCausal(causal);
    if (in.has(padding)) {
      long[] s = in.shape(padding);
      if (s.length != 2) {
        throw new IllegalArgumentException(
            padding + ": must be [B, Sk] (true = padding), got shape " + Arrays.toString(s));
      }
      o = o.withKeyPaddingMask(Mask.block(mask(in, padding), s));
    }
    if (in.has(lengths)) {
      if (in.shape(lengths).length != 1) {
        throw new IllegalArgumentException(
            lengths + ": rank must be 1 [B], got shape " + Arrays.toString(in.shape(lengths)));
      }
      o = o.withKeyLengths(in.ints(lengths));
    }
    return o;
  }

  /** Every array not in {@code inputs}, as a state dict. */
  static Map<String, Tensor> stateDict(Npz in, List<String> inputs) {
    Map<String, Tensor> sd = new HashMap<>();
    for (String n : in.names()) if (!inputs.contains(n)) sd.put(n, tensor(in, n));
    return sd;
  }

  static float[] zeros(long... shape) {
    long n = 1;
    for (long d : shape) n = Math.multiplyExact(n, d);
    return new float[Math.toIntExact(n)];
  }

  static void requireRank3(Tensor t, String name, String layout) {
    if (t.rank() != 3) {
      throw new IllegalArgumentException(
          name + ": rank must be 3 " + layout + ", got shape " + Arrays.toString(t.shape()));
    }
  }

  @Command(
      name = "mha",
      mixinStandardHelpOptions = true,
      description = {
        "nn.MultiheadAttention (batch_first): query [B,Sq,E], key [B,Sk,kdim] and value "
            + "[B,Sk,vdim] (both default to query), in_proj_weight [3E,E] or q_proj_weight, "
            + "k_proj_weight, v_proj_weight; optional in_proj_bias [3E], out_proj_weight [E,E] "
            + "(out_proj.weight also read), optional out_proj_bias; optional key_padding_mask "
            + "[B,Sk] (bool or 0/1, true = padding), key_lengths [B] -> out [B,Sq,E], and "
            + "weights [B,Sq,Sk] (--weights) or [B,H,Sq,Sk] (--per-head-weights)."
      })
  static final class Mha implements Runnable {
    @Mixin RunCommand.Io io;

    @Option(names = "--heads", required = true, description = "number of heads")
    int heads;

    @Option(names = "--causal", description = "query i sees keys j <= i")
    boolean causal;

    @Option(names = "--weights", description = "also write the head-averaged weights")
    boolean weights;

    @Option(names = "--per-head-weights", description = "also write the weights of every head")
    boolean perHead;

    static final List<String> INPUTS =
        List.of("query", "key", "value", "key_padding_mask", "key_lengths");

    @Override
    public void run() {
      if (weights && perHead) {
        throw new IllegalArgumentException(
            "--weights, --per-head-weights: give at most one (head mean or per head)");
      }
      Npz in = io.read();
      List<String> known = new ArrayList<>(INPUTS);
      known.addAll(
          List.of(
              "in_proj_weight",
              "in_proj_bias",
              "q_proj_weight",
              "k_proj_weight",
              "v_proj_weight",
              "out_proj_weight",
              "out_proj_bias",
              "out_proj.weight",
              "out_proj.bias"));
      in.requireOnly("mha", known);
      // The state dict under PyTorch's names: out_proj_* are accepted for out_proj.*.
      Map<String, Tensor> sd = new HashMap<>();
      for (String n : in.names()) {
        if (INPUTS.contains(n)) continue;
        sd.put(n.replace("out_proj_", "out_proj."), tensor(in, n));
      }
      Tensor query = tensor(in, "query");
      Tensor key = in.has("key") ? tensor(in, "key") : query;
      Tensor value = in.has("value") ? tensor(in, "value") : key;
      MultiheadAttentionOptions o = keyOptions(in, "key_padding_mask", "key_lengths", causal);
      requireRank3(query, "query", "[B, Sq, E]");
      requireRank3(key, "key", "[B, Sk, kdim]");
      long b = query.size(0), sq = query.size(1), e = query.size(2), sk = key.size(1);
      long[] outShape = {b, sq, e};
      long[] wShape = perHead ? new long[] {b, heads, sq, sk} : new long[] {b, sq, sk};
      float[] out = zeros(outShape), w = weights || perHead ? zeros(wShape) : null;
      try (Backend be = io.open();
          MultiheadAttention m = MultiheadAttention.fromStateDict(be, heads, sd, "")) {
        m.forward(
            query,
            key,
            value,
            o,
            Tensor.wrap(out, outShape),
            w == null ? null : Tensor.wrap(w, wShape));
      }
      List<Npz.Out> outs = new ArrayList<>();
      outs.add(new Npz.Out("out", out, outShape));
      if (w != null) outs.add(new Npz.Out("weights", w, wShape));
      Npz.write(io.out, outs);
    }
  }

  /** Flags shared by the Transformer layers. */
  static final class LayerFlags {
    @Option(names = "--heads", required = true, description = "nhead")
    int heads;

    @Option(names = "--norm-first", description = "pre-norm (norm_first=True)")
    boolean normFirst;

    @Option(
        names = "--activation",
        defaultValue = "relu",
        description = "relu or gelu (default: ${DEFAULT-VALUE})")
    String activation;

    @Option(
        names = "--epsilon",
        defaultValue = "1e-5",
        description = "layer_norm_eps (default: ${DEFAULT-VALUE})")
    float epsilon;

    /** d_model and dim_feedforward from linear1.weight [F, E]. */
    TransformerLayerConfig config(Map<String, Tensor> sd) {
      Tensor w1 = sd.get("linear1.weight");
      if (w1 == null) {
        throw new IllegalArgumentException(
            "linear1.weight: missing (gives d_model and dim_feedforward)");
      }
      if (w1.rank() != 2) {
        throw new IllegalArgumentException(
            "linear1.weight: must be [dim_feedforward, d_model], got shape "
                + Arrays.toString(w1.shape()));
      }
      TransformerLayerConfig c;
      try {
        c =
            TransformerLayerConfig.of((int) w1.size(1), heads, (int) w1.size(0))
                .withActivation(activation)
                .withLayerNormEps(epsilon)
                .withNormFirst(normFirst);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--" + e.getMessage().replace("nhead:", "heads:"));
      }
      return c;
    }
  }

  @Command(
      name = "encoder-layer",
      mixinStandardHelpOptions = true,
      description = {
        "nn.TransformerEncoderLayer (batch_first, eval): x [B,S,E], its state dict "
            + "(self_attn.in_proj_weight, ..., norm2.bias), optional key_padding_mask [B,S] "
            + "(true = padding) or key_lengths [B] -> out [B,S,E]."
      })
  static final class EncoderLayer implements Runnable {
    @Mixin RunCommand.Io io;
    @Mixin LayerFlags flags;

    @Option(names = "--causal", description = "causal self-attention (src_mask)")
    boolean causal;

    @Override
    public void run() {
      Npz in = io.read();
      List<String> inputs = List.of("x", "key_padding_mask", "key_lengths");
      Map<String, Tensor> sd = stateDict(in, inputs);
      TransformerLayerConfig c = flags.config(sd);
      Tensor x = tensor(in, "x");
      requireRank3(x, "x", "[B, S, E]");
      MultiheadAttentionOptions o = keyOptions(in, "key_padding_mask", "key_lengths", causal);
      float[] out = zeros(x.shape());
      try (Backend be = io.open();
          TransformerEncoderLayer layer = TransformerEncoderLayer.fromStateDict(be, c, sd)) {
        layer.forward(x, o, Tensor.wrap(out, x.shape()));
      }
      Npz.write(io.out, List.of(new Npz.Out("out", out, x.shape())));
    }
  }

  @Command(
      name = "decoder-layer",
      mixinStandardHelpOptions = true,
      description = {
        "nn.TransformerDecoderLayer (batch_first, eval): tgt [B,St,E], memory [B,Sm,E], its "
            + "state dict (self_attn.*, multihead_attn.*, linear1/2, norm1/2/3), optional "
            + "tgt_key_padding_mask [B,St], memory_key_padding_mask [B,Sm] (true = padding) or "
            + "memory_lengths [B] -> out [B,St,E]. Self-attention is causal unless --no-causal."
      })
  static final class DecoderLayer implements Runnable {
    @Mixin RunCommand.Io io;
    @Mixin LayerFlags flags;

    @Option(
        names = "--no-causal",
        description = "self-attention sees every target position (no tgt_mask)")
    boolean noCausal;

    @Override
    public void run() {
      Npz in = io.read();
      List<String> inputs =
          List.of(
              "tgt",
              "memory",
              "tgt_key_padding_mask",
              "memory_key_padding_mask",
              "memory_lengths",
              "tgt_lengths");
      Map<String, Tensor> sd = stateDict(in, inputs);
      TransformerLayerConfig c = flags.config(sd);
      Tensor tgt = tensor(in, "tgt"), memory = tensor(in, "memory");
      requireRank3(tgt, "tgt", "[B, St, E]");
      MultiheadAttentionOptions so =
          keyOptions(in, "tgt_key_padding_mask", "tgt_lengths", !noCausal);
      MultiheadAttentionOptions mo =
          keyOptions(in, "memory_key_padding_mask", "memory_lengths", false);
      float[] out = zeros(tgt.shape());
      try (Backend be = io.open();
          TransformerDecoderLayer layer = TransformerDecoderLayer.fromStateDict(be, c, sd, "")) {
        layer.forward(tgt, memory, so, mo, Tensor.wrap(out, tgt.shape()));
      }
      Npz.write(io.out, List.of(new Npz.Out("out", out, tgt.shape())));
    }
  }

  /** Inputs, masks and outputs shared by the single-head attentions. */
  abstract static class SingleHead implements Runnable {
    @Mixin RunCommand.Io io;

    @Option(names = "--causal", description = "query i sees keys j <= i")
    boolean causal;

    @Option(names = "--weights", description = "also write the attention weights [B,Sq,Sk]")
    boolean weights;

    abstract String name();

    abstract List<String> weightNames();

    abstract void forward(
        Backend be,
        Npz in,
        Tensor q,
        Tensor k,
        Tensor v,
        MultiheadAttentionOptions o,
        Tensor ctx,
        Tensor w);

    @Override
    public void run() {
      Npz in = io.read();
      List<String> known =
          new ArrayList<>(List.of("query", "key", "value", "key_padding_mask", "key_lengths"));
      known.addAll(weightNames());
      in.requireOnly(name(), known);
      Tensor q = tensor(in, "query"), k = tensor(in, "key"), v = tensor(in, "value");
      requireRank3(q, "query", "[B, Sq, Dq]");
      requireRank3(k, "key", "[B, Sk, Dk]");
      requireRank3(v, "value", "[B, Sk, Dv]");
      MultiheadAttentionOptions o = keyOptions(in, "key_padding_mask", "key_lengths", causal);
      long b = q.size(0), sq = q.size(1), sk = k.size(1), dv = v.size(2);
      long[] cShape = {b, sq, dv}, wShape = {b, sq, sk};
      float[] ctx = zeros(cShape), w = weights ? zeros(wShape) : null;
      try (Backend be = io.open()) {
        forward(
            be,
            in,
            q,
            k,
            v,
            o,
            Tensor.wrap(ctx, cShape),
            w == null ? null : Tensor.wrap(w, wShape));
      }
      List<Npz.Out> outs = new ArrayList<>();
      outs.add(new Npz.Out("context", ctx, cShape));
      if (w != null) outs.add(new Npz.Out("weights", w, wShape));
      Npz.write(io.out, outs);
    }
  }

  @Command(
      name = "additive-attention",
      mixinStandardHelpOptions = true,
      description = {
        "Bahdanau attention, score = v·tanh(w_query·q + w_key·k + bias): query [B,Sq,Dq], key "
            + "[B,Sk,Dk], value [B,Sk,Dv], w_query [A,Dq], w_key [A,Dk], optional bias [A], v [A]; "
            + "optional key_padding_mask [B,Sk] (true = padding), key_lengths [B] -> context "
            + "[B,Sq,Dv], and weights [B,Sq,Sk] with --weights."
      })
  static final class Additive extends SingleHead {
    @Override
    String name() {
      return "additive-attention";
    }

    @Override
    List<String> weightNames() {
      return List.of("w_query", "w_key", "bias", "v");
    }

    @Override
    void forward(
        Backend be,
        Npz in,
        Tensor q,
        Tensor k,
        Tensor v,
        MultiheadAttentionOptions o,
        Tensor ctx,
        Tensor w) {
      try (AdditiveAttention a =
          new AdditiveAttention(
              be,
              tensor(in, "w_query"),
              tensor(in, "w_key"),
              in.has("bias") ? tensor(in, "bias") : null,
              tensor(in, "v"))) {
        a.forward(q, k, v, o, ctx, w);
      }
    }
  }

  @Command(
      name = "luong-attention",
      mixinStandardHelpOptions = true,
      description = {
        "Luong attention, score = scale·q·w·k (general) or scale·q·k (dot, without w): query "
            + "[B,Sq,Dq], key [B,Sk,Dk], value [B,Sk,Dv], optional w [Dq,Dk]; optional "
            + "key_padding_mask [B,Sk] (true = padding), key_lengths [B] -> context [B,Sq,Dv], "
            + "and weights [B,Sq,Sk] with --weights."
      })
  static final class Luong extends SingleHead {
    @Option(names = "--scale", defaultValue = "1", description = "score scale (default: 1)")
    float scale;

    @Override
    String name() {
      return "luong-attention";
    }

    @Override
    List<String> weightNames() {
      return List.of("w");
    }

    @Override
    void forward(
        Backend be,
        Npz in,
        Tensor q,
        Tensor k,
        Tensor v,
        MultiheadAttentionOptions o,
        Tensor ctx,
        Tensor w) {
      Tensor weight = in.has("w") ? tensor(in, "w") : null;
      if (weight == null && q.size(2) != k.size(2)) {
        throw new IllegalArgumentException(
            "w: missing, and the dot form needs Dq = Dk, got " + q.size(2) + " and " + k.size(2));
      }
      if (!Float.isFinite(scale)) {
        throw new IllegalArgumentException("--scale: must be finite, got " + scale);
      }
      try (MultiplicativeAttention m =
          new MultiplicativeAttention(be, weight, (int) q.size(2), scale)) {
        m.forward(q, k, v, o, ctx, w);
      }
    }
  }
}
