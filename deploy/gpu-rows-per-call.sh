#!/usr/bin/env bash
# How decode speed scales with rows per network call on a CUDA device: the measurement behind
# `--rows-per-call auto` on GPUs (the memory budget divided by the per-row estimate).
#
#   deploy/gpu-rows-per-call.sh                 # 64, 128 and 256 px; B = 1, 2, 4, ..., 256
#   SIZES="256" SWEEP="1,16,64" deploy/gpu-rows-per-call.sh
#
# Without a CUDA device it says so and exits 0 (it changes nothing). With one, it builds the jars
# with the CUDA libtorch (-Pgpu, from Maven Central), fetches the dev photos when they are missing,
# and runs `bin/mipflow bench --device gpu --sweep-only` per size: the shipped student in the
# numerics `auto` picks for the GPU, every swept B side by side in interleaved rounds, each round
# listed. Tables go to out/gpu-rows-per-call-<size>/bench.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  echo "gpu-rows-per-call: skipped: no CUDA device here (nvidia-smi lists none)"
  exit 0
fi
nvidia-smi -L

echo "gpu-rows-per-call: building with the CUDA libtorch (mvn -Pgpu) ..." >&2
mvn -q -B -Pgpu -DskipTests install >"$ROOT/jobs/build-gpu.log" 2>&1 \
  || { echo "gpu-rows-per-call: build failed; see jobs/build-gpu.log" >&2; exit 1; }
[[ -d data/photos ]] || scripts/fetch-photos.sh

for size in ${SIZES:-64 128 256}; do
  bin/mipflow bench --device gpu --sweep-only --size "$size" --images 6 --rounds "${ROUNDS:-5}" \
    --sweep "${SWEEP:-1,2,4,8,16,32,64,128,256}" --sweep-rows "${SWEEP_ROWS:-512}" \
    --threads 1 --out "out/gpu-rows-per-call-$size" --overwrite
done
