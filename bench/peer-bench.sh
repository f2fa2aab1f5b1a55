#!/usr/bin/env bash
# Trent against a peer, cfssl (Debian's golang-cfssl) signing into a PostgreSQL certdb, on the
# same machine, alternately, with the same load: a fresh P-256 key (CSR) per request, 16
# closed-loop clients, durable commits. A benchmark, not a test: it prints figures and never fails
# on them. See bench/README.md.
#
# One PostgreSQL (Debian's, /usr/lib/postgresql/*/bin, run as user postgres in a temporary
# directory, fsync and synchronous_commit on) serves both: a fresh database per run. Per round,
# in alternating order:
#   trent: start once to create the CA and the tokens (batch API), stop, start again (a cold JVM,
#          as after a deploy with the fleet's tokens already made), then, as soon as it answers, the
#          load (BENCH_DRIVER): cold phase (the first BENCH_COLD_SECONDS), warm-up, steady phase;
#   cfssl: `cfssl serve` with a P-256 CA (cfssl gencert -initca) and a db-config for the same
#          PostgreSQL, then the same load at /api/v1/cfssl/sign (no authentication: cfssl's
#          cheapest path).
# Prints per round and as medians: certificates/s and p99 for the cold and steady phases, the CPU
# per certificate in the steady phase of each server, its PostgreSQL and the load generator, and the
# ratios Trent/cfssl (issue 13's targets: steady >= 1.5, cold >= 1.0, Trent's steady p99 < 50 ms).
#
# Knobs: BENCH_ROUNDS (3), BENCH_COLD_SECONDS (30), BENCH_WARMUP (20000) and BENCH_COUNT (10000) with
# BENCH_DRIVER=java,
# BENCH_CONCURRENCY (16), BENCH_OUT (target/bench/peer-<time>),
# BENCH_TRENT_VARIANTS (default "image"): how Trent is run, each measured every round:
#   image      java -jar with the Spring Boot jar, on the default java (JDK 17), with the container
#              image's JVM options (-XX:MaxRAMPercentage=75, JDK_JAVA_OPTIONS="-XX:+UseParallelGC
#              -XX:InlineSmallCode=1000 -XX:FreqInlineSize=150");
#   jar        java -jar with the JVM's own defaults (G1 on this machine: 2 CPUs, 2 GB or more);
#   base       the same with another build's jar, BENCH_BASE_JAR (a change's before and after, same run);
#   extracted  the jar extracted (java -Djarmode=tools ... extract) and run on BENCH_JAVA25;
#   aot        the same with an AOT cache (JDK 25, JEP 483/514/515: classes loaded and linked, method
#              profiles) made by a training run of BENCH_AOT_TRAIN (5000) enrollments beforehand;
#   image25    the jar extracted, on BENCH_JAVA25, with the image's JVM options;
#   image-aot  the same with an AOT cache made as the image makes it (`java -XX:AOTCacheOutput=...
#              -jar trent.jar train --enrollments BENCH_AOT_TRAIN`, the image's options); aot and
#              image-aot cannot run in the same run (one cache);
#   base-aot   image-aot for another build's jar, BENCH_BASE_JAR, with its own cache (a change's
#              before and after, as the image runs them; BENCH_BASE_AOT_TRAIN_OPTS, when set, instead
#              of BENCH_AOT_TRAIN_OPTS for its training);
#   aot-opts   image-aot with BENCH_TRENT_OPTS added (JVM options, space-separated); aot-opts2,
#              aot-opts3... the same with BENCH_TRENT_OPTS2, BENCH_TRENT_OPTS3... (several in one run);
#              BENCH_AOT_TRAIN_OPTS: the JVM options of their training run besides the image's
#              (default as the Dockerfile: -XX:+UnlockDiagnosticVMOptions -XX:-AOTRecordTraining, a
#              cache of classes only; set it empty to cache the methods' profiles too);
#   c1         the jar on the default java with -XX:TieredStopAtLevel=1 (C1 only: compiled code at
#              once and no C2 compilations competing with requests for the cores, at a lower peak);
#   opts       the jar on the default java with BENCH_TRENT_OPTS (JVM options, space-separated);
# BENCH_JAVA25 (the first /usr/lib/jvm/*25*/bin/java).
# BENCH_DRIVER (default wrk): what sends the load.
#   wrk   wrk (Debian's, in C: ~0.05 ms of CPU per request here) with bench/peer-load.lua, 2 threads,
#         BENCH_CONCURRENCY connections, one line per request from files made beforehand (so every
#         request still has a fresh key and token). Its phases are timed, not counted: cold
#         BENCH_COLD_SECONDS, warm-up BENCH_WARMUP_SECONDS (20), steady BENCH_STEADY_SECONDS (20);
#         BENCH_MAX_RATE (2000/s) sizes the keys and tokens made for them (a thread that runs out
#         stops and the run counts as failed). The request files are written before the server
#         starts, so the cold phase begins as soon as it answers. wrk's p50/p99 are its own: it
#         adds samples for requests slower than twice the mean (a correction meant for fixed-rate
#         load), so compare them with each other, not with PeerLoad's raw percentiles. Its output
#         is kept in BENCH_OUT/wrk-*.txt. BENCH_CONCURRENCY must be even (two threads).
#   java  bench/PeerLoad.java's JDK HTTP client (~0.5 ms of CPU per request here: on this 2-core
#         machine it takes a quarter of the cores from the servers it measures); phases counted
#         (BENCH_WARMUP, BENCH_COUNT requests).
# CPU per certificate counts each process with its descendants and the children it has waited
# for (a PostgreSQL server's ended backends: cfssl's certdb opens a connection every few requests).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${BENCH_ROUNDS:-3}
VARIANTS=${BENCH_TRENT_VARIANTS:-image}
JAVA25=${BENCH_JAVA25:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1 || true)}
AOT_TRAIN=${BENCH_AOT_TRAIN:-5000}
COLD=${BENCH_COLD_SECONDS:-30}
WARMUP=${BENCH_WARMUP:-20000}
COUNT=${BENCH_COUNT:-10000}
CONC=${BENCH_CONCURRENCY:-16}
DRIVER=${BENCH_DRIVER:-wrk}
WARM_S=${BENCH_WARMUP_SECONDS:-20}
STEADY_S=${BENCH_STEADY_SECONDS:-20}
MAX_RATE=${BENCH_MAX_RATE:-2000}
case $DRIVER in
    wrk) command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
         (( CONC >= 2 && CONC % 2 == 0 )) || { echo "BENCH_CONCURRENCY: an even number (wrk's two threads)" >&2; exit 2; } ;;
    java) ;;
    *) echo "BENCH_DRIVER: wrk or java" >&2; exit 2 ;;
