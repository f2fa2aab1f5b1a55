#!/usr/bin/env bash
# Revoke-to-visible across two instances: instance A (embedded PostgreSQL) and instance B (A's
# database and A's CA keystore), both local. bench/RevokeToVisible.java revokes on A and times
# until B's OCSP answers 'revoked'. A benchmark, not a test. See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_REVOCATIONS:-100}
PA=${BENCH_PORT_A:-18092}
PB=${BENCH_PORT_B:-18093}
ADMIN=trent_ak_rtv-bench-admin-key-0123456789abcdefghijkl
source bench/lib.sh
JAR=$(trent_jar)
M2=${HOME}/.m2/repository/org/bouncycastle
CP=$M2/bcprov-jdk18on/1.86/bcprov-jdk18on-1.86.jar:$M2/bcpkix-jdk18on/1.86/bcpkix-jdk18on-1.86.jar:$M2/bcutil-jdk18on/1.86/bcutil-jdk18on-1.86.jar

TMP=$(mktemp -d "${TMPDIR:-/tmp}/trent-rtv-bench.XXXXXX")
trap 'stop_trents; rm -rf "$TMP"' EXIT

TRENT_BOOTSTRAP_ADMIN_TOKEN=$ADMIN start_trent "$JAR" "$PA" "$TMP/a" "$TMP/a.log"
wait_up "$PA" "$TMP/a.log"
PGPORT=$(sed -n 4p "$TMP/a/postgres/postmaster.pid")
TRENT_BOOTSTRAP_ADMIN_TOKEN=$ADMIN \
    SPRING_DATASOURCE_URL="jdbc:postgresql://localhost:$PGPORT/postgres" SPRING_DATASOURCE_USERNAME=postgres \
    SPRING_DATASOURCE_PASSWORD="$(cat "$TMP/a/postgres.password")" \
    TRENT_CA_KEYSTORE_PATH="$TMP/a/ca/intermediate.p12" TRENT_CA_KEYSTORE_PASSWORD_FILE="$TMP/a/ca/intermediate.p12.pass" \
    start_trent "$JAR" "$PB" "$TMP/b" "$TMP/b.log"
wait_up "$PB" "$TMP/b.log"
echo "[rtv-bench] A on $PA, B on $PB (same database and CA); $N revocations"
java -cp "$CP" bench/RevokeToVisible.java "http://127.0.0.1:$PA" "http://127.0.0.1:$PB" "$ADMIN" "$N"
