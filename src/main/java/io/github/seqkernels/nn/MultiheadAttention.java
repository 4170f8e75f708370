package io.github.seqkernels.nn;

import io.github.seqkernels.AttentionOptions;
import io.github.seqkernels.Backend;
import io.github.seqkernels.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * PyTorch's {@code nn.MultiheadAttention} (batch_first=True, inference: no dropout) on a {@link
 * Backend}'s operators. For query {@code [B, Sq, E]}, key {@code [B, Sk, kdim]}, value {@code [B,
 * Sk, vdim]} and H heads of {@code D = E / H}:
 *
 * <pre>
 *   Q = query·Wqᵀ + bq,  K = key·Wkᵀ + bk,  V = value·Wvᵀ + bv          [B, S, E] = [B, S, H, D]
 *   ctx[b, :, h] = softmax(Q[b,:,h]·K[b,:,h]ᵀ / sqrt(D) + attn_mask, hidden keys removed) · V[b,:,h]
 *   out = ctx·Woᵀ + bo                                                  [B, Sq, E]
 * </pre>
 *
 * <p>Weights come packed ({@code in_proj_weight [3E, E]}, {@code in_proj_bias [3E]}) or separate
 * ({@code q_proj_weight [E, E]}, {@code k_proj_weight [E, kdim]}, {@code v_proj_weight [E, vdim]}
 * with biases), plus {@code out_proj.weight [E, E]} and {@code out_proj.bias [E]}; any bias may be
 * null. Packed weights are viewed, not copied; separate ones with {@code kdim = vdim = E} are
 * copied once into a packed block, so that self-attention projects Q, K and V in one product.
 *
 * <p>Design: the projections write {@code [B, S, E]} scratch buffers (one {@code [B, S, 3E]} buffer
 * for self-attention, where query, key and value are the same tensor; one {@code [B, Sk, 2E]} for
 * key = value with packed weights), which the fused attention operator reads as {@code [B, H, S,
 * D]} strided views, and writes its result straight into the {@code [B, Sq, E]} layout the output
 * projection reads. Scratch is kept for the last shape, and the attention options derived from the
 * last {@link MultiheadAttentionOptions} object, so repeated calls of one shape allocate nothing
 * but what the operators do.
 *
 * <p>PyTorch's default layout (batch_first=False, {@code [S, B, E]}) is passed as {@code
 * t.permute(1, 0, 2)} views: every argument may have any strides.
 *
 * <p>Differences from PyTorch: a query that sees no key gets a zero context (so {@code out} is the
 * output bias there) and zero weights, where PyTorch returns NaN. {@code add_bias_kv}, {@code
 * add_zero_attn} and dropout are not supported.
 *
 * <p>One call at a time per instance ({@code forward} is synchronized); {@link #close()} frees the
 * scratch and any weight copy.
 */
public final class MultiheadAttention implements AutoCloseable {
  private final Backend backend;
  private final int e, heads, headDim, kdim, vdim;
  private final Tensor wq, wk, wv, bq, bk, bv, wo, bo;

  /** [3E, E] and [3E] (bias may be null), or null when kdim or vdim differ from E. */
  private final Tensor packedW, packedB;

  /** Rows E..3E of the packed block: K and V of one tensor in one product. */
  private final Tensor kvW, kvB;

  private final List<Tensor> owned = new ArrayList<>();
  private final DerivedOptions derived = new DerivedOptions(AttentionOptions.defaults());
  private final Tensor invHeads;
  private Scratch scratch;
  private Tensor lastWeights, lastFlat; // the mean weights' [B, Sq·Sk] view, kept while the same

  private MultiheadAttention(
      Backend backend,
      int heads,
      Tensor wq,
      Tensor bq,
      Tensor wk,
      Tensor bk,
      Tensor wv,
      Tensor bv,
      Tensor wo,
      Tensor bo,
      Tensor packedW,
      Tensor packedB) {
    if (backend == null) throw new IllegalArgumentException("backend: must not be null");
    requireMatrix("out_proj.weight", wo, -1, -1);
    int e = (int) wo.size(0);
    if (e < 1) throw new IllegalArgumentException("out_proj.weight: embed_dim must be >= 1");
    if (heads < 1) throw new IllegalArgumentException("heads: must be >= 1, got " + heads);
    if (e % heads != 0) {
      throw new IllegalArgumentException(
          "heads: embed_dim " + e + " must be divisible by heads, got heads = " + heads);
    }
    requireMatrix("out_proj.weight", wo, e, e);
    requireVector("out_proj.bias", bo, e);
    requireMatrix("q_proj_weight", wq, e, e);
    requireMatrix("k_proj_weight", wk, e, -1);
    requireMatrix("v_proj_weight", wv, e, -1);
    requireVector("q bias", bq, e);
    requireVector("k bias", bk, e);
    requireVector("v bias", bv, e);
    this.backend = backend;
    this.e = e;
    this.heads = heads;
    this.headDim = e / heads;
    this.kdim = (int) wk.size(1);
    this.vdim = (int) wv.size(1);

    // On a backend with device memory every weight ends up there, copied once (see resident).
    try {
      this.wo = Sublayers.resident(backend, wo, owned);
      this.bo = Sublayers.resident(backend, bo, owned);
      if (packedW == null && kdim == e && vdim == e) {
        // One [3E, E] block, so that self-attention is one product; copied once.
        packedW = backend.allocate(3L * e, e);
        owned.add(packedW);
        copyRows(wq, packedW, 0);
        copyRows(wk, packedW, e);
        copyRows(wv, packedW, 2 * e);
        if (bq != null || bk != null || bv != null) {
          packedB = backend.allocate(3L * e);
          owned.add(packedB);
          copyRows(bq, packedB, 0);
          copyRows(bk, packedB, e);
          copyRows(bv, packedB, 2 * e);
        }
      } else {
        packedW = Sublayers.resident(backend, packedW, owned);
        packedB = Sublayers.resident(backend, packedB, owned);
      }
      this.packedW = packedW;
      this.packedB = packedB;
      if (packedW != null) {
        this.wq = rows(packedW, 0, e);
        this.wk = rows(packedW, e, e);
        this.wv = rows(packedW, 2 * e, e);
        this.kvW = rows(packedW, e, 2 * e);
        this.bq = packedB == null ? null : rows(packedB, 0, e);
        this.bk = packedB == null ? null : rows(packedB, e, e);
        this.bv = packedB == null ? null : rows(packedB, 2 * e, e);
        this.kvB = packedB == null ? null : rows(packedB, e, 2 * e);
      } else {
        this.wq = Sublayers.resident(backend, wq, owned);
        this.wk = Sublayers.resident(backend, wk, owned);
        this.wv = Sublayers.resident(backend, wv, owned);
        this.bq = Sublayers.resident(backend, bq, owned);
        this.bk = Sublayers.resident(backend, bk, owned);
        this.bv = Sublayers.resident(backend, bv, owned);
        this.kvW = this.kvB = null;
      }
      float[] inv = new float[heads];
      Arrays.fill(inv, 1f / heads);
      this.invHeads = Sublayers.resident(backend, Tensor.wrap(inv, heads), owned);
    } catch (RuntimeException ex) {
      for (Tensor t : owned) t.close();
      owned.clear();
      throw ex;
    }
  }

  /**
   * Packed weights, as {@code nn.MultiheadAttention(E, heads)} stores them: in_proj_weight {@code
   * [3E, E]} (rows Wq, Wk, Wv), in_proj_bias {@code [3E]} or null, out_proj weight {@code [E, E]}
   * and bias {@code [E]} or null. Viewed, not copied: the caller keeps them alive.
   */
  public static MultiheadAttention packed(
      Backend backend,
      int heads,
      Tensor inProjWeight,
      Tensor inProjBias,
      Tensor outProjWeight,
      Tensor outProjBias) {
    requireMatrix("out_proj.weight", outProjWeight, -1, -1);
    long e = outProjWeight.size(0);
    requireMatrix("in_proj_weight", inProjWeight, 3 * e, e);
    requireVector("in_proj_bias", inProjBias, 3 * e);
    int n = (int) e;
    return new MultiheadAttention(
        backend,
        heads,
        rows(inProjWeight, 0, n),
        inProjBias == null ? null : rows(inProjBias, 0, n),
        rows(inProjWeight, n, n),
        inProjBias == null ? null : rows(inProjBias, n, n),
        rows(inProjWeight, 2 * n, n),
        inProjBias == null ? null : rows(inProjBias, 2 * n, n),
        outProjWeight,
        outProjBias,
        inProjWeight,
        inProjBias);
  }

  /**
   * Separate projections: q {@code [E, E]}, k {@code [E, kdim]}, v {@code [E, vdim]}, biases {@code
   * [E]} or null (BERT's query, key and value layers), out {@code [E, E]}, {@code [E]}.
   */
  public static MultiheadAttention separate(
      Backend backend,
      int heads,
      Tensor qWeight,
      Tensor qBias,
      Tensor kWeight,
      Tensor kBias,
      Tensor vWeight,
      Tensor vBias,
      Tensor outProjWeight,
      Tensor outProjBias) {
    return new MultiheadAttention(
        backend,
        heads,
        qWeight,
        qBias,
        kWeight,
        kBias,
        vWeight,
        vBias,
        outProjWeight,
        outProjBias,
        null,
        null);
  }

  /**
   * From the entries of an {@code nn.MultiheadAttention} state dict whose names start with {@code
   * prefix} ("" or e.g. "self_attn."): in_proj_weight, or q_proj_weight, k_proj_weight and
   * v_proj_weight; in_proj_bias (optional); out_proj.weight; out_proj.bias (optional). Any other
   * name under the prefix is refused.
   */
  public static MultiheadAttention fromStateDict(
      Backend backend, int heads, Map<String, Tensor> stateDict, String prefix) {
    Set<String> used = new HashSet<>();
    MultiheadAttention m = fromStateDict(backend, heads, stateDict, prefix, used);
    StateDicts.requireNoExtra(stateDict, prefix, used);
    return m;
  }

  static MultiheadAttention fromStateDict(
      Backend backend, int heads, Map<String, Tensor> sd, String prefix, Set<String> used) {
    if (sd == null) throw new IllegalArgumentException("stateDict: must not be null");
    Tensor wo = StateDicts.required(sd, prefix + "out_proj.weight", used);
    Tensor bo = StateDicts.optional(sd, prefix + "out_proj.bias", used);
    Tensor inB = StateDicts.optional(sd, prefix + "in_proj_bias", used);
    if (sd.containsKey(prefix + "in_proj_weight")) {
      Tensor inW = StateDicts.required(sd, prefix + "in_proj_weight", used);
      return named(prefix, () -> packed(backend, heads, inW, inB, wo, bo));
    }
    Tensor q = StateDicts.required(sd, prefix + "q_proj_weight", used);
    Tensor k = StateDicts.required(sd, prefix + "k_proj_weight", used);
    Tensor v = StateDicts.required(sd, prefix + "v_proj_weight", used);
    return named(
        prefix,
        () -> {
          requireMatrix("out_proj.weight", wo, -1, -1);
          int e = (int) wo.size(0);
          requireVector("in_proj_bias", inB, 3L * e);
          return separate(
              backend,
              heads,
              q,
              inB == null ? null : rows(inB, 0, e),
              k,
              inB == null ? null : rows(inB, e, e),
              v,
              inB == null ? null : rows(inB, 2 * e, e),
              wo,
              bo);
        });
  }

  /** Runs {@code make}, putting the state-dict prefix in front of a shape message. */
  private static MultiheadAttention named(
      String prefix, java.util.function.Supplier<MultiheadAttention> make) {
    try {
      return make.get();
    } catch (IllegalArgumentException ex) {
      if (prefix.isEmpty()) throw ex;
      throw new IllegalArgumentException(prefix + ex.getMessage(), ex);
    }
  }

  public int embedDim() {
    return e;
  }

  public int heads() {
    return heads;
  }

  public int headDim() {
    return headDim;
  }

  public int kdim() {
    return kdim;
  }

  public int vdim() {
    return vdim;
  }

  /** {@link #forward(Tensor, Tensor, Tensor, MultiheadAttentionOptions, Tensor, Tensor)}. */
  public void forward(
      Tensor query, Tensor key, Tensor value, MultiheadAttentionOptions options, Tensor out) {
    forward(query, key, value, options, out, null);
  }

  /**
   * Attention of query {@code [B, Sq, E]} over key {@code [B, Sk, kdim]} and value {@code [B, Sk,
   * vdim]} into out {@code [B, Sq, E]}. {@code weights}, when not null, receives the attention
   * probabilities: {@code [B, Sq, Sk]} for their mean over heads (PyTorch's {@code need_weights}
   * default) or {@code [B, H, Sq, Sk]} per head ({@code average_attn_weights=False}). Any strides;
   * out may be the query tensor (it is written last). Passing one tensor as query, key and value
   * selects the one-product self-attention path. Bad input throws IllegalArgumentException naming
   * the argument before anything is written.
   */
  public synchronized void forward(
      Tensor query,
      Tensor key,
      Tensor value,
      MultiheadAttentionOptions options,
      Tensor out,
      Tensor weights) {
    requireRank3("query", query, -1, -1, e, "[B, Sq, E]");
    int b = (int) query.size(0), sq = (int) query.size(1);
    requireRank3("key", key, b, -1, kdim, "[B, Sk, kdim]");
    int sk = (int) key.size(1);
    requireRank3("value", value, b, sk, vdim, "[B, Sk, vdim]");
    requireRank3("out", out, b, sq, e, "[B, Sq, E]");
    boolean perHead = false;
    if (weights != null) {
      perHead = weights.rank() == 4;
      boolean ok =
          perHead
              ? weights.size(0) == b
                  && weights.size(1) == heads
                  && weights.size(2) == sq
                  && weights.size(3) == sk
              : weights.rank() == 3
                  && weights.size(0) == b
                  && weights.size(1) == sq
                  && weights.size(2) == sk;
      if (!ok) {
        throw new IllegalArgumentException(
            "weights: shape must be [B, Sq, Sk] = ["
                + b
                + ", "
                + sq
                + ", "
                + sk
                + "] (head mean) or [B, H, Sq, Sk] = ["
                + b
                + ", "
                + heads
                + ", "
                + sq
                + ", "
                + sk
                + "] (per head), got "
                + Arrays.toString(weights.shape()));
      }
    }
    AttentionOptions ao = derived.get(options, b, heads, sq, sk);

    Path path =
        packedW != null && sameView(query, key) && sameView(key, value)
            ? Path.SELF
            : packedW != null && sameView(key, value) ? Path.SHARED_KV : Path.SEPARATE;
    Scratch s = scratch(path, b, sq, sk, weights != null && !perHead);

    // Projections.
    switch (path) {
      case SELF -> backend.linear().forward(query, packedW, packedB, s.qkv);
      case SHARED_KV -> {
        backend.linear().forward(query, wq, bq, s.q);
        backend.linear().forward(key, kvW, kvB, s.kv);
      }
      case SEPARATE -> {
        backend.linear().forward(query, wq, bq, s.q);
        backend.linear().forward(key, wk, bk, s.k);
        backend.linear().forward(value, wv, bv, s.v);
      }
    }

    // Attention per head, into ctx [B, Sq, E] through its [B, H, Sq, D] view.
    Tensor w = weights == null ? null : perHead ? weights : s.perHead;
    backend.attention().forward(s.qh, s.kh, s.vh, ao, s.ctxh, null, w);

    // Head mean of the weights: [B, Sq·Sk, H] · (1/H) -> [B, Sq·Sk].
    if (weights != null && !perHead) {
      if (weights != lastWeights) {
        lastFlat = foldLast2(weights);
        lastWeights = weights;
      }
      Tensor flat = lastFlat;
      if (flat != null) {
        backend.matmul().forward(s.perHeadT, invHeads, flat);
      } else {
        backend.matmul().forward(s.perHeadT, invHeads, s.mean);
        backend.elementwise().add(s.meanView, s.zero, weights);
      }
    }

    // Output projection.
    backend.linear().forward(s.ctx, wo, bo, out);
  }

  /** Frees the scratch and the packed weight copy, if any. */
  @Override
  public synchronized void close() {
    if (scratch != null) scratch.close();
    scratch = null;
    lastWeights = lastFlat = null;
    for (Tensor t : owned) t.close();
    owned.clear();
  }

  private enum Path {
    SELF,
    SHARED_KV,
    SEPARATE
  }

  private Scratch scratch(Path path, int b, int sq, int sk, boolean mean) {
    Scratch s = scratch;
    if (s != null
        && s.path == path
        && s.b == b
        && s.sq == sq
        && s.sk == sk
        && (s.hasMean || !mean)) {
      return s;
    }
    if (s != null) s.close();
    scratch = s = new Scratch(path, b, sq, sk, mean || (s != null && s.hasMean));
    return s;
  }

  /** Buffers and their views for one call geometry. */
  private final class Scratch implements AutoCloseable {
    final Path path;
    final int b, sq, sk;
    final boolean hasMean;
    final List<Tensor> mine = new ArrayList<>();
    Tensor qkv, q, kv, k, v, ctx, qh, kh, vh, ctxh;
    Tensor perHead, perHeadT, mean, meanView, zero;

    Scratch(Path path, int b, int sq, int sk, boolean hasMean) {
      this.path = path;
      this.b = b;
      this.sq = sq;
      this.sk = sk;
      this.hasMean = hasMean;
      long hd = headDim;
      long[] headShapeQ = {b, heads, sq, hd}, headShapeK = {b, heads, sk, hd};
      switch (path) {
        case SELF -> {
          qkv = own(b, sq, 3L * e);
          long[] st = {(long) sq * 3 * e, hd, 3L * e, 1};
          qh = qkv.asStrided(headShapeQ, st, 0);
          kh = qkv.asStrided(headShapeK, st, e);
          vh = qkv.asStrided(headShapeK, st, 2L * e);
        }
        case SHARED_KV -> {
          q = own(b, sq, e);
          kv = own(b, sk, 2L * e);
          qh = heads(q);
          long[] st = {(long) sk * 2 * e, hd, 2L * e, 1};
          kh = kv.asStrided(headShapeK, st, 0);
          vh = kv.asStrided(headShapeK, st, e);
        }
        case SEPARATE -> {
          q = own(b, sq, e);
          k = own(b, sk, e);
          v = own(b, sk, e);
          qh = heads(q);
          kh = heads(k);
          vh = heads(v);
        }
      }
      ctx = own(b, sq, e);
      ctxh = heads(ctx);
      if (hasMean) {
        long plane = (long) sq * sk;
        perHead = own(b, heads, sq, sk);
        perHeadT =
            perHead.asStrided(
                new long[] {b, plane, heads}, new long[] {heads * plane, 1, plane}, 0);
        mean = own(b, plane);
        meanView = mean.reshape(b, sq, sk);
        zero = own(1);
      }
    }

    private Tensor own(long... shape) {
      Tensor t = backend.allocate(shape);
      mine.add(t);
      return t;
    }

    /** A contiguous [B, S, E] buffer as [B, H, S, D]. */
    private Tensor heads(Tensor t) {
      return t.reshape(t.size(0), t.size(1), heads, headDim).permute(0, 2, 1, 3);
    }

    @Override
    public void close() {
      for (Tensor t : mine) t.close();
      mine.clear();
    }
  }

  /** [B, Sq, Sk] as [B, Sq·Sk] when its last two dims fold (no copy), else null. */
  private static Tensor foldLast2(Tensor w) {
    long sq = w.size(1), sk = w.size(2);
    long inner = sk > 1 ? w.stride(2) : sq > 1 ? w.stride(1) : 1;
    if (sq > 1 && sk > 1 && w.stride(1) != sk * w.stride(2)) return null;
    return w.asStrided(
        new long[] {w.size(0), sq * sk}, new long[] {w.stride(0), inner}, w.offset());
  }

  static boolean sameView(Tensor a, Tensor b) {
    if (a == b) return true;
    return a.sameMemory(b)
        && a.offset() == b.offset()
        && Arrays.equals(a.shape(), b.shape())
        && Arrays.equals(a.strides(), b.strides());
  }

  static void requireRank3(String name, Tensor t, long d0, long d1, long d2, String layout) {
    if (t == null) throw new IllegalArgumentException(name + ": must not be null");
    boolean ok =
        t.rank() == 3
            && (d0 < 0 || t.size(0) == d0)
            && (d1 < 0 || t.size(1) == d1)
            && (d2 < 0 || t.size(2) == d2);
    if (!ok) {
      throw new IllegalArgumentException(
          name
              + ": shape must be "
              + layout
              + " = ["
              + (d0 < 0 ? "*" : d0)
              + ", "
              + (d1 < 0 ? "*" : d1)
              + ", "
              + d2
              + "], got "
              + Arrays.toString(t.shape()));
    }
  }

  static void requireMatrix(String name, Tensor t, long rows, long cols) {
    if (t == null) throw new IllegalArgumentException(name + ": must not be null");
    if (t.rank() != 2 || (rows >= 0 && t.size(0) != rows) || (cols >= 0 && t.size(1) != cols)) {
      throw new IllegalArgumentException(
          name
              + ": shape must be ["
              + (rows < 0 ? "*" : rows)
              + ", "
              + (cols < 0 ? "*" : cols)
              + "], got "
              + Arrays.toString(t.shape()));
    }
  }

  /** A null vector passes (no bias). */
  static void requireVector(String name, Tensor t, long n) {
    if (t != null && (t.rank() != 1 || t.size(0) != n)) {
      throw new IllegalArgumentException(
          name + ": shape must be [" + n + "], got " + Arrays.toString(t.shape()));
    }
  }

  /** Rows [from, from + n) of a matrix or vector, as a view. */
  static Tensor rows(Tensor t, long from, long n) {
    long[] shape = t.shape();
    shape[0] = n;
    return t.asStrided(shape, t.strides(), t.offset() + from * t.stride(0));
  }

  /** Copies src (or zeros when null) into rows [at, at + rows) of dst, on the backend. */
  private void copyRows(Tensor src, Tensor dst, long at) {
    if (src == null) return; // dst is zero-filled
    backend.copy(src, rows(dst, at, src.size(0)));
  }
}
