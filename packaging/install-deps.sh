#!/usr/bin/env bash
# Installs everything the build needs on Debian 12: Debian packages, then LibTorch from the PyTorch
# wheel (pinned to the GPU machine's torch 2.11.0 / CUDA 13.0). Idempotent: a second run checks and
# returns in seconds.
#
#   packaging/install-deps.sh            # as root, or as a user with sudo
#   SVGEAR_DEPS=/somewhere packaging/install-deps.sh   # LibTorch elsewhere (default /opt/svgear-deps);
#                                        # then configure with -DSVGEAR_TORCH_ROOT=$SVGEAR_DEPS/torch-2.11.0/torch
set -euo pipefail

TORCH_VERSION=2.11.0
# The wheel's CUDA runtime and CUPTI: libtorch_cpu.so links them even for CPU work. The versions
# are the ones torch 2.11.0's cuda-toolkit==13.0.2 pin resolves to.
CUDART_VERSION=13.0.96
CUPTI_VERSION=13.0.85
DEPS=${SVGEAR_DEPS:-/opt/svgear-deps}
TORCH_DIR="$DEPS/torch-$TORCH_VERSION"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git python3 python3-pip unzip
  qt6-base-dev libqt6opengl6-dev libgl-dev libqcustomplot-dev libimgui-dev libfontconfig-dev fonts-dejavu-core
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev ffmpeg
  nlohmann-json3-dev libsentencepiece-dev zlib1g-dev
  libgtest-dev libgmock-dev
  xvfb xauth clang libclang-rt-14-dev
  file desktop-file-utils  # the .deb: CPack's dependency scan runs file(1); the launcher entry's check
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: Debian packages present"
fi

if [ -f "$TORCH_DIR/.complete" ]; then
  echo "install-deps: LibTorch $TORCH_VERSION present in $TORCH_DIR"
  exit 0
fi

echo "install-deps: fetching LibTorch $TORCH_VERSION (the PyPI wheel, ~530 MB) into $TORCH_DIR"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pyver=$(python3 -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')
python3 -m pip download -q --no-deps --only-binary=:all: --dest "$work" \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_25_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --python-version "$pyver" --implementation cp \
  "torch==$TORCH_VERSION" \
  "nvidia-cuda-runtime==$CUDART_VERSION" "nvidia-cuda-cupti==$CUPTI_VERSION"

$SUDO mkdir -p "$TORCH_DIR"
$SUDO chown "$(id -u):$(id -g)" "$TORCH_DIR"
unzip -q -o "$work"/torch-*.whl 'torch/lib/*' 'torch/include/*' 'torch/share/*' 'torch/version.py' -d "$TORCH_DIR"
grep -q "cuda: Optional\[str\] = '13" "$TORCH_DIR/torch/version.py" || {
  echo "install-deps: the torch wheel is not built for CUDA 13; the GPU machine needs a CUDA 13 build" >&2
  exit 1
}
# libtorch's RPATH looks for these in ../../nvidia/cu13/lib, where the wheels put them.
unzip -q -o "$work"/nvidia_cuda_runtime-*.whl 'nvidia/cu13/lib/libcudart.so.13' -d "$TORCH_DIR"
unzip -q -o "$work"/nvidia_cuda_cupti-*.whl 'nvidia/cu13/lib/libcupti.so.13' -d "$TORCH_DIR"
touch "$TORCH_DIR/.complete"
echo "install-deps: LibTorch ready: $TORCH_DIR/torch"
