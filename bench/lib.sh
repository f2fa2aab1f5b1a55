# shellcheck shell=bash
# Shared by bench/*.sh (source it from the repository root): finding or building the jar,
# starting Trent instances on loopback, waiting for them, making enrollment tokens, and stopping
# them all on exit.

# The jar to run: BENCH_JAR, else target/trent-*.jar, built if missing.
trent_jar() {
    local jar=${BENCH_JAR:-$(ls target/trent-*.jar 2>/dev/null | grep -v -- '-plain' | head -1 || true)}
    if [[ -z "$jar" ]]; then
        ./mvnw -q -B package -DskipTests >&2
        jar=$(ls target/trent-*.jar | grep -v -- '-plain' | head -1)
    fi
    echo "$jar"
}

TRENT_PIDS=()

# proc_ticks PID: CPU so far (clock ticks, user + system, all its threads) of one process, 0 when gone.
proc_ticks() {
    if [[ -r /proc/$1/stat ]]; then sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; else echo 0; fi
}

# start_trent JAR PORT DATA_DIR LOG [JVM option...]: starts Trent (with $TRENT_JAVA, default
# java) in the background on 127.0.0.1:PORT. Further settings come from the caller's environment, e.g.
# `SPRING_DATASOURCE_URL=... start_trent ...`.
start_trent() {
    local jar=$1 port=$2 data=$3 log=$4
    shift 4
    TRENT_DATA_DIR="$data" SERVER_PORT="$port" "${TRENT_JAVA:-java}" "$@" -jar "$jar" --server.address=127.0.0.1 \
        > "$log" 2>&1 &
    TRENT_PIDS+=($!)
}

# wait_up PORT LOG: waits (BENCH_START_SECONDS, default 60 s, at most) until Trent answers on
# PORT; shows LOG if it died.
wait_up() {
    local port=$1 log=$2
    for _ in $(seq 1 $(( ${BENCH_START_SECONDS:-60} * 2 ))); do
        curl -sf "http://127.0.0.1:$port/api/v1/ca/chain" -o /dev/null && return 0
        kill -0 "${TRENT_PIDS[-1]}" 2>/dev/null || { cat "$log" >&2; return 1; }
        sleep 0.5
    done
    echo "Trent on port $port did not start" >&2
    return 1
}

# tokens_for PORT ADMIN_KEY FILE COUNT PREFIX: COUNT one-time enrollment tokens for profile
# "device" (batch API, 10,000 per call) as CSV lines in FILE, for device ids PREFIX-1...
tokens_for() {
    local port=$1 admin=$2 file=$3 count=$4 prefix=$5 from to batch
    batch=$(mktemp)
    : > "$file"
    for (( from = 1; from <= count; from += 10000 )); do
        to=$(( from + 9999 )); (( to > count )) && to=$count
        { printf '{"profile":"device","deviceIds":['; seq -f "\"$prefix-%.0f\"" "$from" "$to" | paste -sd, -
          printf ']}'; } > "$batch"
        curl -sS --fail-with-body --max-time 120 -X POST "http://127.0.0.1:$port/api/v1/enrollment-tokens/batch" \
            -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -H 'Accept: text/csv' \
            --data-binary @"$batch" | tr -d '\r' | grep -v '^device_id,' >> "$file"
    done
    rm -f "$batch"
}

# stop_trents: TERM every started instance, then KILL what is still there after 30 s (safe under set -e).
stop_trents() {
    local p
    for p in "${TRENT_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${TRENT_PIDS[@]}"; do
        for _ in $(seq 1 60); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    return 0
}
