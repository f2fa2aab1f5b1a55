#!/usr/bin/env bash
# Issuance and live-signed OCSP through a PKCS#11 token (SoftHSM2) versus a PKCS#12 keystore, in
# one run, as ratios.
# A benchmark, not a test: it prints figures and never fails on them. See bench/README.md.
#
# Creates a SoftHSM2 token in a temporary directory and an intermediate in it with Trent's own
# ceremony (ca init with the token), then runs bench/enroll-bench.sh alternately against the
# embedded keystore CA and against the token, BENCH_ROUNDS times (alternating the order), and
# prints each round's enrollments/s and the HSM/keystore ratio, then the medians. With
# BENCH_OCSP=1 (default) each round also runs bench/ocsp-bench.sh's live-signed case (POST with a
# nonce, BENCH_OCSP_SECONDS=10 per phase) on both: OCSP responses are signed by the delegated
# software responder key whatever holds the CA key, so that ratio shows the HSM stays out of it.
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

backend_env() { # backend -> the environment that selects it
    if [[ $1 == pkcs11 ]]; then
        echo "TRENT_CA_SIGNER=pkcs11 TRENT_CA_PKCS11_LIBRARY=$LIB TRENT_CA_PKCS11_TOKEN_LABEL=trent-bench TRENT_CA_PKCS11_PIN_FILE=$TMP/pin"
    fi
}

run() { # backend -> enrollments/s
    local backend=$1 out
    # shellcheck disable=SC2046 # the environment assignments are words on purpose
    out=$(env $(backend_env "$backend") bench/enroll-bench.sh 2>/dev/null)
    echo "$out" | grep '^RESULT' | sed "s/^/[$backend] /" >&2
    echo "$out" | awk '/^RESULT/ { for (i = 1; i <= NF; i++) if ($i ~ /^enroll_per_s=/) { sub("enroll_per_s=", "", $i); print $i } }'
}

ocsp() { # backend -> live-signed OCSP responses/s
    local backend=$1 out
    # shellcheck disable=SC2046
    out=$(env $(backend_env "$backend") BENCH_CASES=nonce BENCH_SECONDS=${BENCH_OCSP_SECONDS:-10} \
        bench/ocsp-bench.sh 2>/dev/null)
    echo "$out" | grep '^RESULT' | sed "s/^/[$backend] /" >&2
    echo "$out" | awk '/^RESULT/ { for (i = 1; i <= NF; i++) if ($i ~ /^responses_per_s=/) { sub("responses_per_s=", "", $i); print $i } }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

KS=() HSM=() RATIOS=() OKS=() OHSM=() ORATIOS=()
for (( r = 1; r <= ROUNDS; r++ )); do
    if (( r % 2 )); then k=$(run keystore); h=$(run pkcs11); else h=$(run pkcs11); k=$(run keystore); fi
    ratio=$(echo "scale=3; $h / $k" | bc)
    echo "round $r: enrollments keystore $k/s, SoftHSM2 $h/s, ratio $ratio"
    KS+=("$k") HSM+=("$h") RATIOS+=("$ratio")
    if [[ ${BENCH_OCSP:-1} == 1 ]] && command -v wrk >/dev/null; then
        if (( r % 2 )); then ok=$(ocsp keystore); oh=$(ocsp pkcs11); else oh=$(ocsp pkcs11); ok=$(ocsp keystore); fi
        oratio=$(echo "scale=3; $oh / $ok" | bc)
        echo "round $r: live OCSP keystore $ok/s, SoftHSM2 $oh/s, ratio $oratio"
        OKS+=("$ok") OHSM+=("$oh") ORATIOS+=("$oratio")
    fi
done
echo "RESULT enroll keystore_median=$(printf '%s\n' "${KS[@]}" | median) softhsm_median=$(printf '%s\n' "${HSM[@]}" | median)" \
    "ratio_median=$(printf '%s\n' "${RATIOS[@]}" | median) rounds=$ROUNDS warmup=$BENCH_WARMUP count=$BENCH_COUNT"
if (( ${#ORATIOS[@]} > 0 )); then
    echo "RESULT ocsp-live keystore_median=$(printf '%s\n' "${OKS[@]}" | median)" \
        "softhsm_median=$(printf '%s\n' "${OHSM[@]}" | median) ratio_median=$(printf '%s\n' "${ORATIOS[@]}" | median)"
fi
