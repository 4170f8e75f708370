#!/usr/bin/env bash
# seqkernels' CPU attention and softmax (JMH) against PyTorch's on the same shapes and thread
# count, and its float32 GEMM against numpy's `a @ b` (OpenBLAS), as markdown tables. Installs
# PyTorch and numpy from Debian's packages when they are missing and builds the library and
# benchmarks/target/benchmarks.jar first. About 3 minutes, plus the install on a fresh machine.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: benchmarks/compare.sh [-t THREADS] [-n RUNS] [--no-build]
  -t, --threads N   threads for seqkernels, PyTorch and OpenBLAS (default $SEQKERNELS_BENCH_THREADS
                    or 2)
  -n, --runs N      PyTorch timed runs per case, and numpy GEMM runs before and after JMH; the
                    median is reported (default 20)
  --no-build        use the installed library and the existing benchmarks jar
Results (JMH JSON, PyTorch and numpy JSON, logs) stay in benchmarks/target/compare/.
USAGE
}

log() { echo "compare.sh: $*" >&2; }

# A command line to print: arguments quoted only where the shell needs it.
quoted() {
  local a out=()
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./=,:+-]+$ ]]; then out+=("$a"); else out+=("$(printf '%q' "$a")"); fi
  done
  echo "${out[*]}"
}

invocation=$(quoted "$0" "$@")
threads=${SEQKERNELS_BENCH_THREADS:-2}
runs=20
build=1
while (($#)); do
  case $1 in
    -t | --threads) threads=${2:?}; shift 2 ;;
    -n | --runs) runs=${2:?}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
for n in "$threads" "$runs"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { log "expected a positive integer, got '$n'"; exit 2; }
done

# The shapes compared; PyTorch gets the same ones.
batch=1 heads=8 seq_len=1024 head_dim=64
softmax_shapes=(4096x1024 8192x127)
gemm_m=1024 gemm_n=1024 gemm_k=1024

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# Debian's python3-torch installs for the system Python, not for a pyenv or venv python3 on PATH.
python=/usr/bin/python3
results=$here/target/compare

install_packages() {
  local packages=(python3-torch python3-numpy libopenblas0-pthread) missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  local as_root=(env DEBIAN_FRONTEND=noninteractive)
  [[ $(id -u) -eq 0 ]] || as_root=(sudo "${as_root[@]}")
  log "installing ${missing[*]}"
  # Recommends would add compilers and a desktop stack (hundreds of MB) that import torch never
  # uses. A fresh machine's package lists may be stale or absent; refresh them only if that bites.
  local install=(apt-get install -y -q --no-install-recommends "${missing[@]}")
  "${as_root[@]}" "${install[@]}" ||
    { "${as_root[@]}" apt-get update -q && "${as_root[@]}" "${install[@]}"; }
}

load_start=$(cut -d' ' -f1 /proc/loadavg)
install_packages
java_home=$("$root/ci/java-home")
jar=$here/target/benchmarks.jar
mkdir -p "$results"
if ((build)); then
  log "building the library and $jar (log: $results/build.log)"
  { "$root/ci/mvn" -q install -DskipTests && "$root/ci/mvn" -q -f benchmarks/pom.xml package; } \
    >"$results/build.log" 2>&1 || { tail -n 30 "$results/build.log" >&2; exit 1; }
fi
[[ -f $jar ]] || { log "$jar is missing: run without --no-build"; exit 1; }

torch_cmd=("$python" "$here/torch_attention.py" --threads "$threads" --runs "$runs"
  --batch "$batch" --heads "$heads" --seq-len "$seq_len" --head-dim "$head_dim"
  --softmax "${softmax_shapes[@]}")
log "timing PyTorch (log: $results/torch.log)"
# Debian's torch calls BLAS through libblas.so.3 (OpenBLAS, with libopenblas0-pthread), whose
# thread pool torch.set_num_threads does not size; these do.
OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads \
  "${torch_cmd[@]}" >"$results/torch.json" 2>"$results/torch.log" ||
  { tail -n 20 "$results/torch.log" >&2; exit 1; }

