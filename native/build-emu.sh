#!/usr/bin/env bash
# Builds the host emulation of the CUDA kernels: every kernels/*.cu compiled as C++17 against
# native/emu/cuda_emu.h, linked into one shared library the emulated launcher opens through FFM.
# Usage: native/build-emu.sh OUT_DIR   (the test build calls it; writes OUT_DIR/libseqkernels_emu.so)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: build-emu.sh OUT_DIR}
cxx=${CXX:-g++}
if ! command -v "$cxx" >/dev/null; then
  echo "build-emu.sh: the CUDA emulator needs a C++17 compiler ($cxx not found; Debian: g++)" >&2
  exit 1
fi
mkdir -p "$out/obj"
objs=()
for src in "$root"/native/emu/cuda_emu.cpp "$root"/kernels/*.cu; do
  obj="$out/obj/$(basename "$src").o"
  # Rebuild only what changed (the emulator header and any kernels/*.cuh touch everything).
  stale=0
  for dep in "$src" "$root/native/emu/cuda_emu.h" "$root"/kernels/*.cuh; do
    if [ "$dep" -nt "$obj" ]; then stale=1; fi
  done
  if [ ! -f "$obj" ] || [ $stale = 1 ]; then
    "$cxx" -std=c++17 -O2 -g0 -fPIC -Wall -Wno-unused-function -Wno-sign-compare -I"$root/native/emu" \
      -I"$root/kernels" -x c++ -c "$src" -o "$obj"
  fi
  objs+=("$obj")
done
"$cxx" -shared -o "$out/libseqkernels_emu.so.tmp" "${objs[@]}"
mv "$out/libseqkernels_emu.so.tmp" "$out/libseqkernels_emu.so"
