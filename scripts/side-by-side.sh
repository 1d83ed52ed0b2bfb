#!/usr/bin/env bash
# Regenerates docs/images/side-by-side.jpg: three dev photos at 256 x 256, each row the original
# and then the model's reconstruction in modes full, multiscale and onestep (bin/mipflow eval's
# side-by-side picture). Usage: scripts/side-by-side.sh [MODEL_DIR]   (default models/default)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/default}
list=$(mktemp)
trap 'rm -f "$list"' EXIT
# Dev photos only (never trained on): an insect, a face-sized close-up and fine structure.
grep -E 'european-honey-bee|surfer|cincinnati-bridge' data/lists/photos-dev.lst > "$list"
bin/mipflow eval --model "$model" --list "$list" --size 256 --modes full,multiscale,onestep \
  --side-by-side 3 --out out/side-by-side --overwrite
mkdir -p docs/images
cp out/side-by-side/side-by-side.jpg docs/images/side-by-side.jpg
echo "written: docs/images/side-by-side.jpg"