# -foe: a benchmark whose setup check against the float64 control fails stops the run.
jmh_cmd=("$java_home/bin/java" -jar "$jar" AttentionBench SoftmaxBench
  -p "threads=$threads" -p "batch=$batch" -p "heads=$heads" -p "seqLen=$seq_len"
  -p "headDim=$head_dim" -p causal=none,top-left
  -p "shape=$(IFS=,; echo "${softmax_shapes[*]}")"
  -f 1 -wi 3 -i 5 -w 2s -r 2s -foe true -rf json -rff "$results/jmh.json")
log "running JMH (log: $results/jmh.log)"
"${jmh_cmd[@]}" >"$results/jmh.log" 2>&1 || { tail -n 30 "$results/jmh.log" >&2; exit 1; }
# Attention again with the causal cases in the opposite order: the machine's speed drifts over
# a run, and the causal speedup is a ratio of two cases timed minutes apart. The report averages
# each case's two medians, so a drift weighs on both cases alike.
attn2_cmd=("$java_home/bin/java" -jar "$jar" AttentionBench
  -p "threads=$threads" -p "batch=$batch" -p "heads=$heads" -p "seqLen=$seq_len"
  -p "headDim=$head_dim" -p causal=top-left,none
  -f 1 -wi 3 -i 5 -w 2s -r 2s -foe true -rf json -rff "$results/jmh-attn2.json")
log "running JMH attention, reversed order (log: $results/jmh-attn2.log)"
"${attn2_cmd[@]}" >"$results/jmh-attn2.log" 2>&1 ||
  { tail -n 30 "$results/jmh-attn2.log" >&2; exit 1; }

# GEMM side by side: numpy's `a @ b` just before and just after a JMH run of GemmBench alone,
# the numpy runs pooled, so that a load change on the shared machine weighs on both sides of
# the ratio alike. The load average around it goes into the report.
numpy_cmd=("$python" "$here/numpy_gemm.py" --m "$gemm_m" --n "$gemm_n" --k "$gemm_k"
  --runs "$runs")
gemm_cmd=("$java_home/bin/java" -jar "$jar" GemmBench
  -p "threads=$threads" -p "m=$gemm_m" -p "n=$gemm_n" -p "k=$gemm_k"
  -f 1 -wi 3 -i 5 -w 2s -r 2s -foe true -rf json -rff "$results/jmh-gemm.json")
time_numpy() {
  log "timing numpy GEMM, $1 (log: $results/numpy.log)"
  OPENBLAS_NUM_THREADS=$threads "${numpy_cmd[@]}" >"$results/numpy-$1.json" \
    2>>"$results/numpy.log" || { tail -n 20 "$results/numpy.log" >&2; exit 1; }
}
: >"$results/numpy.log"
load_before=$(cut -d' ' -f1 /proc/loadavg)
time_numpy before
log "running JMH GemmBench (log: $results/jmh-gemm.log)"
"${gemm_cmd[@]}" >"$results/jmh-gemm.log" 2>&1 ||
  { tail -n 30 "$results/jmh-gemm.log" >&2; exit 1; }
time_numpy after
load_after=$(cut -d' ' -f1 /proc/loadavg)

# LSTM layer side by side: PyTorch nn.LSTM just before and just after a JMH run of LstmBench
# alone (S=100, B=16, I=256, H=512, forward, one layer), the PyTorch runs pooled.
lstm_torch_cmd=("$python" "$here/torch_lstm.py" --threads "$threads" --seq-len 100 --batch 16
  --input 256 --hidden 512)
lstm_cmd=("$java_home/bin/java" -jar "$jar" LstmBench -p "threads=$threads"
  -f 1 -wi 3 -i 5 -w 2s -r 2s -foe true -rf json -rff "$results/jmh-lstm.json")
