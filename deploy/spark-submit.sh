#!/usr/bin/env bash
# Submits a Mipflow job to a Spark cluster with the one-jar build.
#
#   mvn -B -Pdist -DskipTests install            # builds jobs/target/mipflow-spark.jar
#   MASTER=spark://host:7077 deploy/spark-submit.sh decode \
#       --input hdfs:///data/latents --out hdfs:///data/decoded --model /opt/mipflow/models/default
#
# The model directory must be readable at the same local path on the driver and on every
# executor (installed on each node or on a shared file system); executors load it once per JVM.
# Extra spark-submit options go in SPARK_SUBMIT_OPTS_EXTRA, e.g. "--conf spark.executor.cores=4".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/jobs/target/mipflow-spark.jar"
[[ -f "$JAR" ]] || { echo "missing $JAR: run 'mvn -B -Pdist -DskipTests install' first" >&2; exit 2; }
SUBMIT="${SPARK_HOME:+$SPARK_HOME/bin/}spark-submit"
JVM_OPTS="-Dai.djl.offline=true $(tr '\n' ' ' < "$ROOT/conf/jvm-options")"
exec "$SUBMIT" --master "${MASTER:?set MASTER to the cluster's master URL}" \
  --class org.mipflow.jobs.Main \
  --conf "spark.driver.extraJavaOptions=$JVM_OPTS" \
  --conf "spark.executor.extraJavaOptions=$JVM_OPTS" \
  ${SPARK_SUBMIT_OPTS_EXTRA:-} \
  "$JAR" "$@"
