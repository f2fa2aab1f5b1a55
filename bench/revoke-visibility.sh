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
JAR=${BENCH_JAR:-$(ls target/trent-*.jar 2>/dev/null | head -1 || true)}
if [[ -z "$JAR" ]]; then
    ./mvnw -q -B package -DskipTests
    JAR=$(ls target/trent-*.jar | head -1)
fi
M2=${HOME}/.m2/repository/org/bouncycastle
CP=$M2/bcprov-jdk18on/1.86/bcprov-jdk18on-1.86.jar:$M2/bcpkix-jdk18on/1.86/bcpkix-jdk18on-1.86.jar:$M2/bcutil-jdk18on/1.86/bcutil-jdk18on-1.86.jar

TMP=$(mktemp -d "${TMPDIR:-/tmp}/trent-rtv-bench.XXXXXX")
PIDS=()
cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 1 60); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
wait_up() {
    for _ in $(seq 1 120); do
        curl -sf "http://127.0.0.1:$1/api/v1/ca/chain" -o /dev/null && return 0
        sleep 0.5
    done
    echo "instance on port $1 did not start" >&2; exit 1
}

TRENT_DATA_DIR="$TMP/a" TRENT_BOOTSTRAP_ADMIN_TOKEN=$ADMIN SERVER_PORT=$PA \
    java -jar "$JAR" --server.address=127.0.0.1 > "$TMP/a.log" 2>&1 &
PIDS+=($!)
wait_up "$PA"
PGPORT=$(sed -n 4p "$TMP/a/postgres/postmaster.pid")
TRENT_DATA_DIR="$TMP/b" TRENT_BOOTSTRAP_ADMIN_TOKEN=$ADMIN SERVER_PORT=$PB \
    SPRING_DATASOURCE_URL="jdbc:postgresql://localhost:$PGPORT/postgres" SPRING_DATASOURCE_USERNAME=postgres \
    SPRING_DATASOURCE_PASSWORD="$(cat "$TMP/a/postgres.password")" \
    TRENT_CA_KEYSTORE_PATH="$TMP/a/ca/intermediate.p12" TRENT_CA_KEYSTORE_PASSWORD_FILE="$TMP/a/ca/intermediate.p12.pass" \
    java -jar "$JAR" --server.address=127.0.0.1 > "$TMP/b.log" 2>&1 &
PIDS+=($!)
wait_up "$PB"
echo "[rtv-bench] A on $PA, B on $PB (same database and CA); $N revocations"
java -cp "$CP" bench/RevokeToVisible.java "http://127.0.0.1:$PA" "http://127.0.0.1:$PB" "$ADMIN" "$N"
