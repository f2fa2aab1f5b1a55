#!/usr/bin/env bash
# OCSP responder throughput of two builds, alternately in the same session: the same-run ratios
# B/A that issue 13 asks for ("OCSP figures must not drop against the build before"), for both
# of ocsp-bench.sh's cases (pre-signed GET, live-signed POST with a nonce). A benchmark, not a
# test: it prints figures and never fails on them. See bench/README.md.
#
#   BENCH_JAR_A=old.jar BENCH_JAR_B=target/trent-0.1.0-SNAPSHOT.jar bench/ocsp-ab-bench.sh
#
# Knobs: BENCH_ROUNDS (3; the order alternates per round), and ocsp-bench.sh's own
# (BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_THREADS, BENCH_PORT); BENCH_JAVA_OPTS_A and
# BENCH_JAVA_OPTS_B give each build JVM options of its own (the same jar twice compares options).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCH_JAR_A:?the first build's jar}" "${BENCH_JAR_B:?the second build's jar}"
ROUNDS=${BENCH_ROUNDS:-3}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
field() { awk -v c="$1" -v k="$2=" '$2 == c { for (i = 3; i <= NF; i++) if (index($i, k) == 1) print substr($i, length(k) + 1) }'; }
run() { # JAR OPTS -> "cached nonce cached-cpu" (responses/s, Trent's CPU us per response) on one line
    local out
    out=$(BENCH_JAR=$1 BENCH_JAVA_OPTS=$2 bench/ocsp-bench.sh 2>/dev/null)
    echo "$out" | grep -E '^RESULT' | sed "s|^|[$(basename "$1")] |" >&2
    echo "$(echo "$out" | field cached responses_per_s)" "$(echo "$out" | field nonce responses_per_s)" \
        "$(echo "$out" | field cached trent_cpu_us)"
}
declare -a AC BC RC AN BN RN UC
for (( r = 1; r <= ROUNDS; r++ )); do
    if (( r % 2 )); then a=$(run "$BENCH_JAR_A" "${BENCH_JAVA_OPTS_A:-}"); b=$(run "$BENCH_JAR_B" "${BENCH_JAVA_OPTS_B:-}")
    else b=$(run "$BENCH_JAR_B" "${BENCH_JAVA_OPTS_B:-}"); a=$(run "$BENCH_JAR_A" "${BENCH_JAVA_OPTS_A:-}"); fi
    read -r ac an au <<< "$a"; read -r bc bn bu <<< "$b"
    [[ -n "$ac" && -n "$an" && -n "$bc" && -n "$bn" && -n "$au" && -n "$bu" ]] \
        || { echo "round $r: a run failed (A '$a', B '$b')" >&2; exit 1; }
    rc=$(echo "scale=3; $bc / $ac" | bc); rn=$(echo "scale=3; $bn / $an" | bc); uc=$(echo "scale=3; $bu / $au" | bc)
    echo "round $r: pre-signed A $ac/s B $bc/s B/A $rc (Trent's CPU per response A $au us B $bu us B/A $uc);" \
        "live-signed A $an/s B $bn/s B/A $rn"
    AC+=("$ac") BC+=("$bc") RC+=("$rc") AN+=("$an") BN+=("$bn") RN+=("$rn") UC+=("$uc")
done
echo "RESULT ocsp-ab case=pre-signed a_median=$(printf '%s\n' "${AC[@]}" | median)" \
    "b_median=$(printf '%s\n' "${BC[@]}" | median) ratio_median=$(printf '%s\n' "${RC[@]}" | median)" \
    "cpu_per_response_ratio_median=$(printf '%s\n' "${UC[@]}" | median)"
echo "RESULT ocsp-ab case=live-signed a_median=$(printf '%s\n' "${AN[@]}" | median)" \
    "b_median=$(printf '%s\n' "${BN[@]}" | median) ratio_median=$(printf '%s\n' "${RN[@]}" | median)" \
    "rounds=$ROUNDS a=$BENCH_JAR_A b=$BENCH_JAR_B a_opts='${BENCH_JAVA_OPTS_A:-}' b_opts='${BENCH_JAVA_OPTS_B:-}'"
