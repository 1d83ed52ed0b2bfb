#!/usr/bin/env bash
# Submits a Mipflow job with the one-jar build; the submit-*.sh scripts call this.
#
#   mvn -B -Pdist -DskipTests install            # jobs/target/mipflow-spark.jar (CPU libtorch)
#   mvn -B -Pdist,gpu -DskipTests install        # the same with the CUDA libtorch
#   MASTER=spark://host:7077 deploy/spark-submit.sh decode \
#       --input hdfs:///data/latents --out hdfs:///data/decoded --model /opt/mipflow/models/default
#
# MIPFLOW_CONF=cpu|gpu picks conf/spark-defaults-$MIPFLOW_CONF.conf (default cpu). The model
# directory must be readable at the given path on the driver and every executor (installed on each
# node, on a shared file system, or shipped with --archives as submit-yarn.sh does); executors
# load it once per JVM. Extra spark-submit options go in SPARK_SUBMIT_OPTS_EXTRA, e.g.
# "--conf spark.executor.cores=8"; JAR overrides the jar (e.g. local:///opt/mipflow/mipflow-spark.jar).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="${JAR:-$ROOT/jobs/target/mipflow-spark.jar}"
if [[ "$JAR" != local:* && ! -f "$JAR" ]]; then
  echo "missing $JAR: run 'mvn -B -Pdist -DskipTests install' first" >&2
  exit 2
fi
CONF="$ROOT/conf/spark-defaults-${MIPFLOW_CONF:-cpu}.conf"
[[ -f "$CONF" ]] || { echo "no such configuration: $CONF" >&2; exit 2; }
SUBMIT="${SPARK_HOME:+$SPARK_HOME/bin/}spark-submit"
JVM_OPTS="-Dai.djl.offline=true $(tr '\n' ' ' < "$ROOT/conf/jvm-options")"
# shellcheck disable=SC2086  # SPARK_SUBMIT_OPTS_EXTRA is a list of options
exec "$SUBMIT" --master "${MASTER:?set MASTER to the master URL of the cluster}" \
  --properties-file "$CONF" \
  --class org.mipflow.jobs.Main \
  --conf "spark.driver.extraJavaOptions=$JVM_OPTS" \
  --conf "spark.executor.extraJavaOptions=$JVM_OPTS" \
  ${SPARK_SUBMIT_OPTS_EXTRA:-} \
  "$JAR" "$@"
