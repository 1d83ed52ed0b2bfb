#!/usr/bin/env bash
# The README's cluster route, run for real on this machine:
#   1. the one-jar build (mvn -B -Pdist -DskipTests package -> jobs/target/mipflow-spark.jar);
#   2. a SPARK_HOME laid out as a Spark distribution is (jars/ holding Spark's jars, the ones the
#      build compiles against, and RELEASE; bin/spark-class and bin/spark-submit doing what Spark's do:
#      org.apache.spark.launcher.Main builds the java command), SPARK_SCALA_VERSION exported as
#      Spark's load-spark-env.sh exports it;
#   3. a standalone master and a worker, each a JVM of its own started from that SPARK_HOME;
#   4. deploy/submit-standalone.sh spark://127.0.0.1:PORT decode ... (client mode; the executor is a
#      third JVM the worker launches, which gets Mipflow, DJL and libtorch from the submitted jar only);
#   5. the same decode embedded (bin/mipflow decode, local Spark), and every PNG of the two runs
#      compared byte for byte.
#
#   scripts/test-standalone-cluster.sh [WORK_DIR]     (default target/standalone-test; wiped first)
#
# Prints "standalone: N images byte-identical to the embedded run" and exits 0, or says what failed
# (the logs are in WORK_DIR) and exits 1. JAR=path skips step 1. StandaloneClusterTest runs this
# script in `mvn -B test` when CI=true (as CI sets it) or -Dmipflow.standalone=true.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${1:-$ROOT/target/standalone-test}"
rm -rf "$WORK"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
cd "$ROOT"

fail() {
  echo "standalone: FAILED: $*" >&2
  exit 1
}

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# waits up to $3 seconds for the regex $2 in file $1
wait_for() {
  local i
  for ((i = 0; i < $3; i++)); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 1
  done
  return 1
}

# 1. the one-jar build (it also leaves the jars and classpath bin/mipflow runs from)
if [[ -z "${JAR:-}" ]]; then
  echo "standalone: building the one jar (mvn -B -Pdist -DskipTests package) ..."
  # maven.test.skip: run inside `mvn test` (StandaloneClusterTest), it leaves the running tests' classes alone
  mvn -B -q -Pdist -DskipTests -Dmaven.test.skip=true package >"$WORK/build.log" 2>&1 || fail "build; see $WORK/build.log"
  JAR="$ROOT/jobs/target/mipflow-spark.jar"
fi
[[ -f "$JAR" ]] || fail "no jar at $JAR"
export JAR

# 2. SPARK_HOME: Spark's jars are the build's compile class path without what the one jar bundles
export SPARK_HOME="$WORK/spark-home"
export SPARK_SCALA_VERSION=2.13
mkdir -p "$SPARK_HOME/jars" "$SPARK_HOME/bin"
[[ -f jobs/target/classpath.txt ]] || fail "no jobs/target/classpath.txt (the build writes it)"
tr ':' '\n' <jobs/target/classpath.txt | grep -vE '/(ai/djl|org/ejml|net/java/dev/jna)/' | while read -r j; do
  ln -s "$j" "$SPARK_HOME/jars/"