esac
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
command -v cfssl >/dev/null && command -v cfssljson >/dev/null \
    || { echo "cfssl is missing: apt-get install golang-cfssl" >&2; exit 2; }
[[ -x "$PGBIN/initdb" ]] || { echo "PostgreSQL is missing: apt-get install postgresql" >&2; exit 2; }

source bench/lib.sh
JAR=$(trent_jar)
OUT=${BENCH_OUT:-target/bench/peer-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/trent-peer.XXXXXX")
chmod 755 "$TMP"
CFSSL_PID=
as_pg() { if [[ $(id -u) -eq 0 ]]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
cleanup() {
    set +e
    stop_trents
    [[ -n "$CFSSL_PID" ]] && kill "$CFSSL_PID" 2>/dev/null
    as_pg "$PGBIN/pg_ctl -D $TMP/pg -m fast stop" >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT
log() { echo "[peer-bench] $*" | tee -a "$OUT/result.txt" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- PostgreSQL for both ----
PGPORT=$(free_port)
mkdir -p "$TMP/pg" && [[ $(id -u) -eq 0 ]] && chown postgres "$TMP/pg"
as_pg "$PGBIN/initdb -D $TMP/pg -A trust -U postgres" > "$OUT/initdb.log"
as_pg "$PGBIN/pg_ctl -D $TMP/pg -l $TMP/pg/server.log -o \"-p $PGPORT -k $TMP/pg -c listen_addresses=127.0.0.1 \
    -c max_connections=200 -c fsync=on -c synchronous_commit=on\" -w start" > /dev/null
PSQL="psql -q -h 127.0.0.1 -p $PGPORT -U postgres"
pg_pid() { head -1 "$TMP/pg/postmaster.pid"; }
log "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on port $PGPORT (fsync=on, synchronous_commit=on)"

# ---- the same CSRs for every run: a fresh key per request ----
if [[ $DRIVER == wrk ]]; then
    NEEDED=$(( MAX_RATE * (COLD + WARM_S + STEADY_S) ))
else
    NEEDED=$(( COLD * 1500 + WARMUP + COUNT ))
fi
(( NEEDED < AOT_TRAIN )) && NEEDED=$AOT_TRAIN
t0=$(date +%s)
java bench/PeerLoad.java --make-csrs "$NEEDED" --out "$TMP/csrs.txt" --threads "$(nproc)"
log "made $NEEDED P-256 CSRs in $(( $(date +%s) - t0 )) s"

# ---- cfssl's CA and configuration ----
(cd "$TMP" && echo '{"CN":"cfssl peer CA","key":{"algo":"ecdsa","size":256}}' | cfssl gencert -initca - 2>/dev/null \
    | cfssljson -bare ca)
cat > "$TMP/cfssl-config.json" <<'J'
{"signing":{"default":{"expiry":"8760h","usages":["digital signature","client auth"]},
 "profiles":{"device":{"expiry":"8760h","usages":["digital signature","client auth"]}}}}
J
cat > "$TMP/cfssl-schema.sql" <<'SQL'
create table certificates (serial_number bytea not null, authority_key_identifier bytea not null, ca_label bytea,
    status bytea not null, reason int, expiry timestamptz, revoked_at timestamptz, pem bytea not null,
    primary key (serial_number, authority_key_identifier));
create table ocsp_responses (serial_number bytea not null, authority_key_identifier bytea not null,
    body bytea not null, expiry timestamptz, primary key (serial_number, authority_key_identifier),
    foreign key (serial_number, authority_key_identifier) references certificates (serial_number, authority_key_identifier));
SQL

# ---- the load ----
# ticks PID: CPU (clock ticks) of PID, its live descendants, and the children it has waited for.
descendants() { local c; for c in $(pgrep -P "$1" || true); do echo "$c"; descendants "$c"; done; }
ticks() {
    local t=0 q
    for q in "$1" $(descendants "$1"); do
        t=$(( t + $(proc_ticks "$q") ))
    done
    [[ -r /proc/$1/stat ]] && t=$(( t + $(sed 's/^.*) //' "/proc/$1/stat" | awk '{print $14 + $15}') ))
    echo "$t"
}
# jit_ticks PID: CPU (clock ticks) so far of a JVM's JIT compiler threads (0 for other processes).
jit_ticks() {
    local t=0 task
    for task in /proc/"$1"/task/*; do
        case $(cat "$task/comm" 2>/dev/null) in
            "C1 CompilerThre"*|"C2 CompilerThre"*) t=$(( t + $(sed 's/^.*) //' "$task/stat" | awk '{print $12 + $13}') )) ;;
        esac
    done
    echo "$t"
}
# thread_ticks PID: "group ticks" per live thread of PID, the thread's name without its number
# (the JIT's compiler threads, the collector's, the request threads...).
thread_ticks() {
    local task
    for task in /proc/"$1"/task/*; do
        [[ -r $task/stat ]] || continue
        printf '%s\t%s\n' "$(sed -E 's/[0-9]+$//; s/-[0-9]+-/-/g' "$task/comm" 2>/dev/null)" \
            "$(sed 's/^.*) //' "$task/stat" | awk '{print $12 + $13}')"
    done
}
# thread_cpu BEFORE AFTER SECONDS PROCESS_TICKS: the CPU of each thread group between two
# thread_ticks, in cores; what the process used besides went to threads that ended meanwhile (the
# JIT starts and stops compiler threads as its queues grow and shrink).
thread_cpu() {
    python3 - "$1" "$2" "$3" "$4" <<'PY'
import collections, sys
def load(path):
    g = collections.Counter()
    for line in open(path):
        name, _, t = line.rstrip("\n").rpartition("\t")
        g[name or "?"] += int(t)
    return g
before, after, secs = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
d = {k: after[k] - before.get(k, 0) for k in after}
total = sum(d.values())
top = sorted(d.items(), key=lambda kv: -kv[1])
shown = [f"{k} {v / 100 / secs:.2f}" for k, v in top[:6] if v > 0]
rest = sum(v for _, v in top[6:])
ended = int(sys.argv[4]) - total
print(f"cores used {int(sys.argv[4]) / 100 / secs:.2f}: " + ", ".join(shown) + (f", other {rest / 100 / secs:.2f}" if rest else "")
      + (f", threads that ended {ended / 100 / secs:.2f}" if ended > 0 else ""))
PY
}
# wrk_lines DIR TOKENS: each phase's requests, per wrk thread, in DIR/{cold,warm-up,steady}-{0,1}.txt
# (TOKENS: Trent's token CSV, or empty for cfssl); the keys and tokens in the order they were made.
wrk_lines() {
    python3 - "$TMP/csrs.txt" "$2" "$1" "$(( MAX_RATE * COLD ))" "$(( MAX_RATE * WARM_S ))" "$(( MAX_RATE * STEADY_S ))" <<'PY'
import json, os, sys, textwrap
csrs = [l.strip() for l in open(sys.argv[1]) if l.strip()]
tokens = [l.split(",")[1] for l in open(sys.argv[2]) if l.strip() and not l.startswith("device_id,")] if sys.argv[2] else None
out = sys.argv[3]
os.makedirs(out, exist_ok=True)
at = 0
for phase, n in zip(("cold", "warm-up", "steady"), map(int, sys.argv[4:7])):
    files = [open(f"{out}/{phase}-{t}.txt", "w") for t in range(2)]
    for k in range(n):
        pem = ("-----BEGIN CERTIFICATE REQUEST-----\n" + "\n".join(textwrap.wrap(csrs[at + k], 64))
               + "\n-----END CERTIFICATE REQUEST-----\n")
        if tokens is None:
            line = "-\t" + json.dumps({"certificate_request": pem, "profile": "device"})
        else:
            line = tokens[at + k] + "\t" + pem.replace("\n", "|")
        files[k % 2].write(line + "\n")
    at += n
    for f in files:
        f.close()
PY
}
# wrk_drive TARGET URL SERVER_PID DIR: the three phases with wrk (requests from wrk_lines DIR),
# printed as PeerLoad prints them.
wrk_drive() {
    local target=$1 url=$2 server=$3 dir=$4 phase secs s0 p0 j0 out line client kv
    echo "wrk: $target at $url, 2 threads, $CONC connections, fresh key per request"
    for phase in cold warm-up steady; do
        case $phase in cold) secs=$COLD ;; warm-up) secs=$WARM_S ;; steady) secs=$STEADY_S ;; esac
        (( secs > 0 )) || continue
        s0=$(ticks "$server"); p0=$(ticks "$(pg_pid)"); j0=$(jit_ticks "$server")
        thread_ticks "$server" > "$TMP/threads-0"
        out=$( (wrk -t2 -c"$CONC" -d"${secs}s" --timeout 30s -s bench/peer-load.lua "$url" -- "$dir/$phase" "$target"; times) 2>&1 )
        echo "$out" > "$OUT/wrk-${dir##*/}-$phase.txt"
        line=$(grep '^WRK ' <<< "$out") || { echo "wrk failed: $out" >&2; return 1; }
        local -A r=()
        for kv in ${line#WRK }; do r[${kv%%=*}]=${kv#*=}; done
        (( r[exhausted] == 0 )) || echo "[$target] $phase: ran out of fresh keys or tokens (raise BENCH_MAX_RATE)" >&2
        echo "[$target] $phase ${r[ok]} certificates in ${secs} s: ${r[per_s]}/s; p50 ${r[p50_ms]}  p99 ${r[p99_ms]} ms; errors ${r[errors]}"
        if [[ $phase == cold ]]; then
            thread_ticks "$server" > "$TMP/threads-1"
            echo "[$target] cold, answers per second: $(grep '^WRK_SECONDS ' <<< "$out" | cut -d' ' -f2-)"
            echo "[$target] cold, the server's threads: $(thread_cpu "$TMP/threads-0" "$TMP/threads-1" "$secs" $(( $(ticks "$server") - s0 ))); its PostgreSQL $(awk -v p=$(( $(ticks "$(pg_pid)") - p0 )) -v s="$secs" 'BEGIN {printf "%.2f", p / 100 / s}') cores"
        fi
        echo "RESULT target=$target phase=$phase per_s=${r[per_s]} p50_ms=${r[p50_ms]} p99_ms=${r[p99_ms]} ok=${r[ok]} errors=$(( r[errors] + r[exhausted] ))"
        if [[ $phase == steady ]] && (( r[ok] > 0 )); then
            # `times`' last line: wrk's user and system time.
            client=$(tail -1 <<< "$out" | awk '{split($1, a, "m"); split($2, b, "m"); print (a[1] * 60 + a[2] + b[1] * 60 + b[2]) * 100}')
            echo "RESULT target=$target phase=steady-cpu $(awk -v ok="${r[ok]}" -v s=$(( $(ticks "$server") - s0 )) \
                -v p=$(( $(ticks "$(pg_pid)") - p0 )) -v j=$(( $(jit_ticks "$server") - j0 )) -v c="$client" \
                'BEGIN {printf "server_ms=%.3f server_jit_ms=%.3f postgres_ms=%.3f client_ms=%.3f", 10*s/ok, 10*j/ok, 10*p/ok, 10*c/ok}')"
        fi
    done
}

ADMIN=trent_ak_peer-bench-admin-key-0123456789abcdefghijkl
# The container image's JVM options (Dockerfile: ENTRYPOINT and JDK_JAVA_OPTIONS).
IMAGE_JDK_OPTS=(-XX:+UseParallelGC -XX:InlineSmallCode=1000 -XX:FreqInlineSize=150)   # JDK_JAVA_OPTIONS
IMAGE_OPTS=(-XX:MaxRAMPercentage=75 "${IMAGE_JDK_OPTS[@]}")
# trent_variant NAME: sets TRENT_JAVA, VARIANT_JAR and VARIANT_OPTS for start_trent.
trent_variant() {
    case $1 in
        image) TRENT_JAVA=java; VARIANT_JAR=$JAR; VARIANT_OPTS=("${IMAGE_OPTS[@]}") ;;
        image25) TRENT_JAVA=$JAVA25; VARIANT_JAR=$XJAR; VARIANT_OPTS=("${IMAGE_OPTS[@]}") ;;
        image-aot) TRENT_JAVA=$JAVA25; VARIANT_JAR=$XJAR; VARIANT_OPTS=("${IMAGE_OPTS[@]}" "-XX:AOTCache=$TMP/x/trent.aot") ;;
        base-aot) TRENT_JAVA=$JAVA25; VARIANT_JAR=$XJAR_BASE; VARIANT_OPTS=("${IMAGE_OPTS[@]}" "-XX:AOTCache=$TMP/xb/trent.aot") ;;
        aot-opts*) TRENT_JAVA=$JAVA25; VARIANT_JAR=$XJAR; VARIANT_OPTS=("${IMAGE_OPTS[@]}" "-XX:AOTCache=$TMP/x/trent.aot")
            local var=BENCH_TRENT_OPTS${1#aot-opts}
            [[ -n "${!var:-}" ]] || { echo "the $1 variant needs $var" >&2; exit 2; }
            read -r -a more <<< "${!var}"; VARIANT_OPTS+=("${more[@]}") ;;
        jar) TRENT_JAVA=java; VARIANT_JAR=$JAR; VARIANT_OPTS=() ;;
        base) TRENT_JAVA=java; VARIANT_JAR=${BENCH_BASE_JAR:?the base variant needs BENCH_BASE_JAR}; VARIANT_OPTS=() ;;
        extracted) TRENT_JAVA=$JAVA25; VARIANT_JAR=$XJAR; VARIANT_OPTS=() ;;
        aot) TRENT_JAVA=$JAVA25; VARIANT_JAR=$XJAR; VARIANT_OPTS=("-XX:AOTCache=$TMP/x/trent.aot") ;;
        c1) TRENT_JAVA=java; VARIANT_JAR=$JAR; VARIANT_OPTS=(-XX:TieredStopAtLevel=1) ;;
        opts) TRENT_JAVA=java; VARIANT_JAR=$JAR; read -r -a VARIANT_OPTS <<< "${BENCH_TRENT_OPTS:?the opts variant needs BENCH_TRENT_OPTS}" ;;
        *) echo "unknown Trent variant $1 (image, image25, image-aot, base-aot, aot-opts, jar, base, extracted, aot, c1, opts)" >&2; exit 2 ;;
    esac
}

