package io.github.seqkernels.nn;

import io.github.seqkernels.AttentionOptions;
import io.github.seqkernels.Backend;
import io.github.seqkernels.Tensor;

/**
 * Luong's multiplicative attention, "general" form (inference): for query {@code [B, Sq, Dq]}, key
 * {@code [B, Sk, Dk]} and value {@code [B, Sk, Dv]},
 *
 * <pre>
 *   score(q, k) = scale · qᵀ·W·k        W [Dq, Dk]
 *   weights = softmax over the keys not hidden by the options        [B, Sq, Sk]
 *   context = weights · value                                         [B, Sq, Dv]
 * </pre>
 *
 * W is the weight of an {@code nn.Linear(Dk, Dq, bias=False)} applied to the keys (score = q · (W
 * k)). With W null it is the "dot" form ({@code Dq = Dk}). The masks are those of {@link
 * MultiheadAttentionOptions} (key padding mask or key lengths, attn_mask, causal); a query that
 * sees no key gets a zero context and zero weights.
 *
 * <p>Design: {@code q·W} is computed once per call (one Linear over all queries, into scratch kept
 * for the shape), then the library's fused attention does scores, masks, softmax and the weighted
 * sum in one pass, one head. One call at a time per instance.
 */
public final class MultiplicativeAttention implements AutoCloseable {
  private final Backend backend;
  private final Tensor wT;
  private final int dq, dk;
  private final DerivedOptions derived;
  private final Sublayers.Buffers buffers = new Sublayers.Buffers(1);
  private final SingleHead.View qv = new SingleHead.View(), kv = new SingleHead.View();
  private final SingleHead.View vv = new SingleHead.View(), cv = new SingleHead.View();
  private final SingleHead.View wv = new SingleHead.View();

  /**
   * W {@code [Dq, Dk]} (viewed, not copied), or null with {@code dim} for the dot form; the score
   * scale (1 in Luong's paper; {@code 1/sqrt(Dk)} for scaled dot product).
   */
  public MultiplicativeAttention(Backend backend, Tensor w, int dim, float scale) {
    if (backend == null) throw new IllegalArgumentException("backend: must not be null");
    if (w != null) MultiheadAttention.requireMatrix("w", w, -1, -1);
    if (w == null && dim < 1) throw new IllegalArgumentException("dim: must be >= 1, got " + dim);
    if (!Float.isFinite(scale))
      throw new IllegalArgumentException("scale: must be finite, got " + scale);
    this.backend = backend;
    this.wT = w == null ? null : w.permute(1, 0);
    this.dq = w == null ? dim : (int) w.size(0);
    this.dk = w == null ? dim : (int) w.size(1);
    if (dk < 1) throw new IllegalArgumentException("w: Dk must be >= 1, got " + dk);
    this.derived = new DerivedOptions(AttentionOptions.defaults().withScale(scale));
  }

  /** The general form with scale 1. */
  public MultiplicativeAttention(Backend backend, Tensor w) {
    this(backend, w, 0, 1f);
  }

  /**
   * Context {@code [B, Sq, Dv]} and, when {@code weights} {@code [B, Sq, Sk]} is not null, the
   * attention weights. Any strides. Bad input throws IllegalArgumentException naming the argument
   * before anything is written.
   */
  public synchronized void forward(
      Tensor query,
      Tensor key,
      Tensor value,
      MultiheadAttentionOptions options,
      Tensor context,
      Tensor weights) {
    SingleHead.validate(query, dq, key, dk, value, context, weights);
    int b = (int) query.size(0), sq = (int) query.size(1), sk = (int) key.size(1);
    AttentionOptions o = derived.get(options, b, 1, sq, sk);

    // q·W once for every query, then one fused attention call.
    Tensor q = query;
    if (wT != null) {
      q = buffers.get(0, b, sq, dk);
      backend.linear().forward(query, wT, null, q);
    }
    backend
        .attention()
        .forward(
            qv.of(q),
            kv.of(key),
            vv.of(value),
            o,
            cv.of(context),
            null,
            weights == null ? null : wv.of(weights));
  }

  /** {@link #forward(Tensor, Tensor, Tensor, MultiheadAttentionOptions, Tensor, Tensor)}. */
  public void forward(
      Tensor query, Tensor key, Tensor value, MultiheadAttentionOptions options, Tensor context) {
    forward(query, key, value, options, context, null);
  }

  @Override
  public synchronized void close() {
    buffers.close();
    for (SingleHead.View v : new SingleHead.View[] {qv, kv, vv, cv, wv}) v.clear();
  }
}
