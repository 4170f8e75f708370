"""numpy GEMM timings for benchmarks/compare.sh: float32 `a @ b`, one JSON object out.

Run with Debian's /usr/bin/python3, whose numpy calls BLAS through libblas.so.3 (OpenBLAS with
libopenblas0-pthread), and size OpenBLAS's thread pool with OPENBLAS_NUM_THREADS. The JSON names
the library that answered and the threads it used, so a report cannot silently compare against a
reference BLAS or the wrong thread count.
"""

import argparse
import ctypes
import ctypes.util
import json
import statistics
import sys
import time

import numpy as np


def blas_info():
    """Name and thread count of the OpenBLAS that numpy's libblas.so.3 resolves to, if it is one."""
    try:
        lib = ctypes.CDLL("libblas.so.3")
        lib.openblas_get_config.restype = ctypes.c_char_p
        return {"blas": lib.openblas_get_config().decode(),
                "blas_threads": lib.openblas_get_num_threads()}
    except (OSError, AttributeError) as e:
        return {"blas": f"not OpenBLAS ({e})", "blas_threads": None}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--m", type=int, default=1024)
    p.add_argument("--n", type=int, default=1024)
    p.add_argument("--k", type=int, default=1024)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--runs", type=int, default=30)
    args = p.parse_args()

    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (args.m, args.k)).astype(np.float32)
    b = rng.uniform(-1, 1, (args.k, args.n)).astype(np.float32)
    out = np.empty((args.m, args.n), dtype=np.float32)
    for _ in range(args.warmup):
        np.matmul(a, b, out=out)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        times.append((time.perf_counter() - start) * 1e3)
    json.dump({
        "numpy": np.__version__,
        **blas_info(),
        "m": args.m, "n": args.n, "k": args.k,
        "median_ms": statistics.median(times),
        "times_ms": times,
    }, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