time_torch_lstm() {
  log "timing PyTorch nn.LSTM, $1 (log: $results/torch-lstm.log)"
  OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "${lstm_torch_cmd[@]}" \
    >"$results/torch-lstm-$1.json" 2>>"$results/torch-lstm.log" ||
    { tail -n 20 "$results/torch-lstm.log" >&2; exit 1; }
}
: >"$results/torch-lstm.log"
time_torch_lstm before
log "running JMH LstmBench (log: $results/jmh-lstm.log)"
"${lstm_cmd[@]}" >"$results/jmh-lstm.log" 2>&1 ||
  { tail -n 30 "$results/jmh-lstm.log" >&2; exit 1; }
time_torch_lstm after

# The real models against ONNX Runtime Java, both engines inside one JMH run on the same input:
# MiniLM-L6 at batch 32 of the demo's sentences, Silero VAD one 32 ms chunk per call.
models_cmd=("$java_home/bin/java" -jar "$jar" MiniLmBench VadBench -p "threads=$threads"
  -f 1 -wi 3 -i 5 -w 2s -r 2s -foe true -rf json -rff "$results/jmh-models.json")
log "running JMH MiniLmBench and VadBench (log: $results/jmh-models.log)"
"$root/ci/fetch-models"
(cd "$root" && "${models_cmd[@]}") >"$results/jmh-models.log" 2>&1 ||
  { tail -n 30 "$results/jmh-models.log" >&2; exit 1; }

"$python" - "$results/jmh.json" "$results/torch.json" "$batch" "$heads" "$seq_len" "$head_dim" \
  "$threads" "$runs" "$invocation" "$(quoted "${jmh_cmd[@]}")" "$(quoted "${torch_cmd[@]}")" \
  "$results/numpy-before.json" "$results/numpy-after.json" "$(quoted "${numpy_cmd[@]}")" \
  "$results/jmh-gemm.json" "$(quoted "${gemm_cmd[@]}")" "$load_start" "$load_before" \
  "$load_after" "$(nproc)" "$results/jmh-attn2.json" <<'REPORT'
import json
import math
import statistics
import sys

(jmh_path, torch_path, b, h, s, d, threads, runs, invocation, jmh_cmd, torch_cmd,
 numpy_before, numpy_after, numpy_cmd, gemm_path, gemm_cmd, load_start, load_before,
 load_after, cores, attn2_path) = sys.argv[1:]
b, h, s, d = (int(n) for n in (b, h, s, d))
with open(jmh_path) as f:
    jmh = json.load(f)
with open(gemm_path) as f:
    jmh += json.load(f)
with open(torch_path) as f:
    torch = json.load(f)
numpy_runs = []
for path in (numpy_before, numpy_after):
    with open(path) as f:
        numpy_runs.append(json.load(f))

ours = {}
for r in jmh:
    name = r["benchmark"].rsplit(".", 2)[-2]
    p = r["params"]
    if name == "AttentionBench":
        key = ("attention", p["causal"])
    elif name == "GemmBench":
        key = ("gemm", (int(p["m"]), int(p["n"]), int(p["k"])))
    else:
        key = ("softmax", p["shape"])
    # SampleTime mode: the median call, comparable with PyTorch's median; the mean can be pulled
    # far up by a few calls that the shared machine delayed.
    m = r["primaryMetric"]
    ours[key] = (m["scorePercentiles"]["50.0"], m["score"])
with open(attn2_path) as f:
    for r in json.load(f):
        key = ("attention", r["params"]["causal"])
        m = r["primaryMetric"]
        first = ours[key]
        ours[key] = ((first[0] + m["scorePercentiles"]["50.0"]) / 2, (first[1] + m["score"]) / 2)


def gflops(causal, ms):
    flops = 4 * b * h * s * s * d / (2 if causal != "none" else 1)
    return f"{flops / ms / 1e6:.1f}"


def ms_cell(ms, mean=None):
    if mean is None or not math.isfinite(mean):
        return f"{ms:.2f}"
    return f"{ms:.2f} (mean {mean:.2f})"


