package io.github.seqkernels.nn;

import io.github.seqkernels.Activation;
import io.github.seqkernels.AttentionOptions;
import io.github.seqkernels.Backend;
import io.github.seqkernels.Tensor;

/**
 * Bahdanau's additive attention (inference): for query {@code [B, Sq, Dq]}, key {@code [B, Sk, Dk]}
 * and value {@code [B, Sk, Dv]},
 *
 * <pre>
 *   score(q, k) = vᵀ·tanh(Wq·q + Wk·k + bias)     Wq [A, Dq], Wk [A, Dk], bias [A] or null, v [A]
 *   weights = softmax over the keys not hidden by the options        [B, Sq, Sk]
 *   context = weights · value                                         [B, Sq, Dv]
 * </pre>
 *
 * (Wq, Wk and v are the weights of {@code nn.Linear(Dq, A, bias=False)}, {@code nn.Linear(Dk, A)}
 * and {@code nn.Linear(A, 1, bias=False)} with its weight flattened.) The masks are those of {@link
 * MultiheadAttentionOptions}; a query that sees no key gets a zero context and zero weights.
 *
 * <p>Design: the projections {@code Wq·q} and {@code Wk·k + bias} are computed once per call (two
 * Linears). The score needs every (query, key) pair through tanh, O(B·Sq·Sk·A): it is formed in
 * chunks of at most {@link #CHUNK} floats, as the broadcast sum of the two projections ({@code [n,
 * Sq', Sk, A]}), tanh in place, and a product with v, so memory stays bounded whatever the lengths.
 * The scores {@code [B, Sq, Sk]} then enter the library's fused attention as its additive bias,
 * with a zero query and key of one dim (so scale·q·k = 0 and the score is the bias): the masks, the
 * softmax, fully hidden rows and the weighted sum of values follow the attention operator's rules
 * exactly.
 *
 * <p>One call at a time per instance; scratch is kept for the last shape.
 */
public final class AdditiveAttention implements AutoCloseable {
  /** Floats of the tanh chunk: 256 KB, within L2, and big enough that op calls are amortised. */
  static final int CHUNK = 1 << 16;

  private static final Activation TANH = Activation.of("Tanh");

  private final Backend backend;
  private final Tensor wq, wk, bias, v;
  private final int a, dq, dk;
  private final DerivedOptions derived = new DerivedOptions(AttentionOptions.defaults());
  private final Sublayers.Buffers buffers = new Sublayers.Buffers(3);
  private final Tensor zero = Tensor.wrap(new float[1], 1);
  private final SingleHead.View vv = new SingleHead.View(), cv = new SingleHead.View();
  private final SingleHead.View wv = new SingleHead.View();
  private Tensor chunk;

  // The last call's derived pieces, reused while the options and shapes are the same.
  private AttentionOptions lastDerived, lastWithScores;
  private Tensor lastScores, zq, zk;

  /** Weights viewed, not copied; bias may be null. */
  public AdditiveAttention(Backend backend, Tensor wQuery, Tensor wKey, Tensor bias, Tensor v) {
    if (backend == null) throw new IllegalArgumentException("backend: must not be null");
    MultiheadAttention.requireMatrix("wQuery", wQuery, -1, -1);
    long a = wQuery.size(0);
    if (a < 1) throw new IllegalArgumentException("wQuery: A must be >= 1, got " + a);
    MultiheadAttention.requireMatrix("wKey", wKey, a, -1);
    MultiheadAttention.requireVector("bias", bias, a);
    if (v == null) throw new IllegalArgumentException("v: must not be null");
    MultiheadAttention.requireVector("v", v, a);
    this.backend = backend;
    this.wq = wQuery;
    this.wk = wKey;
    this.bias = bias;
    this.v = v;
    this.a = (int) a;
    this.dq = (int) wQuery.size(1);
    this.dk = (int) wKey.size(1);
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

    // Projections, once per call.
    Tensor pq = buffers.get(0, b, sq, a), pk = buffers.get(1, b, sk, a);
    Tensor scores = buffers.get(2, b, sq, sk);
    backend.linear().forward(query, wq, null, pq);
    backend.linear().forward(key, wk, bias, pk);

    // Scores in chunks: n batch entries of all queries, or rows of one batch entry.
    long perBatch = (long) sq * sk * a, perRow = (long) sk * a;
    int nb = (int) Math.max(1, Math.min(b, CHUNK / Math.max(1, perBatch)));
    int ni = perBatch <= CHUNK ? sq : (int) Math.max(1, Math.min(sq, CHUNK / Math.max(1, perRow)));
    long need = (long) nb * ni * perRow;
    if (chunk == null || chunk.numel() < need) {
      if (chunk != null) chunk.close();
      chunk = Tensor.allocate(Math.max(1, need));
    }
    for (int b0 = 0; b0 < b; b0 += nb) {
      int n = Math.min(nb, b - b0);
      for (int i0 = 0; i0 < sq; i0 += ni) {
        int rows = Math.min(ni, sq - i0);
        // TODO(perf): four small view objects per chunk; a fused additive-score op would need none.
        long[] shape = {n, rows, sk, a};
        Tensor t =
            Tensor.view(
                chunk.segment(), 0, shape, new long[] {(long) rows * sk * a, (long) sk * a, a, 1});
        Tensor qs =
            Tensor.view(
                pq.segment(),
                (long) b0 * sq * a + (long) i0 * a,
                shape,
                new long[] {(long) sq * a, a, 0, 1});
        Tensor ks =
            Tensor.view(
                pk.segment(),
                (long) b0 * sk * a,
                new long[] {n, 1, sk, a},
                new long[] {(long) sk * a, 0, a, 1});
        Tensor ss =
            Tensor.view(
                scores.segment(),
                (long) b0 * sq * sk + (long) i0 * sk,
                new long[] {n, rows, sk},
                new long[] {(long) sq * sk, sk, 1});
        backend.elementwise().add(qs, ks, t);
        backend.elementwise().apply(t, TANH, t);
        backend.matmul().forward(t, v, ss);
      }
    }

    // Softmax with masks and the weighted sum: the attention operator with score = its bias.
    Tensor scores4 = scores.reshape(b, 1, sq, sk);
    if (o != lastDerived || lastScores != scores) {
      lastWithScores = o.withBias(scores4).withScale(1f);
      zq = Tensor.view(zero.segment(), 0, new long[] {b, 1, sq, 1}, new long[4]);
      zk = Tensor.view(zero.segment(), 0, new long[] {b, 1, sk, 1}, new long[4]);
      lastDerived = o;
      lastScores = scores;
    }
    // A float attn_mask (or a bool one turned into -inf beside a padding mask) is part of the
    // score: the operator has one bias, which the scores take.
    if (o.bias() != null) backend.elementwise().add(scores4, o.bias(), scores4);
    backend
        .attention()
        .forward(
            zq,
            zk,
            vv.of(value),
            lastWithScores,
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
    if (chunk != null) chunk.close();
    chunk = null;
    lastDerived = lastWithScores = null;
    lastScores = zq = zk = null;
    for (SingleHead.View x : new SingleHead.View[] {vv, cv, wv}) x.clear();
  }
}
