#!/usr/bin/env bash
# Mosquitto broker sync: revoke to disconnect, and what the sync costs enrollment. A benchmark,
# not a test: it prints figures and never fails on them. See bench/README.md.
#
# 1. Starts Trent with the sync on (trent.mosquitto.*) before the broker exists, issues the
#    broker's certificate through Trent (profile server, DNS localhost), creates the dynsec file
#    with mosquitto_ctrl, starts Debian's mosquitto (mutual-TLS listener with
#    use_identity_as_username, a loopback listener for Trent) and the device role; then
#    bench/MosquittoRevoke.java enrolls, connects (Paho), waits for access and revokes
#    BENCH_REVOCATIONS devices one after the other, timing revoke-call-returned -> MQTT
#    connection closed.
# 2. Enrollment throughput with and without the sync in the same run: bench/enroll-bench.sh
#    alternately without and with TRENT_MOSQUITTO_* pointing at the same broker, BENCH_ROUNDS
#    times, and the ratio (target >= 0.95).
#
#    With BENCH_QUEUED=1 (default) each round also runs with the sync on and the broker
#    unreachable: the cost of the outbox rows alone, without the broker's and the relay's CPU.
# Knobs: BENCH_REVOCATIONS (50), BENCH_ROUNDS (2), BENCH_WARMUP (20000) and BENCH_COUNT (10000)
# per enroll-bench run, BENCH_PORT (18095) for Trent in part 1, BENCH_BROKER_NICE (0) for the broker.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${BENCH_REVOCATIONS:-50}
ROUNDS=${BENCH_ROUNDS:-2}
export BENCH_WARMUP=${BENCH_WARMUP:-20000}
export BENCH_COUNT=${BENCH_COUNT:-10000}
export BENCH_PORT=${BENCH_PORT:-18095}
PORT=$BENCH_PORT
# Trent's HTTPS listener on any free port (8443 may be taken on a shared machine).
export TRENT_TLS_PORT=0
PLUGIN=$(ls /usr/lib/*/mosquitto_dynamic_security.so /usr/lib/mosquitto_dynamic_security.so 2>/dev/null | head -1 || true)
[[ -x /usr/sbin/mosquitto && -n "$PLUGIN" ]] && command -v mosquitto_ctrl >/dev/null \
    || { echo "mosquitto with its dynamic-security plugin is missing: apt-get install mosquitto" >&2; exit 2; }

source bench/lib.sh
JAR=$(trent_jar)
export BENCH_JAR=$JAR
M2=${HOME}/.m2/repository
CP=$M2/org/eclipse/paho/org.eclipse.paho.client.mqttv3/1.2.5/org.eclipse.paho.client.mqttv3-1.2.5.jar
for a in bcprov bcpkix bcutil; do CP=$CP:$M2/org/bouncycastle/$a-jdk18on/1.86/$a-jdk18on-1.86.jar; done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/trent-mqtt-bench.XXXXXX")
MOSQ_PID=
cleanup() {
    set +e
    stop_trents
    if [[ -n "$MOSQ_PID" ]] && kill -0 "$MOSQ_PID" 2>/dev/null; then kill "$MOSQ_PID"; wait "$MOSQ_PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MQTT=$(free_port)
CTRL=$(free_port)
ADMIN=trent_ak_mqtt-bench-admin-key-0123456789abcdefghij
PW=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$PW" > "$TMP/admin.pw"
export MQ_ENV="TRENT_MOSQUITTO_URL=tcp://127.0.0.1:$CTRL TRENT_MOSQUITTO_USERNAME=trent-admin TRENT_MOSQUITTO_PASSWORDFILE=$TMP/admin.pw TRENT_MOSQUITTO_DEVICEROLE=device"

# ---- part 1: Trent first, then the broker with a certificate from Trent ----
# shellcheck disable=SC2046
export $(echo "$MQ_ENV")
TRENT_BOOTSTRAP_ADMIN_TOKEN=$ADMIN start_trent "$JAR" "$PORT" "$TMP/trent" "$TMP/trent.log"
unset TRENT_MOSQUITTO_URL TRENT_MOSQUITTO_USERNAME TRENT_MOSQUITTO_PASSWORDFILE TRENT_MOSQUITTO_DEVICEROLE
wait_up "$PORT" "$TMP/trent.log"
BASE=http://127.0.0.1:$PORT
TOKEN=$(curl -sS --fail-with-body -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    -d '{"deviceId":"bench-broker","profile":"server","dnsNames":["localhost"]}' "$BASE/api/v1/enrollment-tokens" \
    | sed 's/.*"token":"\([^"]*\)".*/\1/')
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/server.key" -subj /CN=broker \
    -out "$TMP/server.csr" 2>/dev/null
curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/x-pem-file' \
    --data-binary @"$TMP/server.csr" "$BASE/api/v1/enroll" > "$TMP/server.pem"
curl -sS --fail-with-body "$BASE/api/v1/ca/chain" > "$TMP/ca.pem"
cat > "$TMP/mosquitto.conf" <<CONF
user $(id -un)
per_listener_settings false
allow_anonymous false
persistence false
log_type error
log_type warning
plugin $PLUGIN
plugin_opt_config_file $TMP/dynsec.json
listener $MQTT 127.0.0.1
cafile $TMP/ca.pem
certfile $TMP/server.pem
keyfile $TMP/server.key
require_certificate true
use_identity_as_username true
listener $CTRL 127.0.0.1
CONF
ctl() { mosquitto_ctrl -h 127.0.0.1 -p "$CTRL" -u trent-admin -P "$PW" dynsec "$@" 2>/dev/null; }
# A broker with an empty dynsec file (the admin client and the device role only): before part 1
# and before every run with the sync, so that no run inherits another run's clients.
fresh_broker() {
    if [[ -n "$MOSQ_PID" ]] && kill -0 "$MOSQ_PID" 2>/dev/null; then kill "$MOSQ_PID"; wait "$MOSQ_PID" 2>/dev/null || true; fi
    rm -f "$TMP/dynsec.json"
    mosquitto_ctrl dynsec init "$TMP/dynsec.json" trent-admin "$PW" >/dev/null
    # BENCH_BROKER_NICE (e.g. 19): the broker yields the cores to Trent, a stand-in on this
    # 2-core machine for a broker on another host, so that mostly Trent's own share is measured.
    nice -n "${BENCH_BROKER_NICE:-0}" /usr/sbin/mosquitto -c "$TMP/mosquitto.conf" >> "$TMP/mosquitto.log" 2>&1 &
    MOSQ_PID=$!
    for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$CTRL") 2>/dev/null && break; sleep 0.1; done
    ctl createRole device
    ctl addRoleACL device publishClientSend 'devices/#' allow
    ctl addRoleACL device subscribePattern 'devices/#' allow
}
fresh_broker
echo "[mqtt-bench] Trent on $PORT, mosquitto $(/usr/sbin/mosquitto -h 2>/dev/null | head -1 | awk '{print $3}') mutual TLS on $MQTT, control on $CTRL; $N revocations"
java -cp "$CP" bench/MosquittoRevoke.java "$BASE" "$ADMIN" "$MQTT" "$N"
stop_trents || true   # (under set -e a kill of an instance already gone would end the script)
TRENT_PIDS=()

# ---- part 2: enrollment throughput without and with the sync, same broker ----
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
run() { # off|on|queued -> enrollments/s
    local out
    # The broker's CPU is counted too (enroll-bench's [cpu] lines): in these runs it shares the cores.
    export BENCH_WATCH_EXTRA="mosquitto=$MOSQ_PID"
    if [[ $1 == queued ]]; then
        # The sync on, the broker unreachable: the outbox rows are written, nothing is sent.
        # shellcheck disable=SC2046
        out=$(env $(echo "$MQ_ENV" | sed "s|tcp://127.0.0.1:$CTRL|tcp://127.0.0.1:$(free_port)|") bench/enroll-bench.sh 2>/dev/null)
    elif [[ $1 == on ]]; then
        # shellcheck disable=SC2046
        out=$(env $(echo "$MQ_ENV") bench/enroll-bench.sh 2>/dev/null)
    else
        out=$(bench/enroll-bench.sh 2>/dev/null)
    fi
    echo "$out" | grep -E '^RESULT|^\[cpu\]|mosquitto-relay|MQTT (Call|Rec|Snd)' | sed "s/^/[sync $1] /" >&2
    echo "$out" | awk '/^RESULT/ { for (i = 1; i <= NF; i++) if ($i ~ /^enroll_per_s=/) { sub("enroll_per_s=", "", $i); print $i } }'
}
OFF=() ON=() RATIOS=() QUEUED=() QRATIOS=()
for (( r = 1; r <= ROUNDS; r++ )); do
    # (fresh_broker outside the command substitutions: the broker must outlive them)
    if (( r % 2 )); then off=$(run off); fresh_broker; on=$(run on); else fresh_broker; on=$(run on); off=$(run off); fi
    ratio=$(echo "scale=3; $on / $off" | bc)
    # How far the relay got before enroll-bench stopped Trent (the broker's clients minus the admin).
    synced=$(( $(ctl listClients | grep -vc '^trent-admin$') ))
    echo "round $r: enrollments without the sync $off/s, with it $on/s, ratio $ratio;" \
        "broker clients when Trent stopped: $synced of $(( BENCH_WARMUP + BENCH_COUNT ))"
    OFF+=("$off") ON+=("$on") RATIOS+=("$ratio")
    if [[ ${BENCH_QUEUED:-1} == 1 ]]; then
        queued=$(run queued)
        qratio=$(echo "scale=3; $queued / $off" | bc)
        echo "round $r: with the sync on and the broker unreachable (outbox rows only) $queued/s, ratio $qratio"
        QUEUED+=("$queued") QRATIOS+=("$qratio")
    fi
done
if (( ROUNDS > 0 )); then
    echo "RESULT enroll without_median=$(printf '%s\n' "${OFF[@]}" | median) with_median=$(printf '%s\n' "${ON[@]}" | median)" \
        "ratio_median=$(printf '%s\n' "${RATIOS[@]}" | median) rounds=$ROUNDS warmup=$BENCH_WARMUP count=$BENCH_COUNT"
fi
if (( ${#QRATIOS[@]} > 0 )); then
    echo "RESULT enroll outbox_only_median=$(printf '%s\n' "${QUEUED[@]}" | median)" \
        "ratio_median=$(printf '%s\n' "${QRATIOS[@]}" | median)"
fi
