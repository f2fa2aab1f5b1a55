#!/usr/bin/env bash
# Enrollment throughput of two builds, alternately in the same session: the same-run ratio
# B/A that issue 13 asks for ("must not drop against the build before"). A benchmark, not a
# test: it prints figures and never fails on them. See bench/README.md.
#
#   BENCH_JAR_A=old.jar BENCH_JAR_B=target/trent-0.1.0-SNAPSHOT.jar bench/ab-bench.sh
#
# Knobs: BENCH_ROUNDS (3; the order alternates per round), and enroll-bench.sh's own
# (BENCH_WARMUP, BENCH_COUNT, BENCH_CONCURRENCY, BENCH_DATASOURCE_URL ...). Keep BENCH_WARMUP
# within what both builds finish inside BENCH_MAX_SECONDS (300 s), or the slower one is warmed less.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCH_JAR_A:?the first build's jar}" "${BENCH_JAR_B:?the second build's jar}"
ROUNDS=${BENCH_ROUNDS:-3}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
run() { # JAR -> enrollments/s (and the RESULT line on stderr)
    local out
    out=$(BENCH_JAR=$1 bench/enroll-bench.sh 2>/dev/null)
    echo "$out" | grep -E '^RESULT|^\[cpu\]' | sed "s|^|[$(basename "$1")] |" >&2
    echo "$out" | awk '/^RESULT/ { for (i = 1; i <= NF; i++) if ($i ~ /^enroll_per_s=/) { sub("enroll_per_s=", "", $i); print $i } }'
}
A=() B=() R=()
for (( r = 1; r <= ROUNDS; r++ )); do
    if (( r % 2 )); then a=$(run "$BENCH_JAR_A"); b=$(run "$BENCH_JAR_B"); else b=$(run "$BENCH_JAR_B"); a=$(run "$BENCH_JAR_A"); fi
    [[ -n "$a" && -n "$b" ]] || { echo "round $r: a run failed (A '$a', B '$b'); see target/bench/" >&2; exit 1; }
    ratio=$(echo "scale=3; $b / $a" | bc)
    echo "round $r: A $a/s, B $b/s, B/A $ratio"
    A+=("$a") B+=("$b") R+=("$ratio")
done
echo "RESULT ab a_median=$(printf '%s\n' "${A[@]}" | median) b_median=$(printf '%s\n' "${B[@]}" | median)" \
    "ratio_median=$(printf '%s\n' "${R[@]}" | median) rounds=$ROUNDS a=$BENCH_JAR_A b=$BENCH_JAR_B"
