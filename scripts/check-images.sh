#!/usr/bin/env bash
# Builds every runtime image of docker/docker-bake.hcl with podman and checks each container: it is the variant
# its name says (reviews v2 black stars, v3 red, the ratings fault modes failing or delaying, details v2 external,
# productpage v-flooding flooding…), curl works inside it as Istio's docs use it, /health answers, it runs as a
# non-root user on a read-only root file system, SIGTERM ends it within 2 s with status 0, and it is under 40 MB.
# No registry is reachable here, so (as docker/Dockerfile allows) the executables and curl come from the host
# and the runtime base is made from the host's own glibc and libstdc++ (Debian 12, as distroless/cc-debian12).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

CHECK_SCOPE=images passed=0 failed=0

ensure_packages podman buildah runc netavark aardvark-dns iptables curl ca-certificates \
    || { say "images: podman is not available here"; say "images: 0 passed, 1 failed"; exit 1; }
# KEEP_PODMAN=DIR keeps the podman store (and its images) in DIR after the run, to look at or reuse.
WORK=${KEEP_PODMAN:-$(mktemp -d)}
mkdir -p "$WORK"
export CONTAINERS_CONF=$WORK/containers.conf CONTAINERS_STORAGE_CONF=$WORK/storage.conf
cat >"$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
printf '[storage]\ndriver = "vfs"\ngraphroot = "%s/root"\nrunroot = "%s/run"\n' "$WORK" "$WORK" >"$CONTAINERS_STORAGE_CONF"
cleanup() {
    podman rm -af >/dev/null 2>&1
    if [ -z "${KEEP_PODMAN:-}" ]; then podman system reset -f >/dev/null 2>&1; rm -rf "$WORK"; fi
    rm -rf docker/prebuilt
}
trap cleanup EXIT

say "building release executables (static Swift runtime)…"
swift build -c release --static-swift-stdlib >/dev/null 2>&1 || { swift build -c release --static-swift-stdlib 2>&1 | tail -20; fail "release build failed"; }
BIN=$(swift build -c release --show-bin-path)
mkdir -p docker/prebuilt
for product in productpage details reviews ratings storage-app; do cp "$BIN/$product" docker/prebuilt/; done

# copy_libraries ROOT FILE...: every library the files load, at the same paths under ROOT.
copy_libraries() {
    local root=$1; shift
    for lib in $(ldd "$@" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}' | sort -u); do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
}

ensure_packages mariadb-server mariadb-client || fail "MariaDB is needed for the mysqldb image: apt-get install mariadb-server"
say "making the runtime base, curl and MariaDB from the host's packages…"
ROOTFS=$WORK/rootfs
mkdir -p "$ROOTFS/etc" "$ROOTFS/tmp"
copy_libraries "$ROOTFS" "$BIN/productpage" "$BIN/storage-app"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:10001:10001:nonroot:/home/nonroot:/sbin/nologin\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\nnonroot:x:10001:\n' >"$ROOTFS/etc/group"
printf 'hosts: files dns\n' >"$ROOTFS/etc/nsswitch.conf"
tar -C "$ROOTFS" -c . | podman import - localhost/runtime-base:ci >/dev/null 2>&1 || fail "podman import failed"
CURL_ROOT=docker/prebuilt/curl-root
copy_libraries "$CURL_ROOT" /usr/bin/curl
mkdir -p "$CURL_ROOT/usr/bin" "$CURL_ROOT/etc/ssl/certs"
cp /usr/bin/curl "$CURL_ROOT/usr/bin/"
cp /etc/ssl/certs/ca-certificates.crt "$CURL_ROOT/etc/ssl/certs/"
curl_mb=$(du -sm --apparent-size "$CURL_ROOT" | awk '{print $1}')
# What curl adds beyond the runtime base (glibc and the libraries both load are there already).
added=$(cd "$CURL_ROOT" && find . -type f | while read -r f; do [ -e "$ROOTFS/${f#./}" ] || echo "$f"; done | xargs -r du -cb | tail -1 | awk '{print $1}')
say "curl with its libraries and CA bundle: ${curl_mb} MB, of which $(awk -v b="${added:-0}" 'BEGIN {printf "%.1f", b/1048576}') MB not already in the base"

