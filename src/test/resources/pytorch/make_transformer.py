"""Reference outputs of PyTorch's nn.MultiheadAttention, nn.TransformerEncoderLayer and
nn.TransformerDecoderLayer, and of Bahdanau / Luong attention written out in torch (float64),
for the io.github.seqkernels.nn tests.

Run with Debian's python3-torch (1.13): /usr/bin/python3 src/test/resources/pytorch/make_transformer.py
It rewrites transformer.npz beside itself: state-dict tensors named "<case>.<param>", inputs and
outputs "<case>.<name>". Masks are bool arrays in PyTorch's polarity (true = hidden). Not a
runtime dependency.

Every module runs in eval mode with dropout 0, and with autograd on (its parameters require grad):
that keeps nn.TransformerEncoderLayer off its inference fast path
(torch._transformer_encoder_layer_fwd), so every layer is the documented composition of
self-attention, feed-forward and LayerNorm; outputs are compared at every position, padded ones
included.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(20261203)
torch.set_num_threads(1)
arrays = {}


def put(name, t):
    arrays[name] = t.detach().numpy() if isinstance(t, torch.Tensor) else t


def state(case, module):
    for k, v in module.state_dict().items():
        put(case + "." + k, v)


def causal(sq, sk):
    return torch.ones(sq, sk, dtype=torch.bool).triu(1)


def padding(lengths, s):
    return torch.arange(s)[None, :] >= torch.tensor(lengths)[:, None]


B, E, H, SQ, SK = 2, 12, 3, 5, 7

# Multi-head attention.
m = torch.nn.MultiheadAttention(E, H, batch_first=True).eval()
x = torch.randn(B, SQ, E)
kpm = torch.tensor([[False, False, True, False, False], [False, False, False, True, True]])
out, w = m(x, x, x, key_padding_mask=kpm)
_, wh = m(x, x, x, key_padding_mask=kpm, average_attn_weights=False)
state("mha_self", m)
put("mha_self.x", x)
put("mha_self.key_padding_mask", kpm.numpy())
put("mha_self.out", out)
put("mha_self.weights", w)
put("mha_self.weights_per_head", wh)

cm = causal(SQ, SQ)
out, wh = m(x, x, x, attn_mask=cm, average_attn_weights=False)
put("mha_causal.x", x)
put("mha_causal.out", out)
put("mha_causal.weights_per_head", wh)  # weights of mha_self's module

fm = torch.randn(B * H, SQ, SK)
fm[:, :, 0] = float("-inf")
mem = torch.randn(B, SK, E)
out, w = m(x, mem, mem, attn_mask=fm)
put("mha_float.x", x)
put("mha_float.memory", mem)
put("mha_float.attn_mask", fm)
put("mha_float.out", out)
put("mha_float.weights", w)

m2 = torch.nn.MultiheadAttention(E, 2, kdim=5, vdim=6, batch_first=True).eval()
q, k, v = torch.randn(B, SQ, E), torch.randn(B, SK, 5), torch.randn(B, SK, 6)
kpm2 = padding([7, 4], SK)
out, w = m2(q, k, v, key_padding_mask=kpm2)
state("mha_cross", m2)
put("mha_cross.query", q)
put("mha_cross.key", k)
put("mha_cross.value", v)
put("mha_cross.key_padding_mask", kpm2.numpy())
put("mha_cross.out", out)
put("mha_cross.weights", w)

# Encoder layers: (name, norm_first, activation, eps, padding, causal)
FF = 20
xs = torch.randn(B, SQ, E)
put("enc.x", xs)
put("enc.key_padding_mask", kpm.numpy())
for name, nf, act, eps, pad, cau in [
    ("enc_post_relu", False, "relu", 1e-5, True, False),
    ("enc_post_gelu", False, "gelu", 1e-12, True, False),
    ("enc_pre_relu", True, "relu", 1e-5, False, True),
    ("enc_pre_gelu", True, "gelu", 1e-6, True, True),
]:
    layer = torch.nn.TransformerEncoderLayer(
        E, H, FF, dropout=0.0, activation=act, layer_norm_eps=eps, batch_first=True,
        norm_first=nf).eval()
    with torch.no_grad():  # norms away from 1 / 0 so their weights matter
        layer.norm1.weight.add_(0.3 * torch.randn(E))
        layer.norm2.bias.add_(0.3 * torch.randn(E))
    y = layer(xs, src_mask=causal(SQ, SQ) if cau else None,
              src_key_padding_mask=kpm if pad else None)
    state(name, layer)
    put(name + ".out", y)

# Decoder layers: causal self-attention, memory key padding.
tgt, memory = torch.randn(B, SQ, E), torch.randn(B, SK, E)
put("dec.tgt", tgt)
put("dec.memory", memory)
put("dec.memory_key_padding_mask", kpm2.numpy())
for name, nf, act in [("dec_post", False, "relu"), ("dec_pre", True, "gelu")]:
    layer = torch.nn.TransformerDecoderLayer(
        E, H, FF, dropout=0.0, activation=act, batch_first=True, norm_first=nf).eval()
    with torch.no_grad():
        layer.norm3.weight.add_(0.3 * torch.randn(E))
    y = layer(tgt, memory, tgt_mask=causal(SQ, SQ), memory_key_padding_mask=kpm2)
    state(name, layer)
    put(name + ".out", y)

# Bahdanau (additive) and Luong (general) attention, float64, straight from the definitions.
DQ, DK, DV, A = 4, 5, 3, 6
g = torch.Generator().manual_seed(7)
aq = torch.randn(B, SQ, DQ, generator=g, dtype=torch.float64)
ak = torch.randn(B, SK, DK, generator=g, dtype=torch.float64)
av = torch.randn(B, SK, DV, generator=g, dtype=torch.float64)
wq = torch.randn(A, DQ, generator=g, dtype=torch.float64) * 0.5
wk = torch.randn(A, DK, generator=g, dtype=torch.float64) * 0.5
bias = torch.randn(A, generator=g, dtype=torch.float64) * 0.5
vv = torch.randn(A, generator=g, dtype=torch.float64)
wl = torch.randn(DQ, DK, generator=g, dtype=torch.float64) * 0.5
for n, t in [("query", aq), ("key", ak), ("value", av), ("w_query", wq), ("w_key", wk),
             ("bias", bias), ("v", vv), ("w", wl)]:
    put("att." + n, t.float())
# the inputs as stored (float32), then float64 arithmetic
aq, ak, av, wq, wk, bias, vv, wl = (torch.from_numpy(arrays["att." + n]).double() for n in
                                    ["query", "key", "value", "w_query", "w_key", "bias", "v", "w"])
kpm3 = padding([7, 3], SK)
put("att.key_padding_mask", kpm3.numpy())


def attend(scores, hidden):
    scores = scores.masked_fill(hidden, float("-inf"))
    p = torch.softmax(scores, dim=-1)
    p = torch.nan_to_num(p, nan=0.0)  # a row with no key: 0 weights, 0 context
    return p @ av, p


add_scores = torch.tanh((aq @ wq.T)[:, :, None, :] + (ak @ wk.T + bias)[:, None, :, :]) @ vv
ctx, p = attend(add_scores, kpm3[:, None, :])
put("att.additive_context", ctx.float())
put("att.additive_weights", p.float())
luong_scores = aq @ wl @ ak.transpose(1, 2)
hidden = kpm3[:, None, :] | causal(SQ, SK)[None]
ctx, p = attend(luong_scores, hidden)
put("att.luong_causal_context", ctx.float())
put("att.luong_causal_weights", p.float())

out = {k: (v if v.dtype == np.bool_ else np.ascontiguousarray(v, dtype=np.float32))
       for k, v in arrays.items()}
np.savez_compressed(os.path.join(os.path.dirname(os.path.abspath(__file__)), "transformer.npz"),
                    **out)
