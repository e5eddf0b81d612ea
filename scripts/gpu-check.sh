#!/usr/bin/env bash
# The GPU check, in one short run on a machine with an NVIDIA GPU (docs/building.md "CUDA"):
#   0. checks for the build dependencies' headers and names every missing package at once;
#   1. builds taupe, the encoder benchmark and the encoder / dist tests against the machine's CUDA
#      LibTorch (the one inside the PyTorch wheel);
#   2. runs the encoder tests on the GPU (the default device is auto = CUDA there);
#   3. runs the tiny pipeline with --device cuda and --device cpu and compares them (encoder loss
#      curve, encodings, verdicts; scripts/compare_devices.py), and again with --precision bf16;
#   4. benchmarks encoder training and encoding on the GPU and on 2 CPU cores of the same machine;
#   5. times the quick preset end to end on the GPU.
# Everything it measures goes to $OUT (default ./gpu-check-out): a log per step and summary.txt.
# The build needs the Debian packages of scripts/setup.sh (HDF5, libtiff, OpenCV, toml++, CLI11,
# nlohmann-json, pugixml, libzip, Boost.Math, OpenSSL, GoogleTest, Google Benchmark; Gloo's
# headers are optional) and a CUDA toolkit (nvcc) for find_package(Torch).
# Usage: bash scripts/gpu-check.sh            (about 6-9 minutes on an H100 machine with 16 cores)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu-check-out}"
mkdir -p "$OUT"
BUILD="${TAUPE_BUILD_DIR:-build-cuda}"
JOBS="${TAUPE_JOBS:-$(nproc)}"
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"

# step NAME TIMEOUT_S COMMAND...: runs it with its output in $OUT/NAME.log; notes rc and seconds.
step() {
  local name="$1" limit="$2"
  shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  printf '%-28s rc=%-3s %4ss\n' "$name" "$rc" "$((SECONDS - t0))" | tee -a "$SUMMARY"
  return $rc
}

# Pre-flight: the machine, and the headers of the build dependencies. A CUDA image often lacks
# them and may not be able to install any: list every missing one at once and stop.
{ grep -h '^PRETTY_NAME' /etc/os-release 2>/dev/null; ${CXX:-c++} --version 2>&1 | head -n 1; cmake --version | head -n 1; } |
  tee -a "$SUMMARY"
missing=()
for spec in "H5Cpp.h|-I/usr/include/hdf5/serial|libhdf5-dev" "tiffio.h||libtiff-dev" \
  "opencv2/imgcodecs.hpp|-I/usr/include/opencv4|libopencv-dev" "zip.h||libzip-dev" "pugixml.hpp||libpugixml-dev" \
  "nlohmann/json.hpp||nlohmann-json3-dev" "toml++/toml.h||libtomlplusplus-dev" "CLI/CLI.hpp||libcli11-dev" \
  "boost/math/distributions/normal.hpp||libboost-math-dev" "openssl/evp.h||libssl-dev" "gtest/gtest.h||libgtest-dev" \
  "benchmark/benchmark.h||libbenchmark-dev"; do
  IFS='|' read -r header flags package <<<"$spec"
  # shellcheck disable=SC2086  # flags: zero or one word
  echo "#include <$header>" | ${CXX:-c++} -std=c++17 -E -x c++ - $flags >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "missing build dependencies (Debian/Ubuntu packages): ${missing[*]}" | tee -a "$SUMMARY"
  exit 1
fi

TORCH_PREFIX="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "devices", torch.cuda.device_count(), "cxx11_abi", torch.compiled_with_cxx11_abi())' | tee -a "$SUMMARY"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee -a "$SUMMARY"

step configure 240 cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" \
  -DTAUPE_BUILD_BENCHMARKS=ON -DTAUPE_BUILD_TESTS=ON || { echo "configure failed: $OUT/configure.log"; exit 1; }
grep -h -E 'taupe: (NCCL header|no nccl.h)' "$OUT/configure.log" | tee -a "$SUMMARY"
step build 420 cmake --build "$BUILD" -j "$JOBS" --target taupe encoder_bench test_encoder test_dist ||
  { echo "build failed: $OUT/build.log"; exit 1; }
T="$BUILD/apps/taupe/taupe"
step info 30 "$T" info
cat "$OUT/info.log" >>"$SUMMARY"

step test_encoder_gpu 180 "$BUILD/tests/test_encoder" --gtest_brief=1
step test_dist 120 "$BUILD/tests/test_dist" --gtest_brief=1

step tiny_cuda 180 /usr/bin/time -v "$T" --device cuda run --preset tiny -o "$OUT/tiny-cuda"
step tiny_cpu 180 "$T" --device cpu run --preset tiny -o "$OUT/tiny-cpu"
step compare_devices 60 python3 scripts/compare_devices.py "$OUT/tiny-cpu" "$OUT/tiny-cuda"
tail -n 20 "$OUT/compare_devices.log" >>"$SUMMARY"
step tiny_cuda_bf16 180 "$T" --device cuda --precision bf16 run --preset tiny -o "$OUT/tiny-cuda-bf16"
step compare_bf16 60 python3 scripts/compare_devices.py "$OUT/tiny-cuda" "$OUT/tiny-cuda-bf16"
tail -n 20 "$OUT/compare_bf16.log" >>"$SUMMARY"

step bench_gpu 180 env TAUPE_DEVICE=cuda "$BUILD/bench/encoder_bench" --benchmark_min_time=2 \
  --benchmark_filter='BM_EncoderTrainStep/0/256|BM_Encode/batch:(128|512)/module:0' --benchmark_counters_tabular=true
step bench_gpu_bf16 120 env TAUPE_DEVICE=cuda TAUPE_PRECISION=bf16 "$BUILD/bench/encoder_bench" --benchmark_min_time=2 \
  --benchmark_filter='BM_EncoderTrainStep/0/256|BM_Encode/batch:512/module:0' --benchmark_counters_tabular=true
step bench_cpu2 180 env TAUPE_DEVICE=cpu taskset -c 0,1 "$BUILD/bench/encoder_bench" --benchmark_min_time=2 \
  --benchmark_filter='BM_EncoderTrainStep/0/256|BM_Encode/batch:128/module:0' --benchmark_counters_tabular=true
grep -h "BM_" "$OUT/bench_gpu.log" "$OUT/bench_gpu_bf16.log" "$OUT/bench_cpu2.log" | sed 's/^/  /' >>"$SUMMARY"

step quick_cuda 420 /usr/bin/time -v "$T" --device cuda run --preset quick -o "$OUT/quick-cuda"
grep -E "Elapsed|Maximum resident" "$OUT/quick_cuda.log" | sed 's/^/  quick: /' >>"$SUMMARY"
grep -h '"timings_s"' -A12 "$OUT/quick-cuda/summary.json" 2>/dev/null | sed 's/^/  /' >>"$SUMMARY"
echo "summary: $SUMMARY"
cat "$SUMMARY"