# MariaDB's file tree for the mysqldb image: the server, the clients Istio's docs run in the pod, the shell tools
# mysqldb.sh uses, what they load, and the bootstrap SQL, error messages and character sets.
MARIADB_ROOT=docker/prebuilt/mariadb-root
mkdir -p "$MARIADB_ROOT/usr/bin" "$MARIADB_ROOT/usr/sbin" "$MARIADB_ROOT/usr/lib" "$MARIADB_ROOT/usr/lib64" \
    "$MARIADB_ROOT/usr/share/mysql" "$MARIADB_ROOT/etc" "$MARIADB_ROOT/tmp"
for link in bin:usr/bin sbin:usr/sbin lib:usr/lib lib64:usr/lib64; do ln -sfn "${link#*:}" "$MARIADB_ROOT/${link%%:*}"; done
MARIADB_TOOLS=(/usr/bin/mariadb /usr/bin/mariadb-admin /usr/bin/dash /usr/bin/cat /usr/bin/mkdir /usr/bin/id /usr/bin/sed /usr/bin/chown)
copy_libraries "$MARIADB_ROOT" /usr/sbin/mariadbd "${MARIADB_TOOLS[@]}"
cp /usr/sbin/mariadbd "$MARIADB_ROOT/usr/sbin/"
cp "${MARIADB_TOOLS[@]}" "$MARIADB_ROOT/usr/bin/"
ln -sf dash "$MARIADB_ROOT/usr/bin/sh"
ln -sf mariadb "$MARIADB_ROOT/usr/bin/mysql"
cp -r /usr/share/mysql/charsets /usr/share/mysql/english /usr/share/mysql/mysql_system_tables.sql \
    /usr/share/mysql/mysql_system_tables_data.sql /usr/share/mysql/mysql_performance_tables.sql "$MARIADB_ROOT/usr/share/mysql/"
cp "$ROOTFS/etc/passwd" "$ROOTFS/etc/group" "$ROOTFS/etc/nsswitch.conf" "$MARIADB_ROOT/etc/"

# name product build-args... (the matrix of docker/docker-bake.hcl)
IMAGES=(
    "examples-bookinfo-ratings-v1 ratings SERVICE_VERSION=v1"
    "examples-bookinfo-ratings-v2 ratings SERVICE_VERSION=v2"
    "examples-bookinfo-ratings-v-faulty ratings SERVICE_VERSION=v-faulty"
    "examples-bookinfo-ratings-v-delayed ratings SERVICE_VERSION=v-delayed"
    "examples-bookinfo-ratings-v-unavailable ratings SERVICE_VERSION=v-unavailable"
    "examples-bookinfo-ratings-v-unhealthy ratings SERVICE_VERSION=v-unhealthy"
    "examples-bookinfo-details-v1 details SERVICE_VERSION=v1"
    "examples-bookinfo-details-v2 details SERVICE_VERSION=v2 ENABLE_EXTERNAL_BOOK_SERVICE=true"
    "examples-bookinfo-reviews-v1 reviews SERVICE_VERSION=v1 ENABLE_RATINGS=false STAR_COLOR=black"
    "examples-bookinfo-reviews-v2 reviews SERVICE_VERSION=v2 ENABLE_RATINGS=true STAR_COLOR=black"
    "examples-bookinfo-reviews-v3 reviews SERVICE_VERSION=v3 ENABLE_RATINGS=true STAR_COLOR=red"
    "examples-bookinfo-productpage-v1 productpage SERVICE_VERSION=v1"
    "examples-bookinfo-productpage-v-flooding productpage SERVICE_VERSION=v-flooding FLOOD_FACTOR=100"
    "storage-app storage-app SERVICE_VERSION=v1"
)
bake=$(python3 scripts/mesh_check.py --bake docker/docker-bake.hcl --list-bake)
ours=$( (printf '%s\n' "${IMAGES[@]}" | awk '{print $1}'; echo examples-bookinfo-mysqldb) | sort)
check "the image list matches docker/docker-bake.hcl" "$([ "$bake" = "$ours" ] && echo 0 || echo 1)" "$(diff <(echo "$bake") <(echo "$ours") | tr '\n' ' ')"

