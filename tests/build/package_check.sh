#!/usr/bin/env bash
# Installs the build as a user would (`cmake --install` into a fresh prefix), packs the .deb with
# cpack, and checks both trees from outside the source tree: every file in its place, the launcher
# entry valid, the icon at each size, the executables starting (LibTorch through their RUNPATH),
# and the built-in models found beside them (builtin_models_root), by `svgear info` and by a
# generation without --model.
# A CUDA build is installed and checked, not packed: its executables need NVIDIA's libraries from
# the PyTorch wheel, which no Debian package provides.
# Usage: package_check.sh <build dir> <scratch dir> [cuda]
set -euo pipefail
build=$(realpath "$1")
scratch=$2
rm -rf "$scratch"
mkdir -p "$scratch/work"
scratch=$(realpath "$scratch")
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

check_tree() {  # <usr folder> <what it is>
  local usr=$1 what=$2
  for file in bin/svgear share/svgear/models/shapes-s/model.json share/svgear/models/shapes-l/model.json \
              share/applications/svgear-studio.desktop share/icons/hicolor/scalable/apps/svgear-studio.svg \
              share/doc/svgear/README.md share/doc/svgear/docs/architecture.md; do
    [ -e "$usr/$file" ] || fail "$what: no $file"
  done
  if [ -e "$build/app/svgear-studio" ]; then
    [ -x "$usr/bin/svgear-studio" ] || fail "$what: no bin/svgear-studio"
  fi
  python3 - "$usr/share/icons/hicolor" "$what" <<'PY'
import struct, sys
root, what = sys.argv[1:]
for size in (16, 32, 48, 64, 128, 256):
    head = open(f"{root}/{size}x{size}/apps/svgear-studio.png", "rb").read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or struct.unpack(">II", head[16:24]) != (size, size):
        sys.exit(f"FAIL: {what}: the {size}x{size} icon is not a PNG of that size")
PY
  if command -v desktop-file-validate > /dev/null; then
    desktop-file-validate "$usr/share/applications/svgear-studio.desktop" || fail "$what: the launcher entry is invalid"
  fi
  (cd "$scratch/work" && env -u SVGEAR_MODELS "$usr/bin/svgear" info) > "$scratch/info.log" 2>&1 || { cat "$scratch/info.log"; fail "$what: svgear info failed"; }
  grep -Eq "^  shapes-s +$usr/share/svgear/models/shapes-s " "$scratch/info.log" ||
    { cat "$scratch/info.log"; fail "$what: svgear info does not list the installed shapes-s"; }
  if grep -q "resources/models" "$scratch/info.log"; then
    cat "$scratch/info.log"
    fail "$what: svgear info lists the source tree's models"
  fi
  rm -f "$scratch/work/clip.y4m" "$scratch/work/clip.json"
  (cd "$scratch/work" && env -u SVGEAR_MODELS "$usr/bin/svgear" generate --prompt "a red circle moves left over a blue sky" \
     --steps 1 --frames 1 --device cpu --quiet --output clip.y4m) > "$scratch/generate.log" 2>&1 ||
    { cat "$scratch/generate.log"; fail "$what: a generation with the default model failed"; }
  python3 - "$scratch/work/clip.json" "$usr/share/svgear/models/shapes-s" "$what" <<'PY'
import json, sys
record, folder, what = sys.argv[1:]
used = json.load(open(record))["model"]["folder"]
if used != folder:
    sys.exit(f"FAIL: {what}: the generation used {used}, not {folder}")
PY
  echo "$what: files, icon, launcher entry, svgear info and a generation from the installed models: ok"
}

cmake --install "$build" --prefix "$scratch/prefix/usr" --strip > "$scratch/install.log"
check_tree "$scratch/prefix/usr" "cmake --install"

for tool in cpack dpkg-deb dpkg-shlibdeps file; do
  if ! command -v "$tool" > /dev/null; then
    echo "package check: the installed tree passed; the .deb is not checked here: no $tool (packaging/install-deps.sh installs it)"
    exit 77
  fi
done
if [ "${3:-}" = cuda ]; then
  echo "package check passed: the installed tree (a CUDA build is not packed)"
  exit 0
fi
cpack --config "$build/CPackConfig.cmake" -B "$scratch/package" > "$scratch/cpack.log" 2>&1 ||
  { cat "$scratch/cpack.log"; fail "cpack failed"; }
deb=$(ls "$scratch"/package/svgear-studio_*.deb)
dpkg-deb --field "$deb" Depends > "$scratch/depends.txt"
dependencies="libsentencepiece zlib1g"
if [ -e "$build/app/svgear-studio" ]; then dependencies="$dependencies libqt6widgets6"; fi
if grep -q "SVGEAR_HAVE_FFMPEG 1" "$build/generated/svgear/build_config.h"; then dependencies="$dependencies libavcodec"; fi
for dependency in $dependencies; do
  grep -q "$dependency" "$scratch/depends.txt" || fail "the package does not depend on $dependency: $(cat "$scratch/depends.txt")"
done
dpkg-deb --extract "$deb" "$scratch/unpacked"
check_tree "$scratch/unpacked/usr" "the .deb"
echo "package check passed: $(basename "$deb"), $(du -h "$deb" | cut -f1)"
