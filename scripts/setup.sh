#!/usr/bin/env bash
# Installs every Debian package taupe needs to build, run and test, and makes OpenBLAS (OpenMP
# variant) the active libblas.so.3 / liblapack.so.3: Debian's LibTorch uses whatever those
# alternatives point to, and the reference BLAS is 2-4x slower. Idempotent: when everything is
# already installed it only checks (no apt-get), so repeated runs take a second.
# Usage: bash scripts/setup.sh        (as root, or with sudo available)
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build g++ clang ccache pkg-config python3
  # libraries
  libtorch-dev libopenblas0-openmp libhdf5-dev libtiff-dev nlohmann-json3-dev libtomlplusplus-dev
  libcli11-dev libgloo-dev libopencv-dev libzip-dev libpugixml-dev libboost-math-dev libssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # Python access (python/, docs/python.md) and its tests
  python3-h5py python3-numpy python3-tifffile python3-torch
  # report: plots and the HTML rendering check
  gnuplot-nox chromium
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup.sh: run as root (or install sudo) to install packages" >&2; exit 1
  fi
fi

# One dpkg-query for all packages (fast path when everything is installed).
installed="$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null | awk '/install ok installed/ {print $1}' || true)"
missing=()
for p in "${PACKAGES[@]}"; do
  if ! grep -qx "$p" <<<"$installed"; then missing+=("$p"); fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup.sh: all ${#PACKAGES[@]} packages present"
fi

# Select OpenBLAS-openmp for BLAS and LAPACK (LibTorch uses OpenMP; OpenBLAS is then kept
# single-threaded by taupe at start-up and LibTorch owns the threads).
arch_triplet="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine)"
for lib in libblas.so.3 liblapack.so.3; do
  target="/usr/lib/${arch_triplet}/openblas-openmp/${lib}"
  name="${lib}-${arch_triplet}"
  if [ ! -e "$target" ]; then
    echo "setup.sh: $target missing (is libopenblas0-openmp installed?)" >&2; exit 1
  fi
  current="$(readlink -f "/usr/lib/${arch_triplet}/${lib}" || true)"
  if [ "$current" != "$(readlink -f "$target")" ]; then
    $SUDO update-alternatives --set "$name" "$target"
  fi
done
echo "setup.sh: BLAS = $(readlink -f "/usr/lib/${arch_triplet}/libblas.so.3")"
