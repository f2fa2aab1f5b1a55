#!/usr/bin/env bash
# HTTP fuzzing at scale: starts Trent (embedded PostgreSQL, fresh data directory, loopback) and
# runs the fuzzer of the build's HttpFuzzIT (src/test/java/dev/trent/web/HttpFuzzer.java, run as
# a single-file program) for COUNT mutated requests to every operation in openapi.yaml, with and
# without the bootstrap admin key. Prints the requests, the status histogram and every failure
# (a 5xx, no response, an error that is not problem+json, an OCSP request not answered in OCSP)
# with its input, then what Trent logged: ERROR lines, stack traces and client-error lines. A
# benchmark, not a test: it reports and exits non-zero only when something failed. bench/README.md.
#
#   bench/fuzz-bench.sh [COUNT]      default 1000000
# Knobs: BENCH_SEED (default: the time), BENCH_THREADS=4, BENCH_PORT=18094, BENCH_JAVA_OPTS=,
#        BENCH_KEEP=1 keeps the data directory and Trent's log (path printed)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-1000000}
SEED=${BENCH_SEED:-$(date +%s%N)}
THREADS=${BENCH_THREADS:-4}
PORT=${BENCH_PORT:-18094}
ADMIN=trent_ak_fuzz-bench-admin-key-0123456789abcdefghij
SNAKEYAML=$(ls "${HOME}"/.m2/repository/org/yaml/snakeyaml/*/snakeyaml-*.jar | grep -v sources | tail -1)
source bench/lib.sh
JAR=$(trent_jar)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/trent-fuzz-bench.XXXXXX")
if [[ "${BENCH_KEEP:-0}" == 1 ]]; then trap 'stop_trents; echo "[fuzz-bench] kept $TMP"' EXIT
else trap 'stop_trents; rm -rf "$TMP"' EXIT; fi

# shellcheck disable=SC2086
TRENT_BOOTSTRAP_ADMIN_TOKEN=$ADMIN TRENT_TLS_PORT=0 start_trent "$JAR" "$PORT" "$TMP/data" "$TMP/trent.log" \
    ${BENCH_JAVA_OPTS:-}
wait_up "$PORT" "$TMP/trent.log"
LOG_BEFORE=$(wc -c < "$TMP/trent.log")
echo "[fuzz-bench] Trent on $PORT; $COUNT requests, seed $SEED, $THREADS connections at a time"
STATUS=0
java -XX:+UseSerialGC -cp "$SNAKEYAML" src/test/java/dev/trent/web/HttpFuzzer.java --port "$PORT" \
    --admin "$ADMIN" --count "$COUNT" --seed "$SEED" --threads "$THREADS" || STATUS=$?
echo "[fuzz-bench] Trent's log: $(( $(wc -c < "$TMP/trent.log") - LOG_BEFORE )) bytes written during the run;" \
    "ERROR lines: $(grep -a -c ' ERROR ' "$TMP/trent.log" || true);" \
    "stack frames: $(grep -a -c '^[[:space:]]*at ' "$TMP/trent.log" || true);" \
    "client-error lines: $(grep -a -c 'Client error ' "$TMP/trent.log" || true)" \
    "(rate-limited; $(grep -a -o '([0-9]* more not logged)' "$TMP/trent.log" | grep -o '[0-9]*' | paste -sd+ - | bc 2>/dev/null || echo 0) more counted)"
grep -a ' ERROR ' "$TMP/trent.log" | head -20 || true
exit $STATUS
