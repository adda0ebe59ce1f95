#!/usr/bin/env bash
# Run HERE: exports the committed tree (HEAD) with .gpu-debs and the test vectors into .gpu-src/
# (git-ignored), so a device run builds exactly what is committed even while uncommitted work sits
# in the checkout. Then the device run: `cd .gpu-src && bash packaging/gpu/gpu-check.sh`, carrying
# [".gpu-src"]. Run fetch-debs.sh once first.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .gpu-src
mkdir -p .gpu-src
git archive HEAD | tar -x -C .gpu-src
cp -r .gpu-debs shared .gpu-src/
echo "exported $(git rev-parse --short HEAD) into .gpu-src ($(du -sh .gpu-src | cut -f1))"
