package io.github.seqkernels;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.seqkernels.nn.MultiheadAttention;
import io.github.seqkernels.nn.MultiheadAttentionOptions;
import io.github.seqkernels.nn.TransformerDecoderLayer;
import io.github.seqkernels.nn.TransformerEncoderLayer;
import io.github.seqkernels.nn.TransformerLayerConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.jetbrains.bio.npy.NpyArray;
import org.jetbrains.bio.npy.NpzEntry;
import org.jetbrains.bio.npy.NpzFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The nn modules against real PyTorch 1.13 outputs (nn.MultiheadAttention,
 * nn.TransformerEncoderLayer, nn.TransformerDecoderLayer, and Bahdanau / Luong attention written in
 * torch), made by src/test/resources/pytorch/make_transformer.py.
 */
class TransformerPytorchTest extends CpuBackendTest {
  static final Map<String, Tensor> npz = new HashMap<>();
  static final Map<String, boolean[]> masks = new HashMap<>();
  static final Map<String, long[]> shapes = new HashMap<>();

  @BeforeAll
  static synchronized void readReferences() throws Exception {
    if (!npz.isEmpty()) return;
    Path p = Path.of(TransformerPytorchTest.class.getResource("/pytorch/transformer.npz").toURI());
    try (NpzFile.Reader r = NpzFile.read(p)) {
      for (NpzEntry e : r.introspect()) {
        NpyArray a = r.get(e.getName(), 1 << 20);
        int[] s = a.getShape();
        long[] shape = new long[s.length];
        for (int k = 0; k < s.length; k++) shape[k] = s[k];
        shapes.put(e.getName(), shape);
        if (a.getData() instanceof boolean[] b) masks.put(e.getName(), b);
        else npz.put(e.getName(), Tensor.wrap(a.asFloatArray(), shape));
      }
    }
  }

  /** For other test classes that read the same file. */
  static void readReferencesIfNeeded() {
    try {
      readReferences();
    } catch (Exception e) {
      throw new AssertionError("cannot read transformer.npz", e);
    }
  }

  static Tensor get(String name) {
    Tensor t = npz.get(name);
    if (t == null) throw new AssertionError("transformer.npz has no float array " + name);
    return t;
  }

  static Mask block(String name) {
    boolean[] m = masks.get(name);
    if (m == null) throw new AssertionError("transformer.npz has no bool array " + name);
    return Mask.block(m, shapes.get(name));
  }

  static Map<String, Tensor> stateDict(String prefix) {
    Map<String, Tensor> sd = new HashMap<>();
    npz.forEach(
        (k, v) -> {
          if (k.startsWith(prefix + ".")) sd.put(k.substring(prefix.length() + 1), v);
        });
    return sd;
  }

  /** The module's parameters only (inputs and outputs of the case removed). */
  static Map<String, Tensor> params(String prefix, String... notParams) {
    Map<String, Tensor> sd = stateDict(prefix);
    for (String n : notParams) sd.remove(n);
    return sd;
  }

  // PyTorch computes in float32 with other summation orders: a few ulps of O(1) values.
  static void close(String what, Tensor want, Tensor got) {
    Check.close(what, Check.toDouble(want.toArray()), got.toArray(), 1e-5, 1e-4);
  }

  @Test
  void mhaSelfAttentionWithKeyPaddingMaskAndBothWeights() {
    Map<String, Tensor> sd =
        params("mha_self", "x", "out", "weights", "weights_per_head", "key_padding_mask");
    try (MultiheadAttention m = MultiheadAttention.fromStateDict(backend, 3, sd, "")) {
      Tensor x = get("mha_self.x");
      MultiheadAttentionOptions o =
          MultiheadAttentionOptions.none().withKeyPaddingMask(block("mha_self.key_padding_mask"));
      Tensor out = Tensor.allocate(x.shape()), w = Tensor.allocate(2, 5, 5);
      Tensor wh = Tensor.allocate(2, 3, 5, 5);
      m.forward(x, x, x, o, out, w);
      close("out", get("mha_self.out"), out);
      close("weights", get("mha_self.weights"), w);
      m.forward(x, x, x, o, out, wh);
      close("out (per-head call)", get("mha_self.out"), out);
      close("weights per head", get("mha_self.weights_per_head"), wh);
    }
  }

