#!/usr/bin/env bash
# How LibTorch's OpenMP wait policy (core/openmp_wait_policy.cpp) weighs on CPU runs, after a build:
#   1. an idle machine: a shapes-s clip (4 steps), dense and SVG-EAR, threads spinning (libgomp's
#      default, asked for by an empty OMP_WAIT_POLICY) against passive (svgear's own choice);
#   2. beside a second svgear process (a long dense run): a tiny random model's 2-step SVG-EAR run,
#      ROUNDS times each way, each capped at 60 s.
# Prints one line per run: seconds of wall time and of user CPU time.
#   bash packaging/cpu-wait-policy.sh          (SVGEAR=path/to/svgear ROUNDS=6)
set -uo pipefail
cd "$(dirname "$0")/.."
svgear=$(realpath "${SVGEAR:-build/default/app/svgear}")
rounds=${ROUNDS:-6}
work=$(mktemp -d)
trap 'pkill -P $$ 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export HOME=$work
[ -x "$svgear" ] || { echo "no $svgear: build first"; exit 1; }

timed() {  # label, then the command
  local label=$1; shift
  /usr/bin/time -f "%e s wall, %U s user  $label" "$@" > /dev/null 2> time.log
  tail -1 time.log
}

echo "idle machine, shapes-s 64x64 x 16 frames, 4 steps:"
for mode in dense svgear; do
  for round in 1 2; do
    timed "$mode, spinning" env OMP_WAIT_POLICY= "$svgear" generate --prompt "a red circle moves left over a blue sky" \
      --steps 4 --attention "$mode" --output "idle-$mode-spin-$round.mp4" --quiet
    timed "$mode, passive" "$svgear" generate --prompt "a red circle moves left over a blue sky" \
      --steps 4 --attention "$mode" --output "idle-$mode-passive-$round.mp4" --quiet
  done
done

echo "beside a second svgear process, a tiny random model, 2 SVG-EAR steps:"
"$svgear" random-model --out tiny --preset tiny > /dev/null
env OMP_WAIT_POLICY= "$svgear" generate --prompt "a red circle moves left over a blue sky" --steps 1000 \
  --output background.mp4 --quiet > /dev/null 2>&1 &
sleep 5
for round in $(seq "$rounds"); do
  timed "spinning" timeout 60 env OMP_WAIT_POLICY= "$svgear" generate --model tiny --prompt "a red circle" \
    --steps 2 --attention svgear --output "busy-spin-$round.mp4" --quiet
  timed "passive" timeout 60 "$svgear" generate --model tiny --prompt "a red circle" \
    --steps 2 --attention svgear --output "busy-passive-$round.mp4" --quiet
done
