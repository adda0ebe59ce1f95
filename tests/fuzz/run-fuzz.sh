#!/usr/bin/env bash
# Builds the fuzzers (clang, libFuzzer + ASan + UBSan) in build/fuzz and runs one of them.
#
#   tests/fuzz/run-fuzz.sh [safetensors|spiece] [seconds] [libFuzzer options...]
#       (default: safetensors for 120 seconds; `run-fuzz.sh 300` is safetensors for 300)
#
# safetensors: the safetensors header parser. Seeds come from tests/weights/fuzz_corpus (the
# regression inputs weights_tests replays) plus a few valid files generated here.
# spiece: spiece.model and tokenising with it (sentencepiece_model_fuzz.cpp). Seeds come from
# tests/text/fuzz_corpus (replayed by text_tests) plus small models trained here by
# sentencepiece_seeds (where libsentencepiece's trainer is installed).
#
# Crashes, timeouts, out-of-memory and slow inputs are copied into that regression folder; fix the
# parser, then commit them. The grown corpus stays in build/fuzz/corpus (safetensors) or
# build/fuzz/spiece/corpus, minimised into minimized/ beside it for picking further regression
# inputs.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
target=safetensors
if [[ ${1:-} == safetensors || ${1:-} == spiece ]]; then
  target=$1
  shift
elif [[ -n ${1:-} && ! ${1:-} =~ ^[0-9]+$ ]]; then
  echo "run-fuzz.sh: unknown fuzzer '$1' (safetensors or spiece)" >&2
  exit 2
fi
seconds=${1:-120}
shift $(( $# > 0 ? 1 : 0 ))
build=$root/build/fuzz
case $target in
  safetensors)
    fuzzer=$build/safetensors_header_fuzz
    regressions=$root/tests/weights/fuzz_corpus
    options=(-dict="$root/tests/fuzz/safetensors.dict" -max_len=8192)
    work=$build  # where the safetensors runs have always kept their corpus
    ;;
  spiece)
    fuzzer=$build/sentencepiece_model_fuzz
    regressions=$root/tests/text/fuzz_corpus
    options=(-dict="$root/tests/fuzz/spiece.dict" -max_len=16384)
    work=$build/spiece
    ;;
esac
cxx=$(command -v clang++-14 || command -v clang++ || true)
if [[ -z $cxx ]]; then
  echo "run-fuzz.sh: clang++ not found (install clang and libclang-rt-dev)" >&2
  exit 1
fi

cmake -S "$root/tests/fuzz" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
ninja -C "$build"

seeds=$work/seeds
corpus=$work/corpus
artifacts=$work/artifacts
rm -rf "$seeds" "$artifacts"
mkdir -p "$seeds" "$corpus" "$artifacts" "$regressions"
find "$regressions" -maxdepth 1 -type f -exec cp {} "$seeds"/ \;

if [[ $target == spiece ]]; then
  if [[ -x $build/sentencepiece_seeds ]]; then
    "$build/sentencepiece_seeds" "$seeds" 2>/dev/null
  else
    echo "run-fuzz.sh: no libsentencepiece trainer: seeds are the regression inputs only" >&2
  fi
else
python3 - "$seeds" <<'EOF'
import json, struct, sys
from pathlib import Path

def write(name, tensors, metadata=None, pad=True):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for tensor_name, dtype, shape, payload in tensors:
        header[tensor_name] = {"dtype": dtype, "shape": shape,
                               "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    Path(sys.argv[1], name).write_bytes(struct.pack("<Q", len(text)) + text + data)

write("valid-empty", [])
write("valid-metadata", [], {"format": "pt", "note": "caf\u00e9"})
write("valid-every-dtype", [
    ("f32", "F32", [2, 2], bytes(16)), ("f16", "F16", [3], bytes(6)),
    ("bf16", "BF16", [1, 2], bytes(4)), ("f8", "F8_E4M3", [5], bytes(5)),
    ("i64", "I64", [1], bytes(8)), ("i32", "I32", [2], bytes(8)),
    ("u8", "U8", [3], b"\x01\x02\x03"), ("bool", "BOOL", [2], b"\x00\x01"),
])
write("valid-zero-and-scalar", [("empty", "F32", [0, 4], b""), ("scalar", "F32", [], bytes(4))])
write("valid-unpadded", [("x", "U8", [1], b"\x07")], pad=False)
EOF
fi

status=0
"$fuzzer" "$corpus" "$seeds" "${options[@]}" \
  -max_total_time="$seconds" -timeout=10 \
  -artifact_prefix="$artifacts/" -print_final_stats=1 "$@" || status=$?

found=$(find "$artifacts" -maxdepth 1 -type f | wc -l)
if (( found > 0 )); then
  cp "$artifacts"/* "$regressions"/
  echo "run-fuzz.sh: $found input(s) copied to ${regressions#"$root"/}:" >&2
  ls "$artifacts" >&2
fi

rm -rf "$work/minimized"
mkdir -p "$work/minimized"
"$fuzzer" -merge=1 "${options[@]}" "$work/minimized" "$corpus" >/dev/null 2>&1 || true
echo "run-fuzz.sh: fuzzer exit status $status; minimised corpus: $work/minimized" \
     "($(find "$work/minimized" -type f | wc -l) inputs)"
exit "$status"
