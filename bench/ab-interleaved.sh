#!/usr/bin/env bash
# Two builds of Trent side by side, their enrollment load interleaved in short bursts: A and B
# run at the same time (each with its own embedded PostgreSQL and port), are warmed up alike,
# and then take turns, burst after burst, in the order AB, BA, AB, ... A benchmark, not a test:
# it prints figures and never fails on them. See bench/README.md ("Measuring small differences").
#
#   BENCH_JAR_A=old.jar BENCH_JAR_B=target/trent-0.1.0-SNAPSHOT.jar bench/ab-interleaved.sh
#
# Why: on this shared machine the speed of the whole machine drifts by 10-60% within minutes
# (no steal time shows), and ab-bench.sh's runs of several minutes each caught that drift as a
# difference between builds (the second run of every round was ~16% faster whichever build it
# was). Bursts of seconds, alternated and balanced in order, put both builds through the same
# drift. Each burst prints Trent's and its PostgreSQL's CPU per enrollment (from /proc), and the
# summary gives, for enrollments/s and for those CPU figures, the ratio B/A per pair of bursts:
# their median and their geometric mean (order-balanced: as many AB as BA pairs).
#
# Knobs: BENCH_BURSTS (20 pairs), BENCH_BURST (4000 enrollments per burst, after 500 that warm
# the load generator's connections), BENCH_WARMUP (20000 per build before the bursts, in
# interleaved chunks), BENCH_CONCURRENCY (16), BENCH_JAVA_OPTS_A / BENCH_JAVA_OPTS_B.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source bench/lib.sh
: "${BENCH_JAR_A:?the first build's jar}" "${BENCH_JAR_B:?the second build's jar}"
BURSTS=${BENCH_BURSTS:-20}
BURST=${BENCH_BURST:-4000}
LEAD=500
WARMUP=${BENCH_WARMUP:-20000}
CHUNK=5000
CONC=${BENCH_CONCURRENCY:-16}
OUT=${BENCH_OUT:-$ROOT/target/bench/ab-interleaved-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/trent-abi.XXXXXX")
ADMIN=trent_ak_bench_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
declare -A PID PORT PG JAROF OPTS
JAROF[A]=$BENCH_JAR_A JAROF[B]=$BENCH_JAR_B OPTS[A]=${BENCH_JAVA_OPTS_A:-} OPTS[B]=${BENCH_JAVA_OPTS_B:-}
PORT[A]=18180 PORT[B]=18181

log() { printf '[ab-interleaved %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

cleanup() {
    stop_trents
    # The embedded postmaster is detached from Trent; if Trent died hard it may still run.
    for s in A B; do
        [[ -f "$TMP/$s/data/postgres/postmaster.pid" ]] && kill -INT "$(head -1 "$TMP/$s/data/postgres/postmaster.pid")" 2>/dev/null
    done
    sleep 2
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

unset SPRING_DATASOURCE_URL SPRING_DATASOURCE_USERNAME SPRING_DATASOURCE_PASSWORD
export TRENT_BOOTSTRAP_ADMIN_TOKEN=$ADMIN TRENT_TLS_PORT=0
NEED=$(( WARMUP + BURSTS * (LEAD + BURST) ))
for s in A B; do
    mkdir -p "$TMP/$s"
    log "starting $s: ${JAROF[$s]} ${OPTS[$s]} on port ${PORT[$s]}"
    # shellcheck disable=SC2086
    start_trent "${JAROF[$s]}" "${PORT[$s]}" "$TMP/$s/data" "$OUT/trent-$s.log" ${OPTS[$s]}
    PID[$s]=${TRENT_PIDS[-1]}
    BENCH_START_SECONDS=240 wait_up "${PORT[$s]}" "$OUT/trent-$s.log"
    PG[$s]=$(head -1 "$TMP/$s/data/postgres/postmaster.pid")
    # Tokens: the warm-up's in chunks, then one file per burst.
    tokens_for "${PORT[$s]}" "$ADMIN" "$TMP/$s/tokens.csv" "$NEED" "abi-$s"
    (( $(wc -l < "$TMP/$s/tokens.csv") >= NEED )) || { log "expected $NEED tokens for $s"; exit 1; }
    split -l "$CHUNK" -d -a 3 <(head -n "$WARMUP" "$TMP/$s/tokens.csv") "$TMP/$s/warm-"
    tail -n +$(( WARMUP + 1 )) "$TMP/$s/tokens.csv" | split -l $(( LEAD + BURST )) -d -a 3 - "$TMP/$s/burst-"
done
log "both up (A pid ${PID[A]}, B pid ${PID[B]}), $NEED tokens each"

# The load generator, compiled once.
mkdir -p "$TMP/classes"
javac -d "$TMP/classes" bench/EnrollLoad.java
load() { # SIDE TOKENS WARMUP COUNT [--watch ...]
    local s=$1 tokens=$2 w=$3 n=$4; shift 4
    java -XX:+UseSerialGC -cp "$TMP/classes" EnrollLoad --url "http://127.0.0.1:${PORT[$s]}" --tokens "$tokens" \
        --warmup "$w" --count "$n" --concurrency "$CONC" --max-seconds 300 "$@"
}

i=0
for f in "$TMP"/A/warm-*; do
    n=$(basename "$f")
    for s in A B; do load "$s" "$TMP/$s/$n" 0 "$(wc -l < "$TMP/$s/$n")" > /dev/null; done
    i=$(( i + 1 ))
done
log "warmed up: $WARMUP enrollments each in $i interleaved chunks"

# One burst: "enrollments/s trent_ms_per_enrollment pg_ms_per_enrollment".
burst() {
    local s=$1 file=$2 out
    out=$(load "$s" "$file" "$LEAD" "$BURST" --watch "trent=${PID[$s]},postgres=${PG[$s]}")
    echo "$out" | sed "s|^|[$s] |" >> "$OUT/bursts.txt"
    echo "$out" | awk -v n="$BURST" '
        /^RESULT/ { for (i = 1; i <= NF; i++) if ($i ~ /^enroll_per_s=/) { sub("enroll_per_s=", "", $i); rate = $i } }
        /^\[cpu\]/ && / s CPU/ { for (i = 1; i <= NF; i++) if ($i == "s" && $(i + 1) == "CPU") cpu = $(i - 1)
            if ($2 == "trent") t = cpu; else if ($2 == "postgres") p = cpu }
        END { printf "%s %.4f %.4f\n", rate, 1000 * t / n, 1000 * p / n }'
}
: > "$OUT/pairs.txt"
for (( k = 0; k < BURSTS; k++ )); do
    f=$(printf 'burst-%03d' "$k")
    if (( k % 2 == 0 )); then a=$(burst A "$TMP/A/$f"); b=$(burst B "$TMP/B/$f"); order=AB
    else b=$(burst B "$TMP/B/$f"); a=$(burst A "$TMP/A/$f"); order=BA; fi
    read -r ar at ap <<< "$a"; read -r br bt bp <<< "$b"
    echo "$order $ar $at $ap $br $bt $bp" >> "$OUT/pairs.txt"
    printf 'pair %2d (%s): A %5s/s trent %s pg %s ms | B %5s/s trent %s pg %s ms\n' \
        $(( k + 1 )) "$order" "$ar" "$at" "$ap" "$br" "$bt" "$bp"
done

# Ratios B/A per pair; median and geometric mean (order-balanced when BURSTS is even).
awk '
    function median(v, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
        return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
    { n++; r[n] = $5 / $2; t[n] = $6 / $3; p[n] = $7 / $4; c[n] = ($6 + $7) / ($3 + $4)
      lr += log(r[n]); lt += log(t[n]); lp += log(p[n]); lc += log(c[n])
      if ($1 == "AB") { ab++; sab += log(r[n]) } else { ba++; sba += log(r[n]) } }
    END {
        printf "B/A over %d pairs (median, geometric mean):\n", n
        printf "  enrollments/s                    %.3f  %.3f\n", median(r, n), exp(lr / n)
        printf "  Trent CPU per enrollment         %.3f  %.3f\n", median(t, n), exp(lt / n)
        printf "  PostgreSQL CPU per enrollment    %.3f  %.3f\n", median(p, n), exp(lp / n)
        printf "  both, per enrollment             %.3f  %.3f\n", median(c, n), exp(lc / n)
        if (ab && ba) printf "  order effect (second burst of a pair faster by) %.3f\n", exp((sab / ab - sba / ba) / 2)
        printf "RESULT ab-interleaved pairs=%d rate_ratio=%.3f cpu_ratio=%.3f trent_cpu_ratio=%.3f pg_cpu_ratio=%.3f\n",
            n, exp(lr / n), exp(lc / n), exp(lt / n), exp(lp / n)
    }' "$OUT/pairs.txt" | tee "$OUT/summary.txt"
echo "a=$BENCH_JAR_A ${BENCH_JAVA_OPTS_A:-} b=$BENCH_JAR_B ${BENCH_JAVA_OPTS_B:-} bursts=$BURSTS burst=$BURST warmup=$WARMUP" \
    | tee -a "$OUT/summary.txt"
log "output in $OUT"
