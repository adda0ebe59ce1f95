#!/usr/bin/env bash
# Run HERE: exports a committed tree (HEAD, or the revision given: a branch to try beside main)
# with .gpu-debs and the test vectors into a git-ignored folder (.gpu-src, or the one given), so a
# device run builds exactly what is committed even while uncommitted work sits in the checkout.
# Then the device run: `cd .gpu-src && bash packaging/gpu/gpu-check.sh`, carrying [".gpu-src"].
# Run fetch-debs.sh once first. The shipped models are left out (the carry limit is 64 MiB): jobs
# that need them (train, and tests: six of them read the shipped models) run from the checkout instead.
#   packaging/gpu/export-head.sh [REV [FOLDER]]      e.g. export-head.sh attn-pingpong .gpu-src-pingpong
set -euo pipefail
cd "$(dirname "$0")/../.."
rev=${1:-HEAD}
dest=${2:-.gpu-src}
case "$dest" in .gpu-src*) ;; *) echo "the folder must be a git-ignored .gpu-src* folder, got '$dest'"; exit 2 ;; esac
rm -rf "$dest"
mkdir -p "$dest"
git archive "$rev" | tar -x -C "$dest"
cp -r .gpu-debs shared "$dest"/
rm -rf "$dest/resources/models"
echo "exported $(git rev-parse --short "$rev") into $dest ($(du -sh "$dest" | cut -f1))"
