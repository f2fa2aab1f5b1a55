#!/usr/bin/env bash
# Webhooks: revoke call returned -> webhook received (median and max over BENCH_REVOCATIONS),
# and enrollment throughput with no endpoint, with an endpoint for certificate.revoked, and with
# one for certificate.issued (every enrollment sends a webhook), in one run, as ratios.
# A benchmark, not a test: it prints figures and never fails on them. See bench/README.md.
#
# Starts Trent (embedded PostgreSQL, durable commits) on 127.0.0.1:$BENCH_PORT, then runs
# bench/WebhookBench.java, which holds the webhook receiver (loopback, checks every signature)
# and drives bench/EnrollLoad.java for the throughput phases.
#
# Knobs: BENCH_REVOCATIONS (100), BENCH_WARMUP (20000), BENCH_COUNT (5000 per phase),
# BENCH_ROUNDS (3), BENCH_CONCURRENCY (16), BENCH_PORT (18094), BENCH_JAVA_OPTS, BENCH_JAR.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${BENCH_PORT:-18094}
ADMIN=trent_ak_webhook-bench-admin-key-0123456789abcdef
source bench/lib.sh
JAR=$(trent_jar)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/trent-webhook-bench.XXXXXX")
trap 'stop_trents; rm -rf "$TMP"' EXIT

# shellcheck disable=SC2086
TRENT_BOOTSTRAP_ADMIN_TOKEN=$ADMIN start_trent "$JAR" "$PORT" "$TMP/data" "$TMP/trent.log" ${BENCH_JAVA_OPTS:-}
wait_up "$PORT" "$TMP/trent.log"
java bench/EnrollLoad.java --print-csr > "$TMP/csr.pem"
echo "[webhook-bench] Trent on $PORT; $(nproc) cores shared by Trent, PostgreSQL, the receiver and the load"
java -XX:+UseSerialGC bench/WebhookBench.java --url "http://127.0.0.1:$PORT" --admin "$ADMIN" --csr "$TMP/csr.pem" \
    --dir "$TMP" --revocations "${BENCH_REVOCATIONS:-100}" --warmup "${BENCH_WARMUP:-20000}" \
    --count "${BENCH_COUNT:-5000}" --rounds "${BENCH_ROUNDS:-3}" --concurrency "${BENCH_CONCURRENCY:-16}"