run_trent() {
    local round=$1 variant=$2 db=trent_r$1_${2//-/_} port
    trent_variant "$variant"
    port=$(free_port)
    $PSQL -c "create database $db"
    export SPRING_DATASOURCE_URL="jdbc:postgresql://127.0.0.1:$PGPORT/$db" SPRING_DATASOURCE_USERNAME=postgres \
        SPRING_DATASOURCE_PASSWORD= TRENT_BOOTSTRAP_ADMIN_TOKEN=$ADMIN TRENT_TLS_PORT=0
    start_trent "$VARIANT_JAR" "$port" "$TMP/trent-$round-$variant" "$OUT/trent-$round-$variant-setup.log" \
        ${VARIANT_OPTS[@]+"${VARIANT_OPTS[@]}"}
    wait_up "$port" "$OUT/trent-$round-$variant-setup.log"
    local tokens=$TMP/tokens-$round-$variant.csv
    tokens_for "$port" "$ADMIN" "$tokens" "$NEEDED" "peer-$round-$variant"
    stop_trents
    TRENT_PIDS=()
    local load=$TMP/load-trent-$round-$variant
    [[ $DRIVER == wrk ]] && wrk_lines "$load" "$tokens"
    local started
    started=$(date +%s.%N)
    start_trent "$VARIANT_JAR" "$port" "$TMP/trent-$round-$variant" "$OUT/trent-$round-$variant.log" \
        ${VARIANT_OPTS[@]+"${VARIANT_OPTS[@]}"}
    wait_up "$port" "$OUT/trent-$round-$variant.log"
    log "trent ($variant) round $round: up $(printf '%.1f' "$(echo "$(date +%s.%N) - $started" | bc)") s after the start (cold JVM, $(wc -l < "$tokens") tokens waiting)"
    if [[ $DRIVER == wrk ]]; then
        wrk_drive trent "http://127.0.0.1:$port" "${TRENT_PIDS[-1]}" "$load"
    else
        java bench/PeerLoad.java --target trent --url "http://127.0.0.1:$port" --csrs "$TMP/csrs.txt" --tokens "$tokens" \
            --cold-seconds "$COLD" --warmup "$WARMUP" --count "$COUNT" --concurrency "$CONC" \
            --cpu-pids "server=${TRENT_PIDS[-1]},postgres=$(pg_pid)"
    fi | sed -u "s/target=trent /target=trent:$variant /" | tee -a "$OUT/result.txt"
    stop_trents
    TRENT_PIDS=()
    unset SPRING_DATASOURCE_URL SPRING_DATASOURCE_USERNAME SPRING_DATASOURCE_PASSWORD TRENT_BOOTSTRAP_ADMIN_TOKEN TRENT_TLS_PORT
}

run_cfssl() {
    local round=$1 db=cfssl_r$1 port
    port=$(free_port)
    $PSQL -c "create database $db"
    $PSQL -d "$db" -f "$TMP/cfssl-schema.sql"
    echo "{\"driver\":\"postgres\",\"data_source\":\"postgres://postgres@127.0.0.1:$PGPORT/$db?sslmode=disable\"}" \
        > "$TMP/cfssl-db-$round.json"
    local load=$TMP/load-cfssl-$round
    [[ $DRIVER == wrk ]] && wrk_lines "$load" ""
    local started
    started=$(date +%s.%N)
    cfssl serve -address 127.0.0.1 -port "$port" -ca "$TMP/ca.pem" -ca-key "$TMP/ca-key.pem" \
        -config "$TMP/cfssl-config.json" -db-config "$TMP/cfssl-db-$round.json" > "$OUT/cfssl-$round.log" 2>&1 &
    CFSSL_PID=$!
    for _ in $(seq 1 100); do
        curl -sf -d '{}' "http://127.0.0.1:$port/api/v1/cfssl/info" -o /dev/null && break
        sleep 0.1
    done
    log "cfssl round $round: up $(printf '%.1f' "$(echo "$(date +%s.%N) - $started" | bc)") s after the start"
    if [[ $DRIVER == wrk ]]; then
        wrk_drive cfssl "http://127.0.0.1:$port" "$CFSSL_PID" "$load"
    else
        java bench/PeerLoad.java --target cfssl --url "http://127.0.0.1:$port" --csrs "$TMP/csrs.txt" \
            --cold-seconds "$COLD" --warmup "$WARMUP" --count "$COUNT" --concurrency "$CONC" \
            --cpu-pids "server=$CFSSL_PID,postgres=$(pg_pid)"
    fi | tee -a "$OUT/result.txt"
    local stored
    stored=$($PSQL -At -d "$db" -c "select count(*) from certificates")
    log "cfssl round $round: $stored certificates in its certdb"
    kill "$CFSSL_PID"; wait "$CFSSL_PID" 2>/dev/null || true
    CFSSL_PID=
}

# ---- the variants' layout and AOT cache ----
[[ " $VARIANTS " == *" aot "* && " $VARIANTS " =~ " "(image-aot|aot-opts[0-9]*)" " ]] \
    && { echo "aot and image-aot each make the one AOT cache: run them separately" >&2; exit 2; }
XJAR=
if [[ " $VARIANTS " =~ " "(extracted|aot|image25|image-aot|aot-opts[0-9]*)" " ]]; then
    [[ -x "$JAVA25" ]] || { echo "the extracted and aot variants need a JDK 25 (BENCH_JAVA25)" >&2; exit 2; }
    "$JAVA25" -Djarmode=tools -jar "$JAR" extract --destination "$TMP/x" > /dev/null
    XJAR=$TMP/x/$(basename "$JAR")
fi
# image_cache DIR JAR LOG [OPTIONS]: the AOT cache DIR/trent.aot of the extracted JAR, made as the
# image makes it: `train` (a throwaway instance of its own, BENCH_AOT_TRAIN enrollments) with the
# image's JDK_JAVA_OPTIONS and the Dockerfile's training options or OPTIONS; the JVM writes the
# cache at exit.
image_cache() {
    local t0 train_opts
    t0=$(date +%s)
    read -r -a train_opts <<< "${4-"-XX:+UnlockDiagnosticVMOptions -XX:-AOTRecordTraining"}"
    "$JAVA25" -Xmx1g "${IMAGE_JDK_OPTS[@]}" ${train_opts[@]+"${train_opts[@]}"} "-XX:AOTCacheOutput=$1/trent.aot" -jar "$2" train \
        --enrollments "$AOT_TRAIN" > "$3" 2>&1 || { echo "the training run failed: $3" >&2; exit 1; }
    log "AOT cache of $(basename "$2"): $(du -m "$1/trent.aot" | cut -f1) MB after $AOT_TRAIN training enrollments ($(( $(date +%s) - t0 )) s, java -jar trent.jar train)"
}
XJAR_BASE=
if [[ " $VARIANTS " == *" base-aot "* ]]; then
    # base-aot: BENCH_BASE_JAR as image-aot runs JAR, with a cache of its own.
    [[ -x "$JAVA25" ]] || { echo "the base-aot variant needs a JDK 25 (BENCH_JAVA25)" >&2; exit 2; }
    "$JAVA25" -Djarmode=tools -jar "${BENCH_BASE_JAR:?the base-aot variant needs BENCH_BASE_JAR}" extract \
        --destination "$TMP/xb" > /dev/null
    XJAR_BASE=$TMP/xb/$(basename "$BENCH_BASE_JAR")
    image_cache "$TMP/xb" "$XJAR_BASE" "$OUT/trent-base-aot-training.log" \
        ${BENCH_BASE_AOT_TRAIN_OPTS+"$BENCH_BASE_AOT_TRAIN_OPTS"}
fi
if [[ " $VARIANTS " == *" image-aot "* || " $VARIANTS " =~ " aot-opts"[0-9]*" " ]]; then
    image_cache "$TMP/x" "$XJAR" "$OUT/trent-aot-training.log" ${BENCH_AOT_TRAIN_OPTS+"$BENCH_AOT_TRAIN_OPTS"}
elif [[ " $VARIANTS " == *" aot "* ]]; then
    # A training run on a database of its own: start, AOT_TRAIN enrollments, stop; the JVM writes
    # the cache at exit. Only the cache is kept.
    $PSQL -c "create database trent_train"
    t0=$(date +%s)
    SPRING_DATASOURCE_URL="jdbc:postgresql://127.0.0.1:$PGPORT/trent_train" SPRING_DATASOURCE_USERNAME=postgres \
        SPRING_DATASOURCE_PASSWORD= TRENT_BOOTSTRAP_ADMIN_TOKEN=$ADMIN TRENT_TLS_PORT=0 TRENT_JAVA=$JAVA25 \
        start_trent "$XJAR" 18499 "$TMP/trent-train" "$OUT/trent-aot-training.log" "-XX:AOTCacheOutput=$TMP/x/trent.aot"
    wait_up 18499 "$OUT/trent-aot-training.log"
    tokens_for 18499 "$ADMIN" "$TMP/tokens-train.csv" "$AOT_TRAIN" train
    java bench/PeerLoad.java --target trent --url http://127.0.0.1:18499 --csrs "$TMP/csrs.txt" \
        --tokens "$TMP/tokens-train.csv" --cold-seconds 1 --warmup $(( AOT_TRAIN - 1500 )) --count 100 \
        --concurrency "$CONC" > "$OUT/trent-aot-training-load.txt"
    stop_trents
    TRENT_PIDS=()
    [[ -s "$TMP/x/trent.aot" ]] || { echo "no AOT cache was written: $OUT/trent-aot-training.log" >&2; exit 1; }
    log "AOT cache: $(du -m "$TMP/x/trent.aot" | cut -f1) MB after $AOT_TRAIN training enrollments ($(( $(date +%s) - t0 )) s)"
fi

for (( r = 1; r <= ROUNDS; r++ )); do
    if (( r % 2 == 1 )); then
        for v in $VARIANTS; do run_trent "$r" "$v"; done
        run_cfssl "$r"
    else
        run_cfssl "$r"
        for v in $VARIANTS; do run_trent "$r" "$v"; done
    fi
done

# ---- summary ----
python3 - "$OUT/result.txt" "$ROUNDS" <<'PY' | tee -a "$OUT/result.txt"
import re, statistics, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("RESULT ")]
rows = [dict(kv.split("=") for kv in l.split()[1:]) for l in lines]
def runs(target, phase):
    return [r for r in rows if r["target"] == target and r["phase"] == phase]
