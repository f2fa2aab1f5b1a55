#!/usr/bin/env bash
# Enrollment throughput and latency benchmark for Trent. A benchmark, not a test: it reports
# figures and never fails on them. See bench/README.md.
#
# Starts Trent from target/trent-*.jar (building it if missing) against a fresh temporary data
# directory with embedded PostgreSQL (fsync on, synchronous_commit on), or against an external
# PostgreSQL when BENCH_DATASOURCE_URL is set; creates enrollment tokens up front through the
# batch API; then drives POST /api/v1/enroll from a separate JVM (bench/EnrollLoad.java) and
# stops Trent on exit. All traffic goes to 127.0.0.1.
#
# Knobs (environment):
#   BENCH_COUNT=20000        measured enrollments
#   BENCH_WARMUP=100000      unmeasured warm-up enrollments before them: on 2 saturated cores
#                            the C2 JIT needs ~100,000 requests to finish (see bench/README.md)
#   BENCH_CONCURRENCY=16     concurrent closed-loop clients
#   BENCH_MAX_SECONDS=300    time limit of each load phase (warm-up, measured)
#   BENCH_PORT=18080         Trent's HTTP port
#   BENCH_JAVA_OPTS=         extra JVM options for Trent (e.g. -Xmx1g)
#   BENCH_JAR=               run this jar instead of target/trent-*.jar (to compare two builds)
#   BENCH_PROFILE=0          1: during the measured phase also record 15 s of JFR profile and
#                            sample top -H, jstack and PostgreSQL wait events into the output
#                            directory (perturbs the run a little; quote figures from runs without)
#   BENCH_OUT=target/bench/<timestamp>   where logs, tokens and samples go
#   BENCH_KEEP=0             1: keep the temporary data directory
#   BENCH_DATASOURCE_URL / BENCH_DATASOURCE_USERNAME / BENCH_DATASOURCE_PASSWORD
#                            use this PostgreSQL instead of the embedded one. Give it an empty
#                            database: the bootstrap admin key is only created when none exists
#                            (or set BENCH_ADMIN_TOKEN to an existing ADMIN/OPERATOR key).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

COUNT=${BENCH_COUNT:-20000}
WARMUP=${BENCH_WARMUP:-100000}
CONCURRENCY=${BENCH_CONCURRENCY:-16}
MAX_SECONDS=${BENCH_MAX_SECONDS:-300}
PORT=${BENCH_PORT:-18080}
PROFILE=${BENCH_PROFILE:-0}
OUT=${BENCH_OUT:-$ROOT/target/bench/$(date -u +%Y%m%dT%H%M%SZ)}
BASE=http://127.0.0.1:$PORT
BATCH=10000                      # the batch API's maximum

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/trent-bench.XXXXXX")
TRENT_PID=
SAMPLER_PID=