# Each image is built on its own, without the layer cache: a build that differs only in a build argument feeding
# ENV must not come out as a copy of the one before it.
printf '%-44s %8s\n' "image" "size"
declare -A IDS
for entry in "${IMAGES[@]}"; do
    read -r name product args <<<"$entry"
    build_args=(--build-arg "PRODUCT=$product" --build-arg BINARY_FROM=prebuilt --build-arg CURL_FROM=curl-prebuilt
        --build-arg RUNTIME_IMAGE=localhost/runtime-base:ci --build-arg SWIFT_IMAGE=localhost/runtime-base:ci
        --build-arg CURL_IMAGE=localhost/runtime-base:ci)
    for a in $args; do build_args+=(--build-arg "$a"); done
    if ! podman build -q --no-cache -f docker/Dockerfile "${build_args[@]}" -t "localhost/$name:ci" . >"$WORK/build.log" 2>&1; then
        check "$name builds" 1 "$(tail -5 "$WORK/build.log")"
        continue
    fi
    IDS[$name]=$(podman image inspect --format '{{.Id}}' "localhost/$name:ci")
    size=$(podman image inspect --format '{{.Size}}' "localhost/$name:ci")
    printf '%-44s %6.1f MB\n' "$name" "$(awk -v s="$size" 'BEGIN {print s/1048576}')"
    check "$name is under 40 MB" "$([ "$size" -lt 41943040 ] && echo 0 || echo 1)" "$size bytes"
    env=$(podman image inspect --format '{{range .Config.Env}}{{.}} {{end}}' "localhost/$name:ci")
    wanted=0
    for a in $args; do [[ " $env " == *" $a "* ]] || wanted=1; done
    check "$name carries its own settings ($args)" $wanted "$env"
done
check "every image is a build of its own (${#IDS[@]} distinct ids)" \
    "$([ "$(printf '%s\n' "${IDS[@]}" | sort -u | wc -l)" -eq ${#IMAGES[@]} ] && echo 0 || echo 1)"

# The database image, built from its own Dockerfile.
if podman build -q --no-cache --network none -f docker/mysqldb/Dockerfile --build-arg MARIADB_FROM=prebuilt \
    --build-arg BASE_IMAGE=localhost/runtime-base:ci -t localhost/examples-bookinfo-mysqldb:ci . >"$WORK/build.log" 2>&1; then
    size=$(podman image inspect --format '{{.Size}}' localhost/examples-bookinfo-mysqldb:ci)
    printf '%-44s %6.1f MB\n' examples-bookinfo-mysqldb "$(awk -v s="$size" 'BEGIN {print s/1048576}')"
    check "examples-bookinfo-mysqldb is under 150 MB" "$([ "$size" -lt 157286400 ] && echo 0 || echo 1)" "$size bytes"
else
    check "examples-bookinfo-mysqldb builds" 1 "$(tail -5 "$WORK/build.log")"
fi

# Ports on loopback; the containers share the host's network, as the checks below reach them by 127.0.0.1.
read -r RATINGS_PORT DETAILS_PORT REVIEWS_PORT CLOSED_PORT MYSQL_PORT <<<"$(free_ports 5)"

# The database as Istio's manifest runs it (its MySQL-only argument included), read-only, with its two volumes
# owned by its user as a pod's fsGroup makes them.
mkdir -p "$WORK/mysqldb/data" "$WORK/mysqldb/run" && chown 10001:10001 "$WORK/mysqldb/data" "$WORK/mysqldb/run"
DB=$(podman run -d --network host --read-only -v "$WORK/mysqldb/data:/var/lib/mysql" -v "$WORK/mysqldb/run:/run/mysqld" \
    -e MYSQL_ROOT_PASSWORD=password -e "MYSQLDB_PORT=$MYSQL_PORT" -e MYSQLDB_BIND_ADDRESS=127.0.0.1 \
    localhost/examples-bookinfo-mysqldb:ci --default-authentication-plugin mysql_native_password 2>"$WORK/run.log")
db_up=1
for _ in $(seq 100); do podman logs "$DB" 2>&1 | grep -q "ready for connections" && db_up=0 && break; sleep 0.3; done
check "examples-bookinfo-mysqldb starts with Istio's arguments" $db_up "$(cat "$WORK/run.log"; podman logs "$DB" 2>&1 | tail -3)"
rows=$(podman exec "$DB" mysql -u root -ppassword test -e "select * from ratings;" 2>&1 | tr '\t\n' ' ')
check "examples-bookinfo-mysqldb: Istio's 'mysql -u root -ppassword test' reads the two ratings ($rows)" \
    "$([ "$rows" = "ReviewID Rating 1 5 2 4 " ] && echo 0 || echo 1)"
