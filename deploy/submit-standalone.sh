#!/usr/bin/env bash
# Spark standalone cluster, client mode (the driver runs here and prints progress):
#   deploy/submit-standalone.sh spark://master:7077 decode --input hdfs:///latents --out hdfs:///decoded \
#       --model /opt/mipflow/models/default
# GPU workers: start them with spark.worker.resource.gpu.amount and
# spark.worker.resource.gpu.discoveryScript=deploy/getGpusResources.sh (spark-env.sh, SPARK_WORKER_OPTS)
# and submit with MIPFLOW_CONF=gpu.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 spark://HOST:PORT <mipflow command> [options]" >&2; exit 2; }
MASTER="$1"; shift
MASTER="$MASTER" exec "$(dirname "${BASH_SOURCE[0]}")/spark-submit.sh" "$@"