  @Test
  void mhaCausalMaskAsFlagAndAsBoolAttnMask() {
    Map<String, Tensor> sd =
        params("mha_self", "x", "out", "weights", "weights_per_head", "key_padding_mask");
    try (MultiheadAttention m = MultiheadAttention.fromStateDict(backend, 3, sd, "")) {
      Tensor x = get("mha_causal.x");
      boolean[] tri = new boolean[25];
      for (int i = 0; i < 5; i++) for (int j = i + 1; j < 5; j++) tri[i * 5 + j] = true;
      for (MultiheadAttentionOptions o :
          new MultiheadAttentionOptions[] {
            MultiheadAttentionOptions.none().withCausal(true),
            MultiheadAttentionOptions.none().withAttnMask(Mask.block(tri, 5, 5))
          }) {
        Tensor out = Tensor.allocate(x.shape()), wh = Tensor.allocate(2, 3, 5, 5);
        m.forward(x, x, x, o, out, wh);
        close("out " + o, get("mha_causal.out"), out);
        close("weights " + o, get("mha_causal.weights_per_head"), wh);
      }
    }
  }

  @Test
  void mhaFloatAttnMaskPerBatchAndHeadOverSharedKeyValue() {
    Map<String, Tensor> sd =
        params("mha_self", "x", "out", "weights", "weights_per_head", "key_padding_mask");
    try (MultiheadAttention m = MultiheadAttention.fromStateDict(backend, 3, sd, "")) {
      Tensor x = get("mha_float.x"), mem = get("mha_float.memory");
      MultiheadAttentionOptions o =
          MultiheadAttentionOptions.none().withAttnMask(get("mha_float.attn_mask"));
      Tensor out = Tensor.allocate(x.shape()), w = Tensor.allocate(2, 5, 7);
      m.forward(x, mem, mem, o, out, w);
      close("out", get("mha_float.out"), out);
      close("weights", get("mha_float.weights"), w);
    }
  }

  @Test
  void mhaCrossAttentionWithOtherKdimVdimAndKeyLengths() {
    Map<String, Tensor> sd =
        params("mha_cross", "query", "key", "value", "out", "weights", "key_padding_mask");
    try (MultiheadAttention m = MultiheadAttention.fromStateDict(backend, 2, sd, "")) {
      Tensor q = get("mha_cross.query"), k = get("mha_cross.key"), v = get("mha_cross.value");
      // The padding [[F x7], [F x4, T x3]] as a mask, and as key lengths {7, 4}.
      for (MultiheadAttentionOptions o :
          new MultiheadAttentionOptions[] {
            MultiheadAttentionOptions.none()
                .withKeyPaddingMask(block("mha_cross.key_padding_mask")),
            MultiheadAttentionOptions.none().withKeyLengths(7, 4)
          }) {
        Tensor out = Tensor.allocate(q.shape()), w = Tensor.allocate(2, 5, 7);
        m.forward(q, k, v, o, out, w);
        close("out " + o, get("mha_cross.out"), out);
        close("weights " + o, get("mha_cross.weights"), w);
      }
    }
  }

  static final MultiheadAttentionOptions PADDING =
      MultiheadAttentionOptions.none()
          .withKeyPaddingMask(
              new boolean[] {false, false, true, false, false, false, false, false, true, true},
              2,
              5);

  void encoder(String name, boolean normFirst, String act, float eps, boolean pad, boolean causal) {
    TransformerLayerConfig c =
        TransformerLayerConfig.of(12, 3, 20)
            .withNormFirst(normFirst)
            .withActivation(act)
            .withLayerNormEps(eps);
    MultiheadAttentionOptions o =
        (pad
                ? MultiheadAttentionOptions.none().withKeyPaddingMask(block("enc.key_padding_mask"))
                : MultiheadAttentionOptions.none())
            .withCausal(causal);
    try (TransformerEncoderLayer layer =
        TransformerEncoderLayer.fromStateDict(backend, c, params(name, "out"))) {
      Tensor x = get("enc.x"), out = Tensor.allocate(x.shape());
      layer.forward(x, o, out);
      close(name, get(name + ".out"), out);
      layer.forward(x, o, out); // scratch reused
      close(name + " again", get(name + ".out"), out);
    }
  }