denied=$(mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u root test -e "select 1" 2>&1)
check "examples-bookinfo-mysqldb refuses root without the password over TCP" "$([[ $denied == *"Access denied"* ]] && echo 0 || echo 1)" "$denied"
pid=$(podman inspect --format '{{.State.Pid}}' "$DB")
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
check "examples-bookinfo-mysqldb runs as non-root (uid $uid)" "$([ -n "$uid" ] && [ "$uid" != 0 ] && echo 0 || echo 1)"
code=$(podman run --rm -e MYSQL_ROOT_PASSWORD=x localhost/examples-bookinfo-mysqldb:ci --default-authentication-plugin caching_sha2_password >/dev/null 2>&1; echo $?)
check "examples-bookinfo-mysqldb stops with exit 2 on a plugin MariaDB lacks" "$([ "$code" = 2 ] && echo 0 || echo 1)" "status $code"
code=$(podman run --rm localhost/examples-bookinfo-mysqldb:ci >/dev/null 2>&1; echo $?)
check "examples-bookinfo-mysqldb stops with exit 2 without MYSQL_ROOT_PASSWORD" "$([ "$code" = 2 ] && echo 0 || echo 1)" "status $code"
# run NAME PORT [ENV...]: starts the image's container on PORT and waits for /health; sets CID.
run() {
    local name=$1 port=$2; shift 2
    local env=(-e "PORT=$port" -e HTTP_SERVER_HOST=127.0.0.1)
    for e in "$@"; do env+=(-e "$e"); done
    CID=$(podman run -d --network host --read-only "${env[@]}" "localhost/$name:ci" 2>"$WORK/run.log")
    [ -n "$CID" ] && wait_http "http://127.0.0.1:$port/health" 10 >/dev/null 2>&1
}
get() { curl -s --max-time 10 "$@"; }
requests_seen() { get "http://127.0.0.1:$1/metrics" | awk '/^http_server_requests_total.*route="\/reviews\/:id"/ {n += $2} END {print n + 0}'; }

# What makes each image that variant: NAME PORT → 0 when it behaves as its name says.
variant() {
    local name=$1 port=$2 url="http://127.0.0.1:$2"
    case $name in
        *ratings-v1) get "$url/ratings/0" | grep -q '"Reviewer1":5' ;;
        *ratings-v2)
            get "$url/ratings/0" | grep -q '"Reviewer1":5' || return 1
            podman exec "$DB" mysql -u root -ppassword test -e "UPDATE ratings SET Rating = 2 WHERE ReviewID = 1" \
                && get "$url/ratings/0" | grep -q '"Reviewer1":2' ;;
        *ratings-v-faulty) [ "$(get -o /dev/null -w '%{http_code}' "$url/ratings/0")" = 503 ] ;;
        *ratings-v-delayed)
            local t; t=$(get -o /dev/null -w '%{time_total}' "$url/ratings/0")
            awk -v t="$t" 'BEGIN {exit !(t >= 0.9)}' ;;
        *ratings-v-unavailable)
            [ "$(get -o /dev/null -w '%{http_code}' "$url/ratings/0")" = 200 ] && sleep 1.3 \
                && [ "$(get -o /dev/null -w '%{http_code}' "$url/ratings/0")" = 503 ] ;;
        *ratings-v-unhealthy)
            [ "$(get -o /dev/null -w '%{http_code}' "$url/health")" = 200 ] && sleep 1.3 \
                && [ "$(get -o /dev/null -w '%{http_code}' "$url/health")" = 500 ] ;;
        *details-v1) get "$url/details/0" | grep -q '"publisher":"PublisherA"' ;;
        *details-v2) get "$url/details/0" | grep -q "book service http://127.0.0.1:$CLOSED_PORT unavailable" ;;
        *reviews-v1) ! get "$url/reviews/0" | grep -q '"rating"' ;;
        *reviews-v2) get "$url/reviews/0" | grep -q '"color": "black"' ;;
        *reviews-v3) get "$url/reviews/0" | grep -q '"color": "red"' ;;
        *productpage-v1 | *productpage-v-flooding)
            local before after; before=$(requests_seen "$REVIEWS_PORT")
            get "$url/productpage" | grep -q 'The Comedy of Errors' || return 1
            after=$(requests_seen "$REVIEWS_PORT")
            if [[ $name == *flooding ]]; then [ $((after - before)) -ge 101 ]; else [ $((after - before)) -eq 1 ]; fi ;;
        storage-app) get "$url/storage/key" | grep -q "127.0.0.1:$CLOSED_PORT" ;;
        *) return 1 ;;
    esac
}