done
SPARK_VERSION="$(sed -n 's#.*/spark-core_2.13-\([0-9.]*\)\.jar$#\1#p' < <(ls "$SPARK_HOME"/jars/spark-core_*))"
echo "Spark $SPARK_VERSION (git revision unknown) built for Hadoop 3.4.2 (test layout)" >"$SPARK_HOME/RELEASE"
cat >"$SPARK_HOME/bin/spark-class" <<'EOF'
#!/usr/bin/env bash
# As Spark's bin/spark-class: org.apache.spark.launcher.Main prints a NUL and a newline (after any
# lines for the user), then the java command, each argument NUL-terminated; its exit code is added last.
RUNNER="${JAVA_HOME:+$JAVA_HOME/bin/}java"
build_command() {
  "$RUNNER" -Xmx128m -cp "$SPARK_HOME/jars/*" org.apache.spark.launcher.Main "$@"
  printf '%d\0' $?
}
CMD=()
while IFS= read -d '' -r ARG; do CMD+=("$ARG"); done < <(build_command "$@")
[[ -n "${CMD[0]}" ]] && echo "${CMD[0]}"
CMD=("${CMD[@]:1}")
CMD[0]="${CMD[0]#$'\n'}"
LAST=$((${#CMD[@]} - 1))
[[ "${CMD[$LAST]}" == 0 ]] || exit "${CMD[$LAST]}"
exec "${CMD[@]:0:$LAST}"
EOF
cat >"$SPARK_HOME/bin/spark-submit" <<'EOF'
#!/usr/bin/env bash
exec "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.SparkSubmit "$@"
EOF
chmod +x "$SPARK_HOME/bin/spark-class" "$SPARK_HOME/bin/spark-submit"

# 3. master and worker, each its own JVM
export SPARK_LOCAL_IP=127.0.0.1 SPARK_LOG_DIR="$WORK/logs" SPARK_WORKER_DIR="$WORK/worker"
"$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port 0 --webui-port 0 \
  >"$WORK/master.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/master.log" 'Starting Spark master at spark://' 90 || fail "master did not start; see $WORK/master.log"
MASTER_URL="$(grep -oE 'spark://127\.0\.0\.1:[0-9]+' "$WORK/master.log" | head -1)"
"$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 2 --memory 3g \
  --webui-port 0 --work-dir "$SPARK_WORKER_DIR" "$MASTER_URL" >"$WORK/worker.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/worker.log" 'Successfully registered with master' 120 \
  || fail "worker did not register; see $WORK/worker.log"
echo "standalone: Spark $SPARK_VERSION master $MASTER_URL, one worker (2 cores)"

# 4. the decode through the README's route; sizes that fit one 2-core worker (the conf file's are for real nodes)
# bytes depend on the libtorch threads per task (README): one in both runs, whatever the machine
DECODE=(--input "$ROOT/sample-data/latents" --model "$ROOT/models/default" --seed 3 --threads 1)
export ENGINE_CACHE_DIR="${ENGINE_CACHE_DIR:-$ROOT/.djl-cache}"
SPARK_SUBMIT_OPTS_EXTRA="--conf spark.executor.cores=2 --conf spark.task.cpus=1 --conf spark.executor.memory=2g \
  --conf spark.driver.memory=2g --conf spark.ui.enabled=false --conf spark.executorEnv.ENGINE_CACHE_DIR=$ENGINE_CACHE_DIR" \
  deploy/submit-standalone.sh "$MASTER_URL" decode "${DECODE[@]}" --out "$WORK/cluster" --png-dir "$WORK/cluster-png" \
  >"$WORK/submit.log" 2>&1 || fail "deploy/submit-standalone.sh; see $WORK/submit.log"
grep -q 'input rows 3 = decoded 3 + errors 0' "$WORK/submit.log" || fail "cluster decode; see $WORK/submit.log"
grep -q 'app-[0-9-]*' "$WORK/master.log" || fail "the master never saw the application; see $WORK/master.log"

# 5. the embedded run, and the bytes
bin/mipflow decode "${DECODE[@]}" --master 'local[2]' --out "$WORK/embedded" --png-dir "$WORK/embedded-png" \
  >"$WORK/embedded.log" 2>&1 || fail "embedded decode; see $WORK/embedded.log"
n="$(find "$WORK/embedded-png" -name '*.png' | wc -l)"
[[ "$n" -eq 3 ]] || fail "embedded run wrote $n PNGs, not 3"
diff -r "$WORK/embedded-png" "$WORK/cluster-png" >"$WORK/diff.txt" 2>&1 \
  || fail "the cluster's images differ from the embedded run's: $(cat "$WORK/diff.txt")"
echo "standalone: $n images byte-identical to the embedded run"
