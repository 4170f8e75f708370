"""PyTorch CPU timings for benchmarks/compare.sh: attention and softmax, one JSON object out.

Run with the Python that Debian's python3-torch installs into (/usr/bin/python3). Each case is
timed as the median of --runs calls after --warmup untimed ones.
"""

import argparse
import json
import math
import statistics
import sys
import time

import torch


def median_ms(fn, warmup, runs):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def attention_cases(args):
    b, h, s, d = args.batch, args.heads, args.seq_len, args.head_dim
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.rand(b, h, s, d, generator=gen) * 4 - 2 for _ in range(3))
    scale = 1.0 / math.sqrt(d)
    # Added to the scores, as an explicit softmax(Q·Kᵀ·scale + mask)·V does: the whole S×S
    # product is still computed, so causal costs PyTorch at least as much as non-causal.
    causal_mask = torch.full((s, s), float("-inf")).triu(1)

    def explicit(mask):
        scores = q @ k.transpose(-2, -1) * scale
        if mask is not None:
            scores = scores + mask
        return torch.softmax(scores, dim=-1) @ v

    cases = {
        "none": lambda: explicit(None),
        "top-left": lambda: explicit(causal_mask),
    }
    sdpa = getattr(torch.nn.functional, "scaled_dot_product_attention", None)
    if sdpa is not None:
        cases["none sdpa"] = lambda: sdpa(q, k, v)
        cases["top-left sdpa"] = lambda: sdpa(q, k, v, is_causal=True)
    with torch.inference_mode():
        return {name: median_ms(fn, args.warmup, args.runs) for name, fn in cases.items()}


def softmax_cases(args):
    gen = torch.Generator().manual_seed(1)
    results = {}
    with torch.inference_mode():
        for shape in args.softmax:
            rows, length = (int(n) for n in shape.split("x"))
            x = torch.rand(rows, length, generator=gen) * 16 - 8
            results[shape] = median_ms(lambda: torch.softmax(x, dim=-1), args.warmup, args.runs)
    return results


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--seq-len", type=int, default=1024)
    p.add_argument("--head-dim", type=int, default=64)
    p.add_argument("--softmax", nargs="*", default=["4096x1024", "8192x127"],
                   help="ROWSxLENGTH shapes; none to skip softmax")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    json.dump({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "sdpa": hasattr(torch.nn.functional, "scaled_dot_product_attention"),
        "attention": attention_cases(args),
        "softmax": softmax_cases(args),
    }, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