rows = []
for case, theirs in torch["attention"].items():
    causal, _, variant = case.partition(" ")
    ms, mean = ours[("attention", causal)]
    label = f"attention, causal {causal}" + (" (vs PyTorch SDPA)" if variant else "")
    rows.append([label, ms_cell(ms, mean), gflops(causal, ms), ms_cell(theirs),
                 gflops(causal, theirs), f"{theirs / ms:.2f}"])
for shape, theirs in torch["softmax"].items():
    ms, mean = ours[("softmax", shape)]
    rows.append([f"softmax {shape}, last axis", ms_cell(ms, mean), "—", ms_cell(theirs), "—",
                 f"{theirs / ms:.2f}"])

head = ["case", "seqkernels median ms", "GFLOP/s", "PyTorch median ms", "GFLOP/s",
        "ratio (PyTorch ms / seqkernels ms)"]
print(f"## seqkernels vs PyTorch {torch['torch']} on the CPU: "
      f"B={b} H={h} S={s} D={d} float32, {threads} threads\n")
print("| " + " | ".join(head) + " |")
print("|---|" + "---:|" * (len(head) - 1))
for row in rows:
    print("| " + " | ".join(row) + " |")

full, causal = ours[("attention", "none")][0], ours[("attention", "top-left")][0]
theirs_full, theirs_causal = torch["attention"]["none"], torch["attention"]["top-left"]
print(f"\nCausal speedup (non-causal ms / causal ms): seqkernels {full / causal:.2f}x, "
      f"PyTorch {theirs_full / theirs_causal:.2f}x (its explicit mask still computes every score).")
print(f"\nseqkernels: median call of JMH SampleTime, 5 × 2 s after 3 × 2 s warm-up, one fork; "
      f"attention: the mean of two runs' medians, the causal cases in opposite orders. "
      f"PyTorch: median of {runs} runs after warm-up, softmax(Q·Kᵀ·scale [+ -inf mask])·V; "
      + ("scaled_dot_product_attention rows as well." if torch["sdpa"] else
         f"torch {torch['torch']} has no scaled_dot_product_attention (it arrived in 2.0).")
      + " GFLOP/s counts 4·B·H·S²·D FLOPs, half when causal."
      " Ratio > 1: seqkernels is faster.")

# GEMM against numpy: the ratio is of throughputs (seqkernels GFLOP/s / numpy GFLOP/s), the
# issue's target 0.6 or more.
np0 = numpy_runs[0]
gm, gn, gk = np0["m"], np0["n"], np0["k"]
ms, mean = ours[("gemm", (gm, gn, gk))]
theirs = statistics.median([t for run in numpy_runs for t in run["times_ms"]])
flops = 2 * gm * gn * gk
ratio = theirs / ms
print(f"\n## seqkernels GEMM vs numpy {np0['numpy']} `a @ b` ({np0['blas']}, "
      f"{np0['blas_threads']} threads): float32, {threads} threads\n")
head = ["case", "seqkernels median ms", "GFLOP/s", "numpy median ms", "GFLOP/s",
        "ratio (seqkernels GFLOP/s / numpy GFLOP/s)", "target"]
print("| " + " | ".join(head) + " |")
print("|---|" + "---:|" * (len(head) - 1))
print("| " + " | ".join([f"gemm {gm}x{gn}x{gk}", ms_cell(ms, mean), f"{flops / ms / 1e6:.1f}",
                         ms_cell(theirs), f"{flops / theirs / 1e6:.1f}", f"{ratio:.2f}",
                         ">= 0.6 " + ("met" if ratio >= 0.6 else "**missed**")]) + " |")
before, after = (statistics.median(run["times_ms"]) for run in numpy_runs)
print(f"\nseqkernels: median call of JMH SampleTime, GemmBench alone. numpy: median of "
      f"{2 * int(runs)} runs, {runs} just before and {runs} just after it (medians {before:.2f} "
      f"and {after:.2f} ms), after warm-up. GFLOP/s counts 2·M·N·K FLOPs. Load average (1 min, "
      f"{cores} cores): {load_start} when this script started, {load_before} and {load_after} "
      f"around the GEMM runs, which keep about {threads} busy themselves; higher means other "
      f"work shared the machine, and both sides' figures suffer: rerun when it is quiet.")