  @Test
  void encoderPostNormReluWithPaddingMask() {
    encoder("enc_post_relu", false, "relu", 1e-5f, true, false);
  }

  @Test
  void encoderPostNormGeluBertEpsilonWithPaddingMask() {
    encoder("enc_post_gelu", false, "gelu", 1e-12f, true, false);
  }

  @Test
  void encoderPreNormReluCausal() {
    encoder("enc_pre_relu", true, "relu", 1e-5f, false, true);
  }

  @Test
  void encoderPreNormGeluPaddingAndCausal() {
    encoder("enc_pre_gelu", true, "gelu", 1e-6f, true, true);
  }

  @Test
  void encoderPaddingAsKeyLengthsGivesTheSameForSuffixPadding() {
    // Batch entry 1 is padded at the end (keys 3, 4), entry 0 is not padded here.
    boolean[] pad = {false, false, false, false, false, false, false, false, true, true};
    TransformerLayerConfig c = TransformerLayerConfig.of(12, 3, 20);
    try (TransformerEncoderLayer layer =
        TransformerEncoderLayer.fromStateDict(backend, c, params("enc_post_relu", "out"))) {
      Tensor x = get("enc.x"), a = Tensor.allocate(x.shape()), b = Tensor.allocate(x.shape());
      layer.forward(x, MultiheadAttentionOptions.none().withKeyPaddingMask(pad, 2, 5), a);
      layer.forward(x, new int[] {5, 3}, false, b);
      Check.close("lengths vs mask", Check.toDouble(a.toArray()), b.toArray(), 1e-6, 1e-6);
    }
  }

  @Test
  void stateDictErrorsNameTheEntry() {
    TransformerLayerConfig c = TransformerLayerConfig.of(12, 3, 20);
    Map<String, Tensor> sd = params("enc_post_relu", "out");
    sd.remove("linear2.bias");
    sd.put("linear2.bais", get("enc_post_relu.linear2.bias"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> TransformerEncoderLayer.fromStateDict(backend, c, sd));
    assertTrue(e.getMessage().contains("linear2.bais"), e.getMessage());
    sd.remove("linear2.bais");
    sd.remove("norm2.weight");
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> TransformerEncoderLayer.fromStateDict(backend, c, sd));
    assertTrue(e.getMessage().contains("missing 'norm2.weight'"), e.getMessage());
    Map<String, Tensor> wide = params("enc_post_relu", "out");
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                TransformerEncoderLayer.fromStateDict(
                    backend, TransformerLayerConfig.of(12, 3, 21), wide));
    assertTrue(e.getMessage().startsWith("linear1.weight: shape must be [21, 12]"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                TransformerEncoderLayer.fromStateDict(
                    backend, TransformerLayerConfig.of(12, 5, 20), wide));
    assertTrue(e.getMessage().contains("divisible"), e.getMessage());
  }

  void decoder(String name, boolean normFirst, String act) {
    TransformerLayerConfig c =
        TransformerLayerConfig.of(12, 3, 20).withNormFirst(normFirst).withActivation(act);
    try (TransformerDecoderLayer layer =
        TransformerDecoderLayer.fromStateDict(backend, c, params(name, "out"), "")) {
      Tensor tgt = get("dec.tgt"), mem = get("dec.memory"), out = Tensor.allocate(tgt.shape());
      MultiheadAttentionOptions self = MultiheadAttentionOptions.none().withCausal(true);
      layer.forward(
          tgt,
          mem,
          self,
          MultiheadAttentionOptions.none().withKeyPaddingMask(block("dec.memory_key_padding_mask")),
          out);
      close(name, get(name + ".out"), out);
      layer.forward(tgt, mem, self, MultiheadAttentionOptions.none().withKeyLengths(7, 4), out);
      close(name + " memory lengths", get(name + ".out"), out);
    }
  }

  @Test
  void decoderPostNormCausalWithMemoryPadding() {
    decoder("dec_post", false, "relu");
  }

  @Test
  void decoderPreNormGeluCausalWithMemoryPadding() {
    decoder("dec_pre", true, "gelu");
  }
}