# The backends the reviews and productpage images call.
run examples-bookinfo-ratings-v1 "$RATINGS_PORT" || fail "ratings-v1 does not start: $(cat "$WORK/run.log")"
run examples-bookinfo-details-v1 "$DETAILS_PORT" || fail "details-v1 does not start"
run examples-bookinfo-reviews-v1 "$REVIEWS_PORT" RATINGS_HOSTNAME=127.0.0.1 "RATINGS_SERVICE_PORT=$RATINGS_PORT" \
    || fail "reviews-v1 does not start"
for entry in "${IMAGES[@]}"; do
    read -r name _ <<<"$entry"
    [ -n "${IDS[$name]:-}" ] || continue
    port=$(free_ports 1)
    settings=(FAULT_PROBABILITY=1 FAULT_DELAY=1s UNAVAILABLE_PERIOD=1s UNHEALTHY_PERIOD=1s DO_NOT_ENCRYPT=true
        BOOK_SERVICE_HOST=127.0.0.1 "BOOK_SERVICE_PORT=$CLOSED_PORT" "ETCD_ENDPOINTS=http://127.0.0.1:$CLOSED_PORT"
        ETCD_TIMEOUT=500ms DB_TYPE=mysql MYSQL_DB_HOST=127.0.0.1 "MYSQL_DB_PORT=$MYSQL_PORT" MYSQL_DB_PASSWORD=password RATINGS_HOSTNAME=127.0.0.1 "RATINGS_SERVICE_PORT=$RATINGS_PORT" DETAILS_HOSTNAME=127.0.0.1
        "DETAILS_SERVICE_PORT=$DETAILS_PORT" REVIEWS_HOSTNAME=127.0.0.1 "REVIEWS_SERVICE_PORT=$REVIEWS_PORT")
    if ! run "$name" "$port" "${settings[@]}"; then
        check "$name runs and answers /health" 1 "$(cat "$WORK/run.log"; podman logs "$CID" 2>&1 | tail -3)"
        continue
    fi
    variant "$name" "$port"
    check "$name behaves as its name says" $? "$(podman logs "$CID" 2>&1 | tail -2)"
    code=$(podman exec "$CID" curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" 2>&1)
    check "$name has a working curl (podman exec … curl /health: $code)" "$([ "$code" = 200 ] || [ "$code" = 500 ] && echo 0 || echo 1)"
    bundle=$(podman exec "$CID" curl -s file:///etc/ssl/certs/ca-certificates.crt 2>/dev/null | head -c 27)
    check "$name has the CA bundle for curl" "$([ "$bundle" = "-----BEGIN CERTIFICATE-----" ] && echo 0 || echo 1)"
    pid=$(podman inspect --format '{{.State.Pid}}' "$CID")
    uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    check "$name runs as non-root (uid $uid)" "$([ -n "$uid" ] && [ "$uid" != 0 ] && echo 0 || echo 1)"
    check "$name has a read-only root file system" "$([ "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$CID")" = true ] && echo 0 || echo 1)"
    start=$(date +%s%N)
    podman kill -s TERM "$CID" >/dev/null
    code=$(timeout 5 podman wait "$CID" 2>/dev/null)
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    check "$name stops on SIGTERM with status 0 in ${ms} ms" "$([ "$code" = 0 ] && [ $ms -lt 2000 ] && echo 0 || echo 1)" "status $code"
    podman rm -f "$CID" >/dev/null 2>&1
done
start=$(date +%s%N)
podman kill -s TERM "$DB" >/dev/null
code=$(timeout 15 podman wait "$DB" 2>/dev/null)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "examples-bookinfo-mysqldb stops on SIGTERM with status 0 in ${ms} ms" "$([ "$code" = 0 ] && [ $ms -lt 10000 ] && echo 0 || echo 1)" "status $code"
say "images: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
