#!/usr/bin/env bash
# Runs every command the README and docs/*.md show as runnable, the slow ones (```console slow:
# longer decodes, an audit, benchmarks) included, and checks their exit codes and output
# (DocsCommandsTest; the convention is in docs/README.md). The default test run (mvn -B test)
# runs only the fast ones. Takes several minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
exec mvn -B test -pl jobs -am -Dtest=DocsCommandsTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dmipflow.docs.slow=true
