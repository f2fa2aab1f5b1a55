#!/usr/bin/env bash
# CRL generation with 1,000,000 revoked entries, the JVM heap capped at 256 MB. A benchmark, not
# a test: it prints figures and never fails on them. See bench/README.md.
#
# Starts Trent (embedded PostgreSQL) with -Xmx256m, inserts BENCH_ENTRIES (1,000,000) revoked
# certificate rows straight into PostgreSQL with psql, then makes Trent publish a new CRL
# BENCH_ROUNDS (3) times and prints each generation time from Trent's log, and the median.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${BENCH_PORT:-18091}
ENTRIES=${BENCH_ENTRIES:-1000000}
ROUNDS=${BENCH_ROUNDS:-3}
ADMIN=trent_ak_crl-bench-admin-key-0123456789abcdefghijk
command -v psql >/dev/null || { echo "psql is missing: apt-get install postgresql-client" >&2; exit 2; }
source bench/lib.sh
JAR=$(trent_jar)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/trent-crl-bench.XXXXXX")
trap 'stop_trents; rm -rf "$TMP"' EXIT

echo "[crl-bench] starting Trent ($JAR) with -Xmx256m"
TRENT_BOOTSTRAP_ADMIN_TOKEN=$ADMIN start_trent "$JAR" "$PORT" "$TMP/data" "$TMP/trent.log" -Xmx256m
wait_up "$PORT" "$TMP/trent.log"

export PGHOST=127.0.0.1 PGUSER=postgres PGDATABASE=postgres
export PGPORT=$(sed -n 4p "$TMP/data/postgres/postmaster.pid")
export PGPASSWORD=$(cat "$TMP/data/postgres.password")
ISSUER=$(psql -Atc "select id from issuer")
echo "[crl-bench] inserting $ENTRIES revoked certificates for issuer $ISSUER"
start=$(date +%s.%N)
psql -q -v ON_ERROR_STOP=1 <<SQL
insert into certificate (issuer_id, serial, device_id, profile, subject_dn, dns_names, not_before, not_after,
    key_type, public_key_sha256, status, der, created_at, revoked_at, revocation_reason, invalidity_date)
select '$ISSUER', 'b' || substr(md5(i::text), 1, 31), 'bench-' || i, 'device', 'CN=bench-' || i, '{}',
    now() - interval '1 day', now() + interval '365 days', 'EC_P256', md5(i::text) || md5(i::text), 'REVOKED',
    '\x00'::bytea, now(), now() - (i % 1000) * interval '1 minute',
    (array['keyCompromise', 'unspecified', 'superseded', 'cessationOfOperation'])[1 + i % 4],
    case when i % 10 = 0 then now() - interval '2 days' end
from generate_series(1, $ENTRIES) as i;
SQL
echo "[crl-bench] inserted in $(echo "$(date +%s.%N) - $start" | bc) s"

times=()
for round in $(seq 1 "$ROUNDS"); do
    before=$(grep -c "Published CRL" "$TMP/trent.log" || true)
    psql -qc "update issuer set revocation_version = revocation_version + 1 where id = '$ISSUER'"
    for _ in $(seq 1 240); do
        now=$(grep -c "Published CRL" "$TMP/trent.log" || true)
        [[ "$now" -gt "$before" ]] && break
        sleep 0.5
    done
    line=$(grep "Published CRL" "$TMP/trent.log" | tail -1)
    echo "[crl-bench] round $round: ${line##*: }"
    times+=("$(echo "$line" | sed -E 's/.* ([0-9]+) ms$/\1/')")
done
curl -sf "http://127.0.0.1:$PORT/crl/$ISSUER.crl" -o "$TMP/crl.der"
openssl crl -inform DER -in "$TMP/crl.der" -noout -lastupdate -nextupdate -crlnumber | sed 's/^/[crl-bench] /'
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "RESULT crl_entries=$ENTRIES der_bytes=$(stat -c %s "$TMP/crl.der") median_generation_ms=$median heap=256m rounds=$ROUNDS"
grep -E "OutOfMemory|CRL generation .* failed" "$TMP/trent.log" | head -3 || true
