"""PyTorch nn.LSTM timings for benchmarks/compare.sh: one forward layer, one JSON object out.

Run with Debian's /usr/bin/python3 (python3-torch). The shape is x [S, B, I], hidden H, one
direction with biases, as seqkernels' LstmBench runs it; the median of the timed runs is reported.
"""

import argparse
import json
import statistics
import time

import torch


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seq-len", type=int, default=100)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--input", type=int, default=256)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--runs", type=int, default=10)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(args.input, args.hidden)
    x = torch.randn(args.seq_len, args.batch, args.input)
    times = []
    with torch.no_grad():
        for _ in range(args.warmup):
            lstm(x)
        for _ in range(args.runs):
            start = time.perf_counter()
            lstm(x)
            times.append((time.perf_counter() - start) * 1e3)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "median_ms": statistics.median(times), "runs": args.runs}))


if __name__ == "__main__":
    main()