print(f"\nCommand: `{invocation}`\n")
print(f"- JMH: `{jmh_cmd}`")
print(f"- PyTorch: `OMP_NUM_THREADS={threads} OPENBLAS_NUM_THREADS={threads} {torch_cmd}`")
print(f"- JMH GEMM: `{gemm_cmd}`")
print(f"- numpy: `OPENBLAS_NUM_THREADS={threads} {numpy_cmd}`")
REPORT

"$python" - "$results/jmh-lstm.json" "$results/torch-lstm-before.json" \
  "$results/torch-lstm-after.json" "$(quoted "${lstm_cmd[@]}")" "$(quoted "${lstm_torch_cmd[@]}")" \
  "$threads" <<'LSTM'
import json
import statistics
import sys

jmh_path, before, after, lstm_cmd, torch_cmd, threads = sys.argv[1:]
with open(jmh_path) as f:
    ours = json.load(f)[0]["primaryMetric"]["scorePercentiles"]["50.0"]
runs = []
for path in (before, after):
    with open(path) as f:
        runs.append(json.load(f))
theirs = statistics.median(r["median_ms"] for r in runs)
flops = 2 * 100 * 16 * 4 * 512 * (256 + 512)
print(f"\n## LSTM layer: S=100 B=16 I=256 H=512, forward, float32, {threads} threads\n")
print("| | median ms | GFLOP/s |")
print("|---|---:|---:|")
print(f"| seqkernels (JMH LstmBench) | {ours:.1f} | {flops / ours / 1e6:.1f} |")
print(f"| PyTorch {runs[0]['torch']} nn.LSTM | {theirs:.1f} | {flops / theirs / 1e6:.1f} |")
print(f"\nRatio (PyTorch ms / seqkernels ms): {theirs / ours:.2f}. PyTorch: the median of its "
      f"medians just before and just after the JMH run. FLOPs: 2·S·B·4H·(I + H).")
print(f"\n- JMH LSTM: `{lstm_cmd}`")
print(f"- PyTorch: `OMP_NUM_THREADS={threads} OPENBLAS_NUM_THREADS={threads} {torch_cmd}`")
LSTM

"$python" - "$results/jmh-models.json" "$(quoted "${models_cmd[@]}")" "$threads" <<'MODELS'
import json
import sys

path, cmd, threads = sys.argv[1:]
with open(path) as f:
    runs = json.load(f)
score = {}
for r in runs:
    bench = r["benchmark"].rsplit(".", 2)
    name, method = bench[-2], bench[-1]
    key = (name, r["params"].get("impl", method))
    m = r["primaryMetric"]
    score[key] = (m["score"], m["scoreError"])


def row(label, unit, ours, theirs, target):
    (a, ae), (b, be) = score[ours], score[theirs]
    ratio = a / b
    verdict = "met" if ratio >= target else "**missed**"
    return (f"| {label} | {a:.1f} ± {ae:.1f} {unit} | {b:.1f} ± {be:.1f} {unit} | {ratio:.2f} | "
            f">= {target} {verdict} |")


print(f"\n## Real models vs ONNX Runtime Java, {threads} threads each (one JMH run)\n")
print("| model | seqkernels | ONNX Runtime | ratio (seqkernels / ORT) | target |")
print("|---|---:|---:|---:|---|")
print(row("all-MiniLM-L6-v2, batch 32 of the demo's sentences", "sentences/s",
          ("MiniLmBench", "seqkernels"), ("MiniLmBench", "onnxRuntime"), 0.6))
print(row("Silero VAD v5, one 32 ms chunk per call", "chunks/s",
          ("VadBench", "seqkernels"), ("VadBench", "onnxruntime"), 0.8))
print("\nJMH throughput, 5 × 2 s after 3 × 2 s warm-up, one fork; ± is JMH's 99.9% error. "
      "Each benchmark's setup checks that both engines agree before it times them.")
print(f"\n- JMH models: `{cmd}`")
MODELS
