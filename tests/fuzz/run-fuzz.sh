#!/usr/bin/env bash
# Builds the safetensors header fuzzer (clang, libFuzzer + ASan + UBSan) in build/fuzz and runs it.
#
#   tests/fuzz/run-fuzz.sh [seconds]      (default 120)
#
# Seeds come from tests/weights/fuzz_corpus (the regression inputs weights_tests replays) plus a few
# valid files generated here. Crashes, timeouts, out-of-memory and slow inputs are copied into
# tests/weights/fuzz_corpus; fix the parser, then commit them. The grown corpus stays in
# build/fuzz/corpus, minimised into build/fuzz/minimized for picking further regression inputs.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-120}
build=$root/build/fuzz
regressions=$root/tests/weights/fuzz_corpus
cxx=$(command -v clang++-14 || command -v clang++ || true)
if [[ -z $cxx ]]; then
  echo "run-fuzz.sh: clang++ not found (install clang and libclang-rt-dev)" >&2
  exit 1
fi

cmake -S "$root/tests/fuzz" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
ninja -C "$build"

seeds=$build/seeds
corpus=$build/corpus
artifacts=$build/artifacts
rm -rf "$seeds" "$artifacts"
mkdir -p "$seeds" "$corpus" "$artifacts" "$regressions"
find "$regressions" -maxdepth 1 -type f -exec cp {} "$seeds"/ \;

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

status=0
"$build/safetensors_header_fuzz" "$corpus" "$seeds" \
  -dict="$root/tests/fuzz/safetensors.dict" \
  -max_total_time="$seconds" -max_len=8192 -timeout=10 \
  -artifact_prefix="$artifacts/" -print_final_stats=1 || status=$?

found=$(find "$artifacts" -maxdepth 1 -type f | wc -l)
if (( found > 0 )); then
  cp "$artifacts"/* "$regressions"/
  echo "run-fuzz.sh: $found input(s) copied to tests/weights/fuzz_corpus:" >&2
  ls "$artifacts" >&2
fi

rm -rf "$build/minimized"
mkdir -p "$build/minimized"
"$build/safetensors_header_fuzz" -merge=1 "$build/minimized" "$corpus" >/dev/null 2>&1 || true
echo "run-fuzz.sh: fuzzer exit status $status; minimised corpus: $build/minimized" \
     "($(find "$build/minimized" -type f | wc -l) inputs)"
exit "$status"
