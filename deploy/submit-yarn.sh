#!/usr/bin/env bash
# YARN, cluster mode: the model directory is shipped to every container with --archives and
# unpacked there as ./mipflow-model, so no node needs it installed.
#   deploy/submit-yarn.sh models/default decode --input hdfs:///latents --out hdfs:///decoded
# (HADOOP_CONF_DIR or YARN_CONF_DIR must point at the cluster's configuration.)
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 MODEL_DIR <mipflow command> [options]" >&2; exit 2; }
MODEL="$1"; shift
ARCHIVE="$(mktemp -d)/mipflow-model.tgz"
tar -C "$MODEL" -czf "$ARCHIVE" --exclude='checkpoint*' .
export MASTER=yarn
export SPARK_SUBMIT_OPTS_EXTRA="--deploy-mode cluster --archives $ARCHIVE#mipflow-model ${SPARK_SUBMIT_OPTS_EXTRA:-}"
exec "$(dirname "${BASH_SOURCE[0]}")/spark-submit.sh" "$@" --model mipflow-model
