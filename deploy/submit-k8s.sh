#!/usr/bin/env bash
# Kubernetes, cluster mode, with the image built from deploy/k8s/Dockerfile (jar and model inside):
#   IMAGE=registry/mipflow:0.1 deploy/submit-k8s.sh k8s://https://api.cluster:6443 decode \
#       --input s3a://bucket/latents --out s3a://bucket/decoded --model /opt/mipflow/models/default
# MIPFLOW_CONF=gpu also requests one nvidia.com/gpu per executor pod (deploy/k8s/pod-template-gpu.yaml).
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: IMAGE=... $0 k8s://https://HOST:PORT <mipflow command> [options]" >&2; exit 2; }
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEMPLATE="$DIR/k8s/pod-template.yaml"
[[ "${MIPFLOW_CONF:-cpu}" == gpu ]] && TEMPLATE="$DIR/k8s/pod-template-gpu.yaml"
export MASTER="$1"; shift
export JAR="local:///opt/mipflow/mipflow-spark.jar"
export SPARK_SUBMIT_OPTS_EXTRA="--deploy-mode cluster \
  --conf spark.kubernetes.container.image=${IMAGE:?set IMAGE to the image built from deploy/k8s/Dockerfile} \
  --conf spark.kubernetes.driver.podTemplateFile=$DIR/k8s/pod-template.yaml \
  --conf spark.kubernetes.executor.podTemplateFile=$TEMPLATE \
  --conf spark.kubernetes.executor.deleteOnTermination=true ${SPARK_SUBMIT_OPTS_EXTRA:-}"
exec "$DIR/spark-submit.sh" "$@"
