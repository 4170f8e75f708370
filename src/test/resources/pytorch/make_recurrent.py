"""Reference outputs of PyTorch's nn.LSTM, nn.GRU and nn.RNN for the importer tests.

Run with Debian's python3-torch: /usr/bin/python3 src/test/resources/pytorch/make_recurrent.py
It rewrites recurrent.npz beside itself (state-dict tensors named "<module>.<param>", inputs,
and outputs "<module>.y", "<module>.h_n", "<module>.c_n"). Not a runtime dependency.
"""
import os

import numpy as np
import torch

torch.manual_seed(20261203)
S, B, I, H = 4, 3, 5, 7
x = torch.randn(S, B, I)
arrays = {"x": x.numpy()}
modules = {
    "lstm2bi": torch.nn.LSTM(I, H, num_layers=2, bidirectional=True),
    "gru2": torch.nn.GRU(I, H, num_layers=2),
    "gru1bi": torch.nn.GRU(I, H, bidirectional=True),
    "rnn_relu": torch.nn.RNN(I, H, nonlinearity="relu"),
    "rnn_tanh2": torch.nn.RNN(I, H, num_layers=2, bias=False),
}
with torch.no_grad():
    for name, m in modules.items():
        dirs = 2 if m.bidirectional else 1
        h0 = torch.randn(m.num_layers * dirs, B, H)
        arrays[name + ".h0"] = h0.numpy()
        if isinstance(m, torch.nn.LSTM):
            c0 = torch.randn(m.num_layers * dirs, B, H)
            arrays[name + ".c0"] = c0.numpy()
            y, (hn, cn) = m(x, (h0, c0))
            arrays[name + ".c_n"] = cn.numpy()
        else:
            y, hn = m(x, h0)
        arrays[name + ".y"] = y.numpy()
        arrays[name + ".h_n"] = hn.numpy()
        for k, v in m.state_dict().items():
            arrays[name + "." + k] = v.numpy()
np.savez(os.path.join(os.path.dirname(os.path.abspath(__file__)), "recurrent.npz"),
         **{k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()})
