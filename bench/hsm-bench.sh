#!/usr/bin/env bash
# Issuance through a PKCS#11 token (SoftHSM2) versus a PKCS#12 keystore, in one run, as a ratio.
# A benchmark, not a test: it prints figures and never fails on them. See bench/README.md.
#
# Creates a SoftHSM2 token in a temporary directory and an intermediate in it with Trent's own
# ceremony (ca init with the token), then runs bench/enroll-bench.sh alternately against the
# embedded keystore CA and against the token, BENCH_ROUNDS times (alternating the order), and
# prints each round's enrollments/s and the HSM/keystore ratio, then the medians.
#
# Knobs: BENCH_ROUNDS (3), BENCH_WARMUP (30000) and BENCH_COUNT (10000) per run (passed on to
# enroll-bench.sh with its other knobs), BENCH_SOFTHSM_LIBRARY (/usr/lib/softhsm/libsofthsm2.so).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${BENCH_ROUNDS:-3}
export BENCH_WARMUP=${BENCH_WARMUP:-30000}
export BENCH_COUNT=${BENCH_COUNT:-10000}
LIB=${BENCH_SOFTHSM_LIBRARY:-/usr/lib/softhsm/libsofthsm2.so}
command -v softhsm2-util >/dev/null && [[ -r "$LIB" ]] || { echo "SoftHSM2 is missing: apt-get install softhsm2" >&2; exit 2; }

source bench/lib.sh
JAR=$(trent_jar)
export BENCH_JAR=$JAR
TMP=$(mktemp -d "${TMPDIR:-/tmp}/trent-hsm-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

export SOFTHSM2_CONF=$TMP/softhsm2.conf
mkdir -p "$TMP/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$TMP/tokens" > "$SOFTHSM2_CONF"
PIN=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
softhsm2-util --init-token --free --label trent-bench --pin "$PIN" --so-pin "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')" >/dev/null
printf '%s\n' "$PIN" > "$TMP/pin"
java -jar "$JAR" ca init --out "$TMP/ca" --pkcs11-library "$LIB" --token-label trent-bench --pin-file "$TMP/pin" >/dev/null

run() { # backend -> enrollments/s
    local backend=$1 out
    if [[ $backend == pkcs11 ]]; then
        out=$(TRENT_CA_SIGNER=pkcs11 TRENT_CA_PKCS11_LIBRARY=$LIB TRENT_CA_PKCS11_TOKEN_LABEL=trent-bench \
            TRENT_CA_PKCS11_PIN_FILE=$TMP/pin bench/enroll-bench.sh 2>/dev/null)
    else
        out=$(bench/enroll-bench.sh 2>/dev/null)
    fi
    echo "$out" | grep '^RESULT' | sed "s/^/[$backend] /" >&2
    echo "$out" | awk '/^RESULT/ { for (i = 1; i <= NF; i++) if ($i ~ /^enroll_per_s=/) { sub("enroll_per_s=", "", $i); print $i } }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

KS=() HSM=() RATIOS=()
for (( r = 1; r <= ROUNDS; r++ )); do
    if (( r % 2 )); then k=$(run keystore); h=$(run pkcs11); else h=$(run pkcs11); k=$(run keystore); fi
    ratio=$(echo "scale=3; $h / $k" | bc)
    echo "round $r: keystore $k/s, SoftHSM2 $h/s, ratio $ratio"
    KS+=("$k") HSM+=("$h") RATIOS+=("$ratio")
done
echo "RESULT keystore_median=$(printf '%s\n' "${KS[@]}" | median) softhsm_median=$(printf '%s\n' "${HSM[@]}" | median)" \
    "ratio_median=$(printf '%s\n' "${RATIOS[@]}" | median) rounds=$ROUNDS warmup=$BENCH_WARMUP count=$BENCH_COUNT"
