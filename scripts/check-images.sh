#!/usr/bin/env bash
# Builds every runtime image of docker/docker-bake.hcl with podman and checks each container: /health answers,
# it runs as a non-root user on a read-only root file system, SIGTERM ends it within 2 s with status 0, and the
# image is under 40 MB. No registry is reachable here, so (as docker/Dockerfile allows) the executables come from
# the host's release build and the runtime base is made from the host's own glibc and libstdc++ (Debian 12, the
# same as distroless/cc-debian12, which the Dockerfile uses by default).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

CHECK_SCOPE=images passed=0 failed=0

ensure_packages podman buildah runc || { say "images: podman is not available here"; say "images: 0 passed, 1 failed"; exit 1; }
WORK=$(mktemp -d)
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
cleanup() { podman rm -af >/dev/null 2>&1; podman system reset -f >/dev/null 2>&1; rm -rf "$WORK" docker/prebuilt; }
trap cleanup EXIT

say "building release executables (static Swift runtime)…"
swift build -c release --static-swift-stdlib >/dev/null 2>&1 || { swift build -c release --static-swift-stdlib 2>&1 | tail -20; fail "release build failed"; }
BIN=$(swift build -c release --show-bin-path)
mkdir -p docker/prebuilt
for product in productpage details reviews ratings storage-app; do cp "$BIN/$product" docker/prebuilt/; done

say "making the runtime base from the host's libraries…"
ROOTFS=$WORK/rootfs
mkdir -p "$ROOTFS/etc" "$ROOTFS/tmp"
for lib in $(ldd "$BIN/productpage" "$BIN/storage-app" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}' | sort -u); do
    mkdir -p "$ROOTFS$(dirname "$lib")"
    cp -L "$lib" "$ROOTFS$lib"
done
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:10001:10001:nonroot:/home/nonroot:/sbin/nologin\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\nnonroot:x:10001:\n' >"$ROOTFS/etc/group"
printf 'hosts: files dns\n' >"$ROOTFS/etc/nsswitch.conf"
tar -C "$ROOTFS" -c . | podman import - localhost/runtime-base:ci >/dev/null 2>&1 || fail "podman import failed"

# name product build-args... (the matrix of docker/docker-bake.hcl)
IMAGES=(
    "examples-bookinfo-productpage-v1 productpage SERVICE_VERSION=v1"
    "examples-bookinfo-productpage-v-flooding productpage SERVICE_VERSION=v-flooding FLOOD_FACTOR=100"
    "examples-bookinfo-details-v1 details SERVICE_VERSION=v1"
    "examples-bookinfo-details-v2 details SERVICE_VERSION=v2 ENABLE_EXTERNAL_BOOK_SERVICE=true"
    "examples-bookinfo-reviews-v1 reviews SERVICE_VERSION=v1 ENABLE_RATINGS=false STAR_COLOR=black"
    "examples-bookinfo-reviews-v2 reviews SERVICE_VERSION=v2 ENABLE_RATINGS=true STAR_COLOR=black"
    "examples-bookinfo-reviews-v3 reviews SERVICE_VERSION=v3 ENABLE_RATINGS=true STAR_COLOR=red"
    "examples-bookinfo-ratings-v1 ratings SERVICE_VERSION=v1"
    "examples-bookinfo-ratings-v-faulty ratings SERVICE_VERSION=v-faulty"
    "examples-bookinfo-ratings-v-delayed ratings SERVICE_VERSION=v-delayed"
    "examples-bookinfo-ratings-v-unavailable ratings SERVICE_VERSION=v-unavailable"
    "examples-bookinfo-ratings-v-unhealthy ratings SERVICE_VERSION=v-unhealthy"
    "storage-app storage-app SERVICE_VERSION=v1"
)
bake=$(python3 scripts/mesh_check.py --bake docker/docker-bake.hcl --list-bake)
ours=$(printf '%s\n' "${IMAGES[@]}" | awk '{print $1}' | sort)
check "the image list matches docker/docker-bake.hcl" "$([ "$bake" = "$ours" ] && echo 0 || echo 1)" "$(diff <(echo "$bake") <(echo "$ours") | tr '\n' ' ')"
port=29100
printf '%-44s %8s\n' "image" "size"
for entry in "${IMAGES[@]}"; do
    read -r name product args <<<"$entry"
    build_args=(--build-arg "PRODUCT=$product" --build-arg BINARY_FROM=prebuilt --build-arg RUNTIME_IMAGE=localhost/runtime-base:ci --build-arg SWIFT_IMAGE=localhost/runtime-base:ci)
    for a in $args; do build_args+=(--build-arg "$a"); done
    if ! podman build -q -f docker/Dockerfile "${build_args[@]}" -t "localhost/$name:ci" . >"$WORK/build.log" 2>&1; then
        check "$name builds" 1 "$(tail -5 "$WORK/build.log")"
        continue
    fi
    size=$(podman image inspect --format '{{.Size}}' "localhost/$name:ci")
    printf '%-44s %6.1f MB\n' "$name" "$(awk -v s="$size" 'BEGIN {print s/1048576}')"
    check "$name is under 40 MB" "$([ "$size" -lt 41943040 ] && echo 0 || echo 1)" "$size bytes"
    port=$((port + 1))
    extra=()
    [ "$name" = examples-bookinfo-details-v2 ] && extra=(-e DO_NOT_ENCRYPT=true)
    cid=$(podman run -d --network host --read-only -e PORT=$port -e HTTP_SERVER_HOST=127.0.0.1 "${extra[@]}" "localhost/$name:ci" 2>"$WORK/run.log")
    if [ -z "$cid" ]; then check "$name runs" 1 "$(cat "$WORK/run.log")"; continue; fi
    health=1
    wait_http "http://127.0.0.1:$port/health" 10 && health=0
    check "$name answers /health" $health "$(podman logs "$cid" 2>&1 | tail -3)"
    pid=$(podman inspect --format '{{.State.Pid}}' "$cid")
    uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    check "$name runs as non-root (uid $uid)" "$([ -n "$uid" ] && [ "$uid" != 0 ] && echo 0 || echo 1)"
    check "$name has a read-only root file system" "$([ "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$cid")" = true ] && echo 0 || echo 1)"
    start=$(date +%s%N)
    podman kill -s TERM "$cid" >/dev/null
    code=$(timeout 5 podman wait "$cid" 2>/dev/null)
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    check "$name stops on SIGTERM with status 0 in ${ms} ms" "$([ "$code" = 0 ] && [ $ms -lt 2000 ] && echo 0 || echo 1)" "status $code"
    podman rm -f "$cid" >/dev/null 2>&1
done
say "images: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
