#!/usr/bin/env bash
# Builds the CUDA modules the jar ships, from kernels/*.cu, with nvcc (no nvcc at run time).
#
#   native/build-kernels.sh          writes src/main/resources/io/github/seqkernels/cuda/
#   native/build-kernels.sh --check  rebuilds into a temporary folder and fails if the committed
#                                    modules differ (CI runs this where nvcc exists)
#
# Two modules per kernel file, because the PTX ISA a module carries is what the driver must read:
#   <name>.fatbin  SASS for sm_75 80 86 89 90 100 120 and PTX (compute_90) as the toolkit writes
#                  it; CUDA 13's PTX is ISA 9.0 and its machine code wants an r580+ driver.
#   <name>.ptx     PTX for compute_75 whose `.version` header is lowered to the oldest ISA that
#                  ptxas accepts for these instructions on every target (at most 8.0, read by
#                  CUDA 12.0 / r525 drivers), JIT-compiled by the driver; the ISA 8.3 load hint
#                  `.pragma "used_bytes_mask"` is dropped on the way. The loader
#                  (DriverLauncher) takes the fat binary on drivers >= 13.0 and this one otherwise.
# ptxas's register / spill / shared-memory report (-Xptxas -v) is printed for every target.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/src/main/resources/io/github/seqkernels/cuda"
check=0
if [ "${1:-}" = "--check" ]; then check=1; fi
command -v nvcc >/dev/null || { echo "build-kernels.sh: nvcc not found (CUDA toolkit)" >&2; exit 1; }
archs="75 80 86 89 90 100 120"
isas="7.0 7.1 7.2 7.3 7.4 7.5 7.6 7.7 7.8 8.0"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$root/kernels"  # relative paths keep the outputs free of this machine's folders
for src in *.cu; do
  name=${src%.cu}
  gencode=()
  for a in $archs; do gencode+=(-gencode "arch=compute_$a,code=sm_$a"); done
  gencode+=(-gencode "arch=compute_90,code=compute_90")
  echo "== $name.fatbin" >&2
  nvcc -fatbin -O3 -std=c++17 -Xptxas -v "${gencode[@]}" -o "$out/$name.fatbin" "$src" 2>&1 |
    grep -E "Compiling entry|registers|spill|bytes stack" >&2 || true

  nvcc -ptx -O3 -std=c++17 -arch=compute_75 -o "$out/$name.full.ptx" "$src"
  chosen=""
  for isa in $isas; do
    # `.pragma "used_bytes_mask"` (ISA 8.3+) only tells ptxas which bytes of a load are used;
    # dropping it changes no result, and older drivers refuse the whole module for it.
    sed -e "s/^\.version .*/.version $isa/" -e '/^[[:space:]]*\.pragma "used_bytes_mask [0-9]*";$/d' \
      "$out/$name.full.ptx" >"$out/$name.try.ptx"
    ok=1
    for a in $archs; do
      if ! ptxas -arch="sm_$a" -o /dev/null "$out/$name.try.ptx" 2>/dev/null; then ok=0; break; fi
    done
    if [ $ok = 1 ]; then chosen=$isa; break; fi
  done
  if [ -z "$chosen" ]; then
    echo "build-kernels.sh: $name needs a PTX ISA newer than 8.0; CUDA 12.0 drivers cannot load it" >&2
    exit 1
  fi
  { echo "// Generated from kernels/$src by native/build-kernels.sh (PTX ISA lowered to $chosen); do not edit."
    cat "$out/$name.try.ptx"; } >"$out/$name.ptx"
  rm -f "$out/$name.try.ptx"
  rm -f "$out/$name.full.ptx"
  echo "== $name.ptx: PTX ISA $chosen (compute_75), checked with ptxas for sm_${archs// /, sm_}" >&2
  ptxas -arch=sm_75 -v -o /dev/null "$out/$name.ptx" 2>&1 | grep -E "registers|spill" >&2 || true
done
if [ $check = 1 ]; then
  status=0
  for f in "$out"/*.fatbin "$out"/*.ptx; do
    if ! cmp -s "$f" "$dest/$(basename "$f")"; then
      echo "build-kernels.sh: $(basename "$f") differs from the committed module; run native/build-kernels.sh" >&2
      status=1
    fi
  done
  for f in "$dest"/*.fatbin "$dest"/*.ptx; do
    [ -e "$f" ] && [ ! -e "$out/$(basename "$f")" ] && { echo "build-kernels.sh: stale $(basename "$f")" >&2; status=1; }
  done
  [ $status = 0 ] && echo "build-kernels.sh: committed modules are up to date" >&2
  exit $status
fi
mkdir -p "$dest"
rm -f "$dest"/*.fatbin "$dest"/*.ptx
cp "$out"/*.fatbin "$out"/*.ptx "$dest/"
