#!/usr/bin/env bash
# Run HERE (Debian, with apt): downloads the Debian packages the GPU build needs into .gpu-debs/
# (git-ignored). The GPU machine has LibTorch and CUDA but no package registry; gpu-check.sh
# unpacks these there with dpkg -x. Pass `carry: [".gpu-debs", "shared"]` to the device run.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .gpu-debs
cd .gpu-debs
apt-get download nlohmann-json3-dev libgtest-dev libgmock-dev zlib1g-dev
cd ..
# The reference test vectors travel inside the checkout on the GPU machine, as a copy: through a
# link named shared, the rm below would delete the originals.
if [ -L shared ]; then
  echo "fetch-debs.sh: ./shared is a link; remove it (a copy of the test vectors is made here)" >&2
  exit 1
fi
mkdir -p shared
rm -rf shared/testvectors
cp -r --no-preserve=mode ../shared/testvectors shared/testvectors
ls -la .gpu-debs shared/testvectors
