#!/usr/bin/env bash
# Enrollment throughput of two builds, alternately in the same session: the same-run ratio
# B/A that issue 13 asks for ("must not drop against the build before"). A benchmark, not a
# test: it prints figures and never fails on them. See bench/README.md.
#
#   BENCH_JAR_A=old.jar BENCH_JAR_B=target/trent-0.1.0-SNAPSHOT.jar bench/ab-bench.sh
#   BENCH_JAR_A=x.jar BENCH_JAR_B=x.jar BENCH_JAVA_OPTS_B=-XX:+UseParallelGC bench/ab-bench.sh   # JVM options
#
# Besides enrollments/s it prints, per run, the CPU per enrollment of Trent and of its PostgreSQL
# in units of the load generator's CPU per enrollment. The load generator's work per request is
# the same whichever build answers, so it measures how fast the shared machine was during that
# run; on this machine it varied by up to 60% between runs minutes apart, with no steal time, which
# the throughput ratio takes for the builds' difference. (No hardware counters here: perf stat
# reports instructions and cycles as not supported.)
#
# Knobs: BENCH_ROUNDS (3; the order alternates per round), and enroll-bench.sh's own
# (BENCH_WARMUP, BENCH_COUNT, BENCH_CONCURRENCY, BENCH_DATASOURCE_URL ...). Keep BENCH_WARMUP
# within what both builds finish inside BENCH_MAX_SECONDS (300 s), or the slower one is warmed less.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCH_JAR_A:?the first build's jar}" "${BENCH_JAR_B:?the second build's jar}"
ROUNDS=${BENCH_ROUNDS:-3}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
run() { # JAR JAVA_OPTS -> "enrollments/s trent_cpu_s pg_cpu_s loadgen_cpu_s" (RESULT and CPU lines on stderr)
    local out
    out=$(BENCH_JAR=$1 BENCH_JAVA_OPTS=$2 bench/enroll-bench.sh 2>/dev/null)
    echo "$out" | grep -E '^RESULT|^\[cpu\]' | sed "s|^|[$(basename "$1")${2:+ $2}] |" >&2
    echo "$out" | awk '
        /^RESULT/ { for (i = 1; i <= NF; i++) if ($i ~ /^enroll_per_s=/) { sub("enroll_per_s=", "", $i); rate = $i } }
        /^\[cpu\]/ && / s CPU/ { for (i = 1; i <= NF; i++) if ($i == "s" && $(i + 1) == "CPU") cpu = $(i - 1)
            if ($2 == "trent") trent = cpu; else if ($2 == "postgres" || $2 == "pg") pg = cpu
            else if ($2 == "load" && $3 == "generator") lg = cpu }
        END { if (rate != "") print rate, trent + 0, pg + 0, lg + 0 }'
}
A=() B=() R=() U=()
for (( r = 1; r <= ROUNDS; r++ )); do
    if (( r % 2 )); then a=$(run "$BENCH_JAR_A" "${BENCH_JAVA_OPTS_A:-}"); b=$(run "$BENCH_JAR_B" "${BENCH_JAVA_OPTS_B:-}")
    else b=$(run "$BENCH_JAR_B" "${BENCH_JAVA_OPTS_B:-}"); a=$(run "$BENCH_JAR_A" "${BENCH_JAVA_OPTS_A:-}"); fi
    [[ -n "$a" && -n "$b" ]] || { echo "round $r: a run failed (A '$a', B '$b'); see target/bench/" >&2; exit 1; }
    read -r ar at ap al <<< "$a"; read -r br bt bp bl <<< "$b"
    ratio=$(echo "scale=3; $br / $ar" | bc)
    # (Trent + its PostgreSQL) CPU per enrollment in load-generator units; B over A (< 1: B cheaper).
    units=$(echo "scale=3; (($bt + $bp) / $bl) / (($at + $ap) / $al)" | bc)
    echo "round $r: A $ar/s, B $br/s, B/A $ratio; CPU per enrollment in load-generator units:" \
        "A trent $(echo "scale=2; $at / $al" | bc) pg $(echo "scale=2; $ap / $al" | bc)," \
        "B trent $(echo "scale=2; $bt / $bl" | bc) pg $(echo "scale=2; $bp / $bl" | bc), B/A $units"
    A+=("$ar") B+=("$br") R+=("$ratio") U+=("$units")
done
echo "RESULT ab a_median=$(printf '%s\n' "${A[@]}" | median) b_median=$(printf '%s\n' "${B[@]}" | median)" \
    "ratio_median=$(printf '%s\n' "${R[@]}" | median) cpu_units_ratio_median=$(printf '%s\n' "${U[@]}" | median)" \
    "rounds=$ROUNDS a=$BENCH_JAR_A${BENCH_JAVA_OPTS_A:+ ($BENCH_JAVA_OPTS_A)} b=$BENCH_JAR_B${BENCH_JAVA_OPTS_B:+ ($BENCH_JAVA_OPTS_B)}"
