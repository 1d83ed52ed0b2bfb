#!/usr/bin/env bash
# Spark GPU discovery script: prints the GPUs of this node in the form Spark expects,
#   {"name": "gpu", "addresses": ["0", "1"]}
# Point spark.executor.resource.gpu.discoveryScript (and, on standalone workers,
# spark.worker.resource.gpu.discoveryScript) at it. Needs nvidia-smi.
set -euo pipefail
ids=$(nvidia-smi --query-gpu=index --format=csv,noheader | tr -d ' ' | sed 's/.*/"&"/' | paste -sd, -)
echo "{\"name\": \"gpu\", \"addresses\": [${ids}]}"