variants = sorted({r["target"] for r in rows if r["target"].startswith("trent")}, key=lambda v: v != "trent:jar")
for v in variants:
    print(f"\n{v}\nround  phase    trent/s  cfssl/s  ratio   trent p99 ms  cfssl p99 ms")
    ratios = {"cold": [], "steady": []}
    for phase in ("cold", "steady"):
        t, c = runs(v, phase), runs("cfssl", phase)
        for i, (a, b) in enumerate(zip(t, c), 1):
            ratio = float(a["per_s"]) / float(b["per_s"])
            ratios[phase].append(ratio)
            print(f"{i:5d}  {phase:7s} {float(a['per_s']):8.1f} {float(b['per_s']):8.1f} {ratio:6.2f} {float(a['p99_ms']):13.1f} {float(b['p99_ms']):13.1f}")
    for phase in ("cold", "steady"):
        if ratios[phase]:
            t = statistics.median(float(r["per_s"]) for r in runs(v, phase))
            c = statistics.median(float(r["per_s"]) for r in runs("cfssl", phase))
            p99 = statistics.median(float(r["p99_ms"]) for r in runs(v, phase))
            print(f"median {phase}: {v} {t:.1f}/s, cfssl {c:.1f}/s, ratio (median of per-round ratios) "
                  f"{statistics.median(ratios[phase]):.2f}; trent p99 {p99:.1f} ms")
for target in variants + ["cfssl"]:
    cpu = runs(target, "steady-cpu")
    if cpu:
        med = {k: statistics.median(float(r.get(k, 0)) for r in cpu)
               for k in ("server_ms", "server_jit_ms", "postgres_ms", "client_ms")}
        jit = f" (of which JIT compiler threads {med['server_jit_ms']:.3f})" if med["server_jit_ms"] else ""
        print(f"steady CPU per certificate, median: {target}: server {med['server_ms']:.3f} ms{jit}, its PostgreSQL "
              f"{med['postgres_ms']:.3f} ms (together {med['server_ms'] + med['postgres_ms']:.3f}), "
              f"load generator {med['client_ms']:.3f} ms")
PY