cleanup() {
    set +e
    for p in "$SAMPLER_PID" "${WAL_PID:-}"; do
        if [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null; then kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; fi
    done
    if [[ -n "$TRENT_PID" ]] && kill -0 "$TRENT_PID" 2>/dev/null; then
        log "stopping Trent (pid $TRENT_PID)"
        kill -TERM "$TRENT_PID"
        for _ in $(seq 1 60); do kill -0 "$TRENT_PID" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$TRENT_PID" 2>/dev/null && { log "Trent did not stop; killing it"; kill -KILL "$TRENT_PID"; }
        wait "$TRENT_PID" 2>/dev/null
    fi
    # The embedded postmaster is detached from Trent; if Trent died hard it may still run.
    local pidfile="$TMP/data/postgres/postmaster.pid"
    if [[ -f "$pidfile" ]]; then
        local pg; pg=$(head -1 "$pidfile")
        if [[ -n "$pg" ]] && kill -0 "$pg" 2>/dev/null; then
            log "stopping the embedded PostgreSQL left behind (pid $pg)"
            kill -INT "$pg"
            for _ in $(seq 1 40); do kill -0 "$pg" 2>/dev/null || break; sleep 0.25; done
        fi
    fi
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build ----
JAR=${BENCH_JAR:-$(ls target/trent-*.jar 2>/dev/null | grep -v -- '-plain' | head -1 || true)}
if [[ -z "$JAR" ]]; then
    log "no jar in target/: building it"
    ./mvnw -q -B package -DskipTests
    JAR=$(ls target/trent-*.jar | grep -v -- '-plain' | head -1)
fi

if curl -s -o /dev/null --max-time 2 "$BASE/"; then
    echo "something already answers on $BASE; set BENCH_PORT" >&2
    exit 1
fi

# ---- start Trent ----
ADMIN=${BENCH_ADMIN_TOKEN:-trent_ak_bench_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}
export TRENT_DATA_DIR=$TMP/data
export TRENT_BOOTSTRAP_ADMIN_TOKEN=$ADMIN
export SERVER_PORT=$PORT
export SERVER_ADDRESS=127.0.0.1
if [[ -n "${BENCH_DATASOURCE_URL:-}" ]]; then
    export SPRING_DATASOURCE_URL=$BENCH_DATASOURCE_URL
    export SPRING_DATASOURCE_USERNAME=${BENCH_DATASOURCE_USERNAME:-}
    export SPRING_DATASOURCE_PASSWORD=${BENCH_DATASOURCE_PASSWORD:-}
    DB_DESC="external PostgreSQL $BENCH_DATASOURCE_URL"
else
    unset SPRING_DATASOURCE_URL SPRING_DATASOURCE_USERNAME SPRING_DATASOURCE_PASSWORD
    DB_DESC="embedded PostgreSQL in $TMP/data/postgres (fsync=on, synchronous_commit=on)"
fi
log "starting Trent: $JAR on $BASE, $DB_DESC"
# shellcheck disable=SC2086
java ${BENCH_JAVA_OPTS:-} -jar "$JAR" > "$OUT/trent.log" 2>&1 &
TRENT_PID=$!
STARTED=$(date +%s)
until curl -s -o /dev/null --max-time 2 "$BASE/api/v1/ca/chain"; do
    if ! kill -0 "$TRENT_PID" 2>/dev/null; then
        log "Trent exited during start; last lines of $OUT/trent.log:"; tail -30 "$OUT/trent.log" >&2; exit 1
    fi
    if (( $(date +%s) - STARTED > 180 )); then log "Trent did not answer within 180 s"; exit 1; fi
    sleep 0.5
done
log "Trent is up after $(( $(date +%s) - STARTED )) s (pid $TRENT_PID)"

# ---- tokens ----
TOTAL=$(( WARMUP + COUNT ))
RUN=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
TOKENS=$OUT/tokens.csv
: > "$TOKENS"
t0=$(date +%s.%N)
for (( from = 1; from <= TOTAL; from += BATCH )); do
    to=$(( from + BATCH - 1 )); (( to > TOTAL )) && to=$TOTAL
    { printf '{"profile":"device","deviceIds":['
      seq -f "\"bench-$RUN-%.0f\"" "$from" "$to" | paste -sd, -
      printf ']}'; } > "$TMP/batch.json"
    curl -sS --fail-with-body --max-time 120 -X POST "$BASE/api/v1/enrollment-tokens/batch" \
        -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' -H 'Accept: text/csv' \
        --data-binary @"$TMP/batch.json" | tr -d '\r' | grep -v '^device_id,' >> "$TOKENS"
done
t1=$(date +%s.%N)
GOT=$(wc -l < "$TOKENS")
log "created $GOT tokens in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s"
(( GOT >= TOTAL )) || { log "expected $TOTAL tokens"; exit 1; }

# ---- optional sampling of where the time goes ----
WATCH="trent=$TRENT_PID"
PGPID=
if [[ -f "$TMP/data/postgres/postmaster.pid" ]]; then
    PGPID=$(head -1 "$TMP/data/postgres/postmaster.pid")
    PGPORT=$(sed -n 4p "$TMP/data/postgres/postmaster.pid")
    WATCH="$WATCH,postgres=$PGPID"
    # The embedded server asks for its superuser's password (issue 12), kept beside its data.
    PGPASSWORD=$(cat "$TMP/data/postgres.password")
    export PGPASSWORD
fi
# Other processes to account for, e.g. a broker Trent talks to: BENCH_WATCH_EXTRA="mosquitto=PID".
[[ -n "${BENCH_WATCH_EXTRA:-}" ]] && WATCH="$WATCH,$BENCH_WATCH_EXTRA"

sample() {
    # Waits for the measured phase, lets it settle, then samples a few times while it runs.
    until [[ -f "$OUT/measured.start" ]]; do sleep 0.2; done
    sleep 3
    # A JDK Flight Recorder profile of Trent (execution samples, locks, I/O) for 15 s.
    jcmd "$TRENT_PID" JFR.start name=bench settings=profile duration=15s filename="$OUT/trent.jfr" \
        > "$OUT/jfr-start.txt" 2>&1
    for i in 1 2 3; do
        [[ -f "$OUT/measured.end" ]] && break
        top -H -b -n 2 -d 1 -p "$TRENT_PID" | awk '/^top -/{n++} n==2' | head -40 > "$OUT/top-H-$i.txt" 2>&1
        top -b -n 2 -d 1 | awk '/^top -/{n++} n==2' | head -30 > "$OUT/top-$i.txt" 2>&1
        jstack "$TRENT_PID" > "$OUT/jstack-$i.txt" 2>&1
        if [[ -n "$PGPID" ]] && command -v psql > /dev/null; then
            psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -At -F ' | ' > "$OUT/pg-waits-$i.txt" 2>&1 <<'SQL'
create temp table w (backend text, state text, wait text);
do $$ begin
  for i in 1..200 loop
    perform pg_stat_clear_snapshot();
    insert into w select backend_type, coalesce(state, '-'), coalesce(wait_event_type || ':' || wait_event, 'on CPU')
      from pg_stat_activity where pid <> pg_backend_pid();
    perform pg_sleep(0.01);
  end loop;
end $$;
select count(*), backend, state, wait from w group by 2, 3, 4 order by 1 desc;
SQL
        fi
        sleep 1
    done
}
if [[ "$PROFILE" == 1 ]]; then
    sample &
    SAMPLER_PID=$!
fi

# Commits and WAL flushes (fsyncs) during the measured phase: how well group commit works.
walstats() {
    local q="select (select sum(xact_commit) from pg_stat_database), wal_sync, wal_write from pg_stat_wal"
    until [[ -f "$OUT/measured.start" ]]; do sleep 0.1; done
    local a; a=$(psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -At -F ' ' -c "$q")
    until [[ -f "$OUT/measured.end" ]]; do sleep 0.1; done
    local b; b=$(psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -At -F ' ' -c "$q")
    read -r c0 s0 w0 <<< "$a"; read -r c1 s1 w1 <<< "$b"
    echo "[pg] measured phase: $(( c1 - c0 )) commits, $(( s1 - s0 )) WAL fsyncs, $(( w1 - w0 )) WAL writes" \
        "($(echo "scale=2; ($c1 - $c0) / ($s1 - $s0 + 0.0001)" | bc) commits per fsync)" > "$OUT/walstats.txt"
}
WAL_PID=
if [[ -n "$PGPID" ]] && command -v psql > /dev/null; then
    walstats &
    WAL_PID=$!
fi

# ---- load ----
log "load: $WARMUP warm-up + $COUNT measured enrollments, $CONCURRENCY clients"
timeout --signal=TERM $(( 2 * MAX_SECONDS + 60 )) \
    java -XX:+UseSerialGC bench/EnrollLoad.java --url "$BASE" --tokens "$TOKENS" --warmup "$WARMUP" \
        --count "$COUNT" --concurrency "$CONCURRENCY" --max-seconds "$MAX_SECONDS" --watch "$WATCH" \
        --mark "$OUT" | tee "$OUT/result.txt"

if [[ -n "$SAMPLER_PID" ]]; then wait "$SAMPLER_PID" || true; SAMPLER_PID=; fi
if [[ -n "$WAL_PID" ]]; then
    wait "$WAL_PID" || true
    [[ -f "$OUT/walstats.txt" ]] && tee -a "$OUT/result.txt" < "$OUT/walstats.txt"
fi
{
    echo "jar=$JAR db=$DB_DESC concurrency=$CONCURRENCY warmup=$WARMUP count=$COUNT"
    echo "nproc=$(nproc) java=$(java -version 2>&1 | head -1)"
} >> "$OUT/result.txt"
log "output in $OUT"
