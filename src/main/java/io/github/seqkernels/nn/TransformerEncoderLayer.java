package io.github.seqkernels.nn;

import io.github.seqkernels.Backend;
import io.github.seqkernels.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * PyTorch's {@code nn.TransformerEncoderLayer} (batch_first=True), inference only: dropout is not
 * applied (as in eval mode). For x {@code [B, S, E]}:
 *
 * <pre>
 *   post-norm (norm_first=False):  h = norm1(x + SA(x));       out = norm2(h + FF(h))
 *   pre-norm  (norm_first=True):   h = x + SA(norm1(x));       out = h + FF(norm2(h))
 *   SA = self-attention (self_attn), FF(h) = linear2(activation(linear1(h)))
 * </pre>
 *
 * <p>Weights are named as in {@code nn.TransformerEncoderLayer.state_dict()} ({@link
 * #fromStateDict}); BERT-style layers with separate query, key and value weights are built with
 * {@link MultiheadAttention#separate} and the constructor (BERT: post-norm, exact GELU, eps 1e-12).
 * The results match the layer's standard path; PyTorch's inference fast path (nested tensors) may
 * instead return zeros at padded positions, which this layer computes like any other position.
 *
 * <p>Scratch is kept for the last shape; one call at a time per instance. {@link #close()} closes
 * the self-attention module too.
 */
public final class TransformerEncoderLayer implements AutoCloseable {
  private final Backend backend;
  private final TransformerLayerConfig config;
  private final MultiheadAttention selfAttn;
  private final Tensor w1, b1, w2, b2, n1w, n1b, n2w, n2b;
  private final Sublayers.Buffers buffers;
  private final List<Tensor> owned = new ArrayList<>(); // device copies of host weights

  /**
   * The layer from its parts: self-attention (owned by the layer from now on: closed with it),
   * linear1 {@code [F, E]} and {@code [F]}, linear2 {@code [E, F]} and {@code [E]}, norm1 and norm2
   * weight and bias {@code [E]}; biases may be null. Weights are viewed, not copied; on a backend
   * with device memory, host weights are copied to the device once, here (later changes to them are
   * not seen), and the scratch lives there too, so the layer's calls copy nothing.
   */
  public TransformerEncoderLayer(
      Backend backend,
      TransformerLayerConfig config,
      MultiheadAttention selfAttn,
      Tensor linear1Weight,
      Tensor linear1Bias,
      Tensor linear2Weight,
      Tensor linear2Bias,
      Tensor norm1Weight,
      Tensor norm1Bias,
      Tensor norm2Weight,
      Tensor norm2Bias) {
    if (backend == null) throw new IllegalArgumentException("backend: must not be null");
    if (config == null) throw new IllegalArgumentException("config: must not be null");
    long e = config.dModel(), f = config.dimFeedforward();
    requireSelfAttention("self_attn", selfAttn, config);
    MultiheadAttention.requireMatrix("linear1.weight", linear1Weight, f, e);
    MultiheadAttention.requireVector("linear1.bias", linear1Bias, f);
    MultiheadAttention.requireMatrix("linear2.weight", linear2Weight, e, f);
    MultiheadAttention.requireVector("linear2.bias", linear2Bias, e);
    MultiheadAttention.requireVector("norm1.weight", norm1Weight, e);
    MultiheadAttention.requireVector("norm1.bias", norm1Bias, e);
    MultiheadAttention.requireVector("norm2.weight", norm2Weight, e);
    MultiheadAttention.requireVector("norm2.bias", norm2Bias, e);
    if (norm1Weight == null || norm2Weight == null) {
      throw new IllegalArgumentException("norm1.weight, norm2.weight: must not be null");
    }
    this.backend = backend;
    this.config = config;
    this.selfAttn = selfAttn;
    this.buffers = new Sublayers.Buffers(backend, 4);
    try {
      this.w1 = Sublayers.resident(backend, linear1Weight, owned);
      this.b1 = Sublayers.resident(backend, linear1Bias, owned);
      this.w2 = Sublayers.resident(backend, linear2Weight, owned);
      this.b2 = Sublayers.resident(backend, linear2Bias, owned);
      this.n1w = Sublayers.resident(backend, norm1Weight, owned);
      this.n1b = Sublayers.resident(backend, norm1Bias, owned);
      this.n2w = Sublayers.resident(backend, norm2Weight, owned);
      this.n2b = Sublayers.resident(backend, norm2Bias, owned);
    } catch (RuntimeException ex) {
      for (Tensor t : owned) t.close();
      throw ex;
    }
  }

  /**
   * The layer from an {@code nn.TransformerEncoderLayer} state dict: self_attn.in_proj_weight,
   * self_attn.in_proj_bias, self_attn.out_proj.weight, self_attn.out_proj.bias, linear1.weight,
   * linear1.bias, linear2.weight, linear2.bias, norm1.weight, norm1.bias, norm2.weight, norm2.bias.
   * A missing, misshaped or unexpected name throws IllegalArgumentException naming it.
   */
  public static TransformerEncoderLayer fromStateDict(
      Backend backend, TransformerLayerConfig config, Map<String, Tensor> stateDict) {
    return fromStateDict(backend, config, stateDict, "");
  }

  /**
   * As {@link #fromStateDict(Backend, TransformerLayerConfig, Map)}, names under {@code prefix}.
   */
  public static TransformerEncoderLayer fromStateDict(
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
    MultiheadAttention sa =
        MultiheadAttention.fromStateDict(
            backend, config.heads(), stateDict, prefix + "self_attn.", used);
    try {
      StateDicts.requireNoExtra(stateDict, prefix, used);
      return new TransformerEncoderLayer(
          backend, config, sa, l1[0], l1[1], l2[0], l2[1], n1[0], n1[1], n2[0], n2[1]);
    } catch (RuntimeException ex) {
      sa.close();
      throw ex;
    }
  }

  public TransformerLayerConfig config() {
    return config;
  }

  public MultiheadAttention selfAttention() {
    return selfAttn;
  }

  /**
   * The layer on x {@code [B, S, E]} into out {@code [B, S, E]} (out may be x). {@code options}:
   * PyTorch's {@code src_key_padding_mask} ({@link MultiheadAttentionOptions#withKeyPaddingMask}),
   * the same padding as key lengths, {@code src_mask}, or causal; reuse one options object across
   * calls of a shape so nothing is derived again.
   */
  public synchronized void forward(Tensor x, MultiheadAttentionOptions options, Tensor out) {
    long e = config.dModel();
    MultiheadAttention.requireRank3("x", x, -1, -1, e, "[B, S, E]");
    long b = x.size(0), s = x.size(1);
    MultiheadAttention.requireRank3("out", out, b, s, e, "[B, S, E]");
    if (options == null) throw new IllegalArgumentException("options: must not be null");
    Tensor sa = buffers.get(0, b, s, e), h = buffers.get(1, b, s, e);
    Tensor ff = buffers.get(2, b, s, config.dimFeedforward());
    if (!config.normFirst()) {
      selfAttn.forward(x, x, x, options, sa);
      backend.layerNorm().forward(sa, x, n1w, n1b, config.layerNormEps(), h);
      feedForward(h, ff, sa);
      backend.layerNorm().forward(sa, h, n2w, n2b, config.layerNormEps(), out);
    } else {
      Tensor n = buffers.get(3, b, s, e);
      backend.layerNorm().forward(x, n1w, n1b, config.layerNormEps(), n);
      selfAttn.forward(n, n, n, options, sa);
      backend.elementwise().add(x, sa, h);
      backend.layerNorm().forward(h, n2w, n2b, config.layerNormEps(), n);
      feedForward(n, ff, sa);
      backend.elementwise().add(h, sa, out);
    }
  }

  /** {@link #forward(Tensor, MultiheadAttentionOptions, Tensor)} with key lengths (or null). */
  public void forward(Tensor x, int[] keyLengths, boolean causal, Tensor out) {
    forward(x, MultiheadAttentionOptions.none().withKeyLengths(keyLengths).withCausal(causal), out);
  }

  /** y = linear2(activation(linear1(x))), hidden [B, S, F] as scratch. */
  private void feedForward(Tensor x, Tensor hidden, Tensor y) {
    backend.linear().forward(x, w1, b1, config.activation(), hidden);
    backend.linear().forward(hidden, w2, b2, y);
  }

  @Override
  public synchronized void close() {
    buffers.close();
    for (Tensor t : owned) t.close();
    owned.clear();
    selfAttn.close();
  }

  static void requireSelfAttention(String name, MultiheadAttention m, TransformerLayerConfig c) {
    if (m == null) throw new IllegalArgumentException(name + ": must not be null");
    if (m.embedDim() != c.dModel() || m.heads() != c.heads()) {
      throw new IllegalArgumentException(
          name
              + ": embed_dim "
              + m.embedDim()
              + " and heads "
              + m.heads()
              + " must be d_model "
              + c.dModel()
              + " and nhead "
              + c.heads());
    }
    if (m.kdim() != c.dModel() || m.vdim() != c.dModel()) {
      throw new IllegalArgumentException(
          name + ": kdim " + m.kdim() + " and vdim " + m.vdim() + " must be d_model " + c.dModel());
    }
  }
}
