#!/usr/bin/env bash
# OCSP responder throughput: pre-signed (nonce-less GET, RFC 5019 cache) and live-signed (POST
# with a nonce), driven by wrk from a separate process. A benchmark, not a test: it prints
# figures and never fails on them. All traffic goes to 127.0.0.1. See bench/README.md.
#
# Knobs: BENCH_PORT (18090), BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_SECONDS (20 per
# measured phase, after a warm-up of the same length), BENCH_JAR (default target/trent-*.jar),
# BENCH_JAVA_OPTS (extra JVM options for Trent, e.g. a profiler agent), BENCH_CASES (which of
# "cached nonce" to run, both by default).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${BENCH_PORT:-18090}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
SECONDS_PER_PHASE=${BENCH_SECONDS:-20}
BASE=http://127.0.0.1:$PORT
ADMIN=trent_ak_ocsp-bench-admin-key-0123456789abcdefghij

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
source bench/lib.sh
JAR=$(trent_jar)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/trent-ocsp-bench.XXXXXX")
trap 'stop_trents; rm -rf "$TMP"' EXIT

echo "[ocsp-bench] starting Trent ($JAR) on $BASE"
# shellcheck disable=SC2086 # BENCH_JAVA_OPTS holds several options
TRENT_BOOTSTRAP_ADMIN_TOKEN=$ADMIN start_trent "$JAR" "$PORT" "$TMP/data" "$TMP/trent.log" ${BENCH_JAVA_OPTS:-}
wait_up "$PORT" "$TMP/trent.log"
curl -sf "$BASE/api/v1/ca/chain" -o "$TMP/chain.pem"
csplit -s -f "$TMP/c" "$TMP/chain.pem" '/-----BEGIN/' '{1}'
mv "$TMP/c01" "$TMP/int.pem"

TOKEN=$(curl -sf -X POST "$BASE/api/v1/enrollment-tokens" -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' -d '{"deviceId":"ocsp-bench","profile":"device"}' \
    | sed -E 's/.*"token":"([^"]+)".*/\1/')
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/leaf.key" \
    -out "$TMP/leaf.csr" -subj /CN=ocsp-bench 2>/dev/null
curl -sf -X POST "$BASE/api/v1/enroll" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/x-pem-file' -H 'Accept: application/pkix-cert' \
    --data-binary @"$TMP/leaf.csr" -o "$TMP/leaf.der"
openssl x509 -inform DER -in "$TMP/leaf.der" -out "$TMP/leaf.pem"

openssl ocsp -issuer "$TMP/int.pem" -cert "$TMP/leaf.pem" -no_nonce -reqout "$TMP/get.der" >/dev/null
openssl ocsp -issuer "$TMP/int.pem" -cert "$TMP/leaf.pem" -reqout "$TMP/nonce.der" >/dev/null
GET_PATH=/ocsp/$(base64 -w0 "$TMP/get.der" | sed 's/+/%2B/g; s/\//%2F/g; s/=/%3D/g')
curl -sf "$BASE$GET_PATH" -o "$TMP/resp.der"
openssl ocsp -respin "$TMP/resp.der" -issuer "$TMP/int.pem" -cert "$TMP/leaf.pem" -CAfile "$TMP/chain.pem" \
    | grep -q "leaf.pem: good" || { echo "OCSP answer is not 'good'" >&2; exit 1; }

cat > "$TMP/post.lua" <<LUA
local f = io.open("$TMP/nonce.der", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/ocsp-request"
LUA

run() { # label, then wrk arguments
    local label=$1; shift
    wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_PER_PHASE}s" "$@" > /dev/null          # warm-up
    local t0; t0=$(proc_ticks "${TRENT_PIDS[-1]}")   # Trent's JVM
    local out; out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_PER_PHASE}s" --latency "$@")
    local ticks=$(( $(proc_ticks "${TRENT_PIDS[-1]}") - t0 ))
    echo "$out" | sed "s/^/[$label] /"
    local rps p99 n
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    n=$(echo "$out" | awk '/requests in/ {print $1}')
    # Trent's CPU per response in the measured phase: less sensitive than the rate to what else
    # the shared machine runs meanwhile (wrk runs on the same two cores).
    echo "RESULT $label responses_per_s=$rps p99=$p99 connections=$CONNS" \
        "trent_cpu_us=$(awk -v t="$ticks" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t * 1e6 / hz / n}')"
}

CASES=${BENCH_CASES:-cached nonce}
[[ " $CASES " == *" cached "* ]] && run cached "$BASE$GET_PATH"
[[ " $CASES " == *" nonce "* ]] && run nonce -s "$TMP/post.lua" "$BASE/ocsp"
true
