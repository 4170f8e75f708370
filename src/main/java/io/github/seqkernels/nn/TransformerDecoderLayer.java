package io.github.seqkernels.nn;

import io.github.seqkernels.Backend;
import io.github.seqkernels.Tensor;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * PyTorch's {@code nn.TransformerDecoderLayer} (batch_first=True), inference only: dropout is not
 * applied (as in eval mode). For tgt x {@code [B, St, E]} and memory m {@code [B, Sm, E]}:
 *
 * <pre>
 *   post-norm: h1 = norm1(x + SA(x));   h2 = norm2(h1 + CA(h1, m));   out = norm3(h2 + FF(h2))
 *   pre-norm:  h1 = x + SA(norm1(x));   h2 = h1 + CA(norm2(h1), m);   out = h2 + FF(norm3(h2))
 *   SA = self_attn over tgt, CA = multihead_attn over memory, FF = linear2(activation(linear1))
 * </pre>
 *
 * <p>Weights are named as in {@code nn.TransformerDecoderLayer.state_dict()}: self_attn.*,
 * multihead_attn.*, linear1/2, norm1/2/3. The self-attention is usually causal ({@code tgt_mask} =
 * {@link MultiheadAttentionOptions#withCausal}), the cross-attention takes the memory key padding
 * mask (or memory lengths).
 *
 * <p>Scratch is kept for the last shape; one call at a time per instance. {@link #close()} closes
 * both attention modules.
 */
public final class TransformerDecoderLayer implements AutoCloseable {
  private final Backend backend;
  private final TransformerLayerConfig config;
  private final MultiheadAttention selfAttn, crossAttn;
  private final Tensor w1, b1, w2, b2, n1w, n1b, n2w, n2b, n3w, n3b;
  private final Sublayers.Buffers buffers = new Sublayers.Buffers(5);

  /**
   * The layer from its parts (the attention modules are owned by the layer from now on): linear1
   * {@code [F, E]}, {@code [F]}; linear2 {@code [E, F]}, {@code [E]}; norms {@code [E]}; biases may
   * be null. Weights are viewed, not copied.
   */
  public TransformerDecoderLayer(
      Backend backend,
      TransformerLayerConfig config,
      MultiheadAttention selfAttn,
      MultiheadAttention crossAttn,
      Tensor linear1Weight,
      Tensor linear1Bias,
      Tensor linear2Weight,
      Tensor linear2Bias,
      Tensor norm1Weight,
      Tensor norm1Bias,
      Tensor norm2Weight,
      Tensor norm2Bias,
      Tensor norm3Weight,
      Tensor norm3Bias) {
    if (backend == null) throw new IllegalArgumentException("backend: must not be null");
    if (config == null) throw new IllegalArgumentException("config: must not be null");
    long e = config.dModel(), f = config.dimFeedforward();
    TransformerEncoderLayer.requireSelfAttention("self_attn", selfAttn, config);
    TransformerEncoderLayer.requireSelfAttention("multihead_attn", crossAttn, config);
    MultiheadAttention.requireMatrix("linear1.weight", linear1Weight, f, e);
    MultiheadAttention.requireVector("linear1.bias", linear1Bias, f);
    MultiheadAttention.requireMatrix("linear2.weight", linear2Weight, e, f);
    MultiheadAttention.requireVector("linear2.bias", linear2Bias, e);
    Tensor[][] norms = {
      {norm1Weight, norm1Bias}, {norm2Weight, norm2Bias}, {norm3Weight, norm3Bias}
    };
    for (int i = 0; i < 3; i++) {
      if (norms[i][0] == null) {
        throw new IllegalArgumentException("norm" + (i + 1) + ".weight: must not be null");
      }
      MultiheadAttention.requireVector("norm" + (i + 1) + ".weight", norms[i][0], e);
      MultiheadAttention.requireVector("norm" + (i + 1) + ".bias", norms[i][1], e);
    }
    this.backend = backend;
    this.config = config;
    this.selfAttn = selfAttn;
    this.crossAttn = crossAttn;
    this.w1 = linear1Weight;
    this.b1 = linear1Bias;
    this.w2 = linear2Weight;
    this.b2 = linear2Bias;
    this.n1w = norm1Weight;
    this.n1b = norm1Bias;
    this.n2w = norm2Weight;
    this.n2b = norm2Bias;
    this.n3w = norm3Weight;
    this.n3b = norm3Bias;
  }

  /**
   * The layer from an {@code nn.TransformerDecoderLayer} state dict (names under {@code prefix}, ""
   * for none). A missing, misshaped or unexpected name throws IllegalArgumentException naming it.
   */
  public static TransformerDecoderLayer fromStateDict(
      Backend backend,
      TransformerLayerConfig config,
      Map<String, Tensor> stateDict,
      String prefix) {
    if (stateDict == null) throw new IllegalArgumentException("stateDict: must not be null");
    if (config == null) throw new IllegalArgumentException("config: must not be null");
    Set<String> used = new HashSet<>();
    long e = config.dModel(), f = config.dimFeedforward();
    Tensor[] l1 = Sublayers.linear(stateDict, prefix + "linear1", f, e, used);
    Tensor[] l2 = Sublayers.linear(stateDict, prefix + "linear2", e, f, used);
    Tensor[] n1 = Sublayers.norm(stateDict, prefix + "norm1", e, used);
    Tensor[] n2 = Sublayers.norm(stateDict, prefix + "norm2", e, used);
    Tensor[] n3 = Sublayers.norm(stateDict, prefix + "norm3", e, used);
    MultiheadAttention sa =
        MultiheadAttention.fromStateDict(
            backend, config.heads(), stateDict, prefix + "self_attn.", used);
    MultiheadAttention ca = null;
    try {
      ca =
          MultiheadAttention.fromStateDict(
              backend, config.heads(), stateDict, prefix + "multihead_attn.", used);
      StateDicts.requireNoExtra(stateDict, prefix, used);
      return new TransformerDecoderLayer(
          backend, config, sa, ca, l1[0], l1[1], l2[0], l2[1], n1[0], n1[1], n2[0], n2[1], n3[0],
          n3[1]);
    } catch (RuntimeException ex) {
      sa.close();
      if (ca != null) ca.close();
      throw ex;
    }
  }

  public TransformerLayerConfig config() {
    return config;
  }

  /**
   * The layer on tgt {@code [B, St, E]} and memory {@code [B, Sm, E]} into out {@code [B, St, E]}
   * (out may be tgt). {@code selfOptions}: tgt_mask (usually causal) and tgt_key_padding_mask;
   * {@code memoryOptions}: memory_mask and memory_key_padding_mask (or memory lengths).
   */
  public synchronized void forward(
      Tensor tgt,
      Tensor memory,
      MultiheadAttentionOptions selfOptions,
      MultiheadAttentionOptions memoryOptions,
      Tensor out) {
    long e = config.dModel();
    MultiheadAttention.requireRank3("tgt", tgt, -1, -1, e, "[B, St, E]");
    long b = tgt.size(0), s = tgt.size(1);
    MultiheadAttention.requireRank3("memory", memory, b, -1, e, "[B, Sm, E]");
    MultiheadAttention.requireRank3("out", out, b, s, e, "[B, St, E]");
    if (selfOptions == null) throw new IllegalArgumentException("selfOptions: must not be null");
    if (memoryOptions == null) {
      throw new IllegalArgumentException("memoryOptions: must not be null");
    }
    float eps = config.layerNormEps();
    Tensor a = buffers.get(0, b, s, e), h1 = buffers.get(1, b, s, e), h2 = buffers.get(2, b, s, e);
    Tensor ff = buffers.get(3, b, s, config.dimFeedforward());
    if (!config.normFirst()) {
      selfAttn.forward(tgt, tgt, tgt, selfOptions, a);
      backend.layerNorm().forward(a, tgt, n1w, n1b, eps, h1);
      crossAttn.forward(h1, memory, memory, memoryOptions, a);
      backend.layerNorm().forward(a, h1, n2w, n2b, eps, h2);
      feedForward(h2, ff, a);
      backend.layerNorm().forward(a, h2, n3w, n3b, eps, out);
    } else {
      Tensor n = buffers.get(4, b, s, e);
      backend.layerNorm().forward(tgt, n1w, n1b, eps, n);
      selfAttn.forward(n, n, n, selfOptions, a);
      backend.elementwise().add(tgt, a, h1);
      backend.layerNorm().forward(h1, n2w, n2b, eps, n);
      crossAttn.forward(n, memory, memory, memoryOptions, a);
      backend.elementwise().add(h1, a, h2);
      backend.layerNorm().forward(h2, n3w, n3b, eps, n);
      feedForward(n, ff, a);
      backend.elementwise().add(h2, a, out);
    }
  }

  private void feedForward(Tensor x, Tensor hidden, Tensor y) {
    backend.linear().forward(x, w1, b1, config.activation(), hidden);
    backend.linear().forward(hidden, w2, b2, y);
  }

  @Override
  public synchronized void close() {
    buffers.close();
    selfAttn.close();
    crossAttn.close();
  }
}
