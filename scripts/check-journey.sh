#!/usr/bin/env bash
# Deploys the rendered local overlay for real with podman (scripts/podman_deploy.py) from the images that
# scripts/check-images.sh built, walks the documented bookinfo journey against it, asserting each step, and removes
# everything it created, whatever happens.
#   scripts/check-journey.sh PODMAN_STORE     (the KEEP_PODMAN directory of scripts/check-images.sh)
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

STORE=${1:?usage: scripts/check-journey.sh PODMAN_STORE}
export CONTAINERS_CONF=$STORE/containers.conf CONTAINERS_STORAGE_CONF=$STORE/storage.conf
CHECK_SCOPE=journey passed=0 failed=0
WORK=$(mktemp -d)
cleanup() { python3 scripts/podman_deploy.py down "$WORK/state" >/dev/null 2>&1; rm -rf "$WORK"; }
trap cleanup EXIT
ensure_packages etcd-server curl >/dev/null || true
ensure_pip yaml pyyaml >/dev/null

say "journey: the images under the manifests' names, and etcd from Debian's package…"
kubectl kustomize k8s/overlays/local >"$WORK/local.yaml" || fail "kustomize failed"
for image in $(grep -ho 'image: ghcr.io/mesh-samples/[^ ]*' "$WORK/local.yaml" | sort -u | cut -d' ' -f2) \
    ghcr.io/mesh-samples/examples-bookinfo-ratings-v-faulty:1.0.0 ghcr.io/mesh-samples/examples-bookinfo-ratings-v-delayed:1.0.0 \
    ghcr.io/mesh-samples/examples-bookinfo-ratings-v-unavailable:1.0.0 ghcr.io/mesh-samples/examples-bookinfo-ratings-v-unhealthy:1.0.0; do
    name=${image#ghcr.io/mesh-samples/}
    podman tag "localhost/${name%:*}:ci" "$image" || fail "no image localhost/${name%:*}:ci (run scripts/check-images.sh first)"
done
etcd_image=$(grep -ho 'image: [^ ]*etcd[^ ]*' "$WORK/local.yaml" | head -1 | cut -d' ' -f2)
mkdir -p "$WORK/etcd/usr/local/bin"
cp "$(command -v etcd)" "$WORK/etcd/usr/local/bin/etcd"
printf 'FROM localhost/runtime-base:ci\nCOPY usr/local/bin/etcd /usr/local/bin/etcd\nUSER 10001:10001\nENTRYPOINT ["/usr/local/bin/etcd"]\n' >"$WORK/etcd/Containerfile"
podman build -q -t "$etcd_image" "$WORK/etcd" >/dev/null || fail "cannot build $etcd_image"

python3 scripts/test_podman_deploy.py "$WORK/local.yaml" >"$WORK/plan.log" 2>&1
check "podman_deploy's plan of the manifests (scripts/test_podman_deploy.py)" $? "$(tail -5 "$WORK/plan.log")"

start=$SECONDS
out=$(python3 scripts/podman_deploy.py up "$WORK/local.yaml" "$WORK/state" 2>&1)
status=$?
check "kube play of every pod, each ready by its own readiness probe ($((SECONDS - start)) s)" $status "$out"
[ $status -eq 0 ] || { say "journey: $passed passed, $failed failed"; exit 1; }
PAGE=$(sed -n 's/^productpage=//p' <<<"$out") STORAGE=$(sed -n 's/^storage-app=//p' <<<"$out")
inside() { podman exec "$1" curl -sS --max-time 10 "${@:2}"; }

for pod in $(podman pod ps --format '{{.Name}}'); do
    for container in $(podman pod inspect "$pod" --format '{{range .Containers}}{{.Name}} {{end}}'); do
        [[ $container == *-infra ]] && continue
        pid=$(podman inspect --format '{{.State.Pid}}' "$container")
        uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
        ro=$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$container")
        check "$container runs as uid $uid, read-only root" "$([ -n "$uid" ] && [ "$uid" != 0 ] && [ "$ro" = true ] && echo 0 || echo 1)"
    done
done

# The first check of Istio's bookinfo guide, as `kubectl exec … -c ratings -- curl …` runs it.
title=$(inside ratings-v1-0-ratings productpage:9080/productpage | grep -o "<title>.*</title>")
say "  \$ podman exec ratings-v1-0-ratings curl -sS productpage:9080/productpage | grep -o \"<title>.*</title>\""
say "  $title"
check "the title check from inside the ratings pod" "$([ "$title" = "<title>Simple Bookstore App</title>" ] && echo 0 || echo 1)"

page=$(curl -s --max-time 10 "http://127.0.0.1:$PAGE/productpage")
ok=1; grep -q "<title>Simple Bookstore App</title>" <<<"$page" && grep -q "Book Details" <<<"$page" \
    && grep -q "<td>PublisherA</td>" <<<"$page" && grep -q "Book Reviews" <<<"$page" \
    && grep -q "An extremely entertaining play by Shakespeare" <<<"$page" && ok=0
check "/productpage from outside through the published port: title, details, reviews" $ok

for version in v1 v2 v3; do
    body=$(inside productpage-v1-0-productpage "reviews-$version:9080/reviews/0")
    case $version in
        v1) ok=$(grep -q '"rating"' <<<"$body" && echo 1 || echo 0) ;;
        v2) ok=$(grep -q '"stars": 5, "color": "black"' <<<"$body" && echo 0 || echo 1) ;;
        v3) ok=$(grep -q '"stars": 5, "color": "red"' <<<"$body" && echo 0 || echo 1) ;;
    esac
    check "reviews-$version by its per-version Service name: $( [ $version = v1 ] && echo no stars || grep -o '"color": "[a-z]*"' <<<"$body" | head -1)" "$ok" "$body"
done

put=$(curl -s --max-time 10 "http://127.0.0.1:$STORAGE/storage" -H "Content-Type: application/json" -XPUT \
    -d '{"key": "istioTestNode", "value":"Testing Istio using NodePort"}')
get=$(curl -s --max-time 10 "http://127.0.0.1:$STORAGE/storage/istioTestNode")
say "  PUT: $put"
say "  GET: $get"
check "the storage demo's PUT through the storage app to etcd" \
    "$([[ $put == 'nodeAppTesting created(etcd-service) ->{"key":"istioTestNode","value":"Testing Istio using NodePort"}:{"action":"set"'* ]] && echo 0 || echo 1)"
check "the storage demo's GET reads it back" \
    "$([[ $get == 'nodeAppTesting(etcd-service) ->{"action":"get","node":{"key":"/istioTestNode","value":"Testing Istio using NodePort"'* ]] && echo 0 || echo 1)"

# ratings v2 on the database (Istio's TCP lessons): Istio's own command reads the table inside the mysqldb pod, and a
# rating changed there shows at once in ratings-v2-mysql and on the page. The ratings Service has both versions
# behind it and podman has no routing, so the page comes from a second productpage and reviews v3, made from their
# Deployments, whose ratings calls go to ratings-v2-mysql as virtual-service-ratings-mysql.yaml sends them.
python3 - "$WORK/local.yaml" >"$WORK/mysql-page.yaml" <<'PY'
import copy, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
def variant(name, new_name, app, env):
    d = copy.deepcopy(next(x for x in docs if x["kind"] == "Deployment" and x["metadata"]["name"] == name))
    d["metadata"]["name"] = new_name
    labels = dict(d["spec"]["template"]["metadata"]["labels"], app=app)
    d["spec"]["selector"]["matchLabels"] = labels
    d["spec"]["template"]["metadata"]["labels"] = labels
    c = d["spec"]["template"]["spec"]["containers"][0]
    c["env"] = [e for e in c.get("env", []) if e["name"] not in env] + [{"name": k, "value": v} for k, v in env.items()]
    return d
service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "reviews-mysql"},
           "spec": {"selector": {"app": "reviews-mysql"}, "ports": [{"name": "http", "port": 9080, "targetPort": "http"}]}}
yaml.safe_dump_all([service, variant("reviews-v3", "reviews-v3-mysql", "reviews-mysql", {"RATINGS_HOSTNAME": "ratings-v2-mysql"}),
                    variant("productpage-v1", "productpage-mysql", "productpage-mysql", {"REVIEWS_HOSTNAME": "reviews-mysql"})],
                   sys.stdout)
PY
out=$(python3 scripts/podman_deploy.py up "$WORK/mysql-page.yaml" "$WORK/state" 2>&1)
check "kube play of productpage and reviews v3 calling ratings-v2-mysql" $? "$out"
db() { podman exec mysqldb-v1-0-mysqldb mysql -u root -ppassword test -e "$1" 2>&1; }
stars() { podman exec productpage-mysql-0-productpage curl -s --max-time 10 localhost:9080/productpage | grep -o 'glyphicon glyphicon-star"' | wc -l; }
rows=$(db "select * from ratings;" | tr '\t\n' ' ')
say "  \$ podman exec mysqldb-v1-0-mysqldb mysql -u root -ppassword test -e \"select * from ratings;\""
say "  $rows"
check "Istio's mysql command in the mysqldb pod reads the two ratings" "$([ "$rows" = "ReviewID Rating 1 5 2 4 " ] && echo 0 || echo 1)"
before=$(inside productpage-v1-0-productpage ratings-v2-mysql:9080/ratings/0) stars_before=$(stars)
db "update ratings set rating=1 where reviewid=1;" >/dev/null
after=$(inside productpage-v1-0-productpage ratings-v2-mysql:9080/ratings/0) stars_after=$(stars)
db "update ratings set rating=5 where reviewid=1;" >/dev/null
say "  ratings-v2-mysql: $before, after the update: $after"
check "ratings-v2-mysql answers the database's stars, and a change to them at once" \
    "$([[ $before == *'"Reviewer1":5,"Reviewer2":4'* && $after == *'"Reviewer1":1,"Reviewer2":4'* ]] && echo 0 || echo 1)"
check "the page shows the database's stars: $stars_before filled, then $stars_after after the update (5 + 4, 1 + 4)" \
    "$([ "$stars_before" = 9 ] && [ "$stars_after" = 5 ] && echo 0 || echo 1)"

# The ratings fault-mode images, each as a pod made from the ratings Deployment with its image and the fault's
# settings made exact (no Service selects them, so reviews keeps calling ratings-v1).
python3 - "$WORK/local.yaml" >"$WORK/faults.yaml" <<'PY'
import copy, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ratings = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "ratings-v1")
out = []
for mode in ["v-faulty", "v-delayed", "v-unavailable", "v-unhealthy"]:
    d = copy.deepcopy(ratings)
    d["metadata"]["name"] = f"ratings-{mode}"
    labels = {"app": "ratings-fault", "version": mode}
    d["spec"]["selector"]["matchLabels"] = labels
    d["spec"]["template"]["metadata"]["labels"] = labels
    c = d["spec"]["template"]["spec"]["containers"][0]
    c["image"] = c["image"].replace("ratings-v1", f"ratings-{mode}")
    c["env"] = c.get("env", []) + [{"name": n, "value": v} for n, v in
                                    [("FAULT_PROBABILITY", "1"), ("FAULT_DELAY", "1s"), ("UNAVAILABLE_PERIOD", "2s"),
                                     ("UNHEALTHY_PERIOD", "2s")]]
    out.append(d)
yaml.safe_dump_all(out, sys.stdout)
PY
out=$(python3 scripts/podman_deploy.py up "$WORK/faults.yaml" "$WORK/state" 2>&1)
check "kube play of the four ratings fault-mode pods" $? "$out"
code() { inside productpage-v1-0-productpage -o /dev/null -w '%{http_code}' "$@"; }
check "ratings v-faulty fails: 503" "$([ "$(code ratings-v-faulty-0:9080/ratings/0)" = 503 ] && echo 0 || echo 1)"
took=$(inside productpage-v1-0-productpage -o /dev/null -w '%{time_total}' ratings-v-delayed-0:9080/ratings/0)
check "ratings v-delayed answers after its delay (${took} s)" "$(awk -v t="$took" 'BEGIN {print (t >= 0.9) ? 0 : 1}')"
# Sampled every half second over two and a half periods of 2 s: both phases must show.
seen="" seen_health=""
for _ in $(seq 10); do
    seen+=" $(code ratings-v-unavailable-0:9080/ratings/0)" seen_health+=" $(code ratings-v-unhealthy-0:9080/health)"
    sleep 0.5
done
check "ratings v-unavailable switches between available and not every period:$seen" \
    "$([[ $seen == *200* && $seen == *503* ]] && echo 0 || echo 1)"
check "ratings v-unhealthy switches between healthy and not every period:$seen_health" \
    "$([[ $seen_health == *200* && $seen_health == *500* ]] && echo 0 || echo 1)"

# The three etcd members under writes through the storage app: the leader's container killed (SIGKILL), then a
# second member's pod stopped (no quorum), then both back.
etcd_in() { podman exec storage-app-v1-0-storage-app curl -s --max-time 5 -XPOST "$@"; }
leader=""
for i in 0 1 2; do
    status=$(etcd_in "etcd-$i.etcd:2379/v3/maintenance/status" -d '{}')
    own=$(sed -n 's/.*"member_id":"\([0-9]*\)".*/\1/p' <<<"$status") lead=$(sed -n 's/.*"leader":"\([0-9]*\)".*/\1/p' <<<"$status")
    [ -n "$own" ] && [ "$own" = "$lead" ] && leader=$i
done
check "the three etcd members elected a leader (etcd-${leader:-?})" "$([ -n "$leader" ] && echo 0 || echo 1)"
if [ -n "$leader" ]; then
    python3 - "http://127.0.0.1:$STORAGE" "$leader" >"$WORK/etcd-load.json" <<'PY' &
import json, subprocess, sys, threading, time, urllib.error, urllib.request
base, leader = sys.argv[1], sys.argv[2]
stop, lock, acked, failed, slowest = threading.Event(), threading.Lock(), [], [], [0.0]
def writer(w):
    n = 0
    while not stop.is_set():
        key = f"j{w}-{n}"; n += 1
        body = json.dumps({"key": key, "value": f"v-{key}"}).encode()
        request = urllib.request.Request(base + "/storage", data=body, method="PUT", headers={"Content-Type": "application/json"})
        start = time.time()
        try:
            with urllib.request.urlopen(request, timeout=15) as r:
                ok, text = r.status == 201, ""
        except urllib.error.HTTPError as e:
            ok, text = False, f"{e.code} {e.read().decode()[:200]}"
        except Exception as e:
            ok, text = False, str(e)
        with lock:
            slowest[0] = max(slowest[0], time.time() - start)
            (acked if ok else failed).append(key if ok else f"{key}: {text}")
threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
for t in threads: t.start()
time.sleep(1.5)
subprocess.run(["podman", "kill", "-s", "KILL", f"etcd-{leader}-etcd"], capture_output=True)
time.sleep(4.5)
stop.set()
for t in threads: t.join()
print(json.dumps({"acked": acked, "failed": failed, "slowest": slowest[0]}))
PY
    wait $!
    acked=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["acked"]))' "$WORK/etcd-load.json")
    failures=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["failed"]), "; ".join(d["failed"][:2]))' "$WORK/etcd-load.json")
    slowest=$(python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["slowest"])' "$WORK/etcd-load.json")
    check "etcd leader killed under 4 writers: $acked writes acknowledged, none failed, the slowest ${slowest} s" \
        "$([ "${failures%% *}" = 0 ] && [ "$acked" -gt 50 ] && awk -v s="$slowest" 'BEGIN {exit !(s < 5)}' && echo 0 || echo 1)" "$failures"
    # Every acknowledged write is in etcd: one range read of the keys /j… from a surviving member.
    survivor=$(( (leader + 1) % 3 ))
    # A linearizable read: it waits for the cluster to settle after the kill, so it is tried until it answers.
    for _ in $(seq 30); do
        stored=$(etcd_in "etcd-$survivor.etcd:2379/v3/kv/range" -d "{\"key\":\"$(printf '/j' | base64)\",\"range_end\":\"$(printf '/k' | base64)\",\"keys_only\":true}")
        [[ $stored == *'"kvs"'* ]] && break
        sleep 0.5
    done
    printf '%s' "$stored" >"$WORK/etcd-stored.json"
    missing=$(python3 - "$WORK/etcd-load.json" "$WORK/etcd-stored.json" <<'PY'
import base64, json, sys
acked = set(json.load(open(sys.argv[1]))["acked"])
kvs = json.loads(open(sys.argv[2]).read() or "{}").get("kvs", [])
stored = {base64.b64decode(kv["key"]).decode().lstrip("/") for kv in kvs}
print(len(acked - stored))
PY
)
    check "every acknowledged write is in etcd (read from etcd-$survivor directly): $missing missing" "$([ "$missing" = 0 ] && echo 0 || echo 1)"
    second=$survivor
    podman pod stop -t 5 "etcd-$second" >/dev/null 2>&1
    podman pod stop -t 0 "etcd-$leader" >/dev/null 2>&1
    start=$(date +%s%N)
    code=$(curl -s -o "$WORK/noquorum" -w '%{http_code}' --max-time 15 "http://127.0.0.1:$STORAGE/storage" -XPUT \
        -H "Content-Type: application/json" -d '{"key":"noquorum","value":"x"}')
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    check "two of three members down: a write answers $code in ${ms} ms naming the endpoints" \
        "$([ "$code" = 503 ] && [ $ms -lt 7000 ] && grep -q "etcd-$(( (leader + 2) % 3 )).etcd" "$WORK/noquorum" && echo 0 || echo 1)" "$(cat "$WORK/noquorum")"
    podman pod start "etcd-$leader" "etcd-$second" >/dev/null 2>&1
    code=000
    for _ in $(seq 60); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 15 "http://127.0.0.1:$STORAGE/storage" -XPUT \
            -H "Content-Type: application/json" -d '{"key":"quorum","value":"back"}')
        [ "$code" = 201 ] && break
        sleep 0.5
    done
    check "both members back: the storage app writes again without a restart ($code)" "$([ "$code" = 201 ] && echo 0 || echo 1)"
fi

# A rolling update's SIGTERM to productpage under load: it drains for SHUTDOWN_DELAY while still serving, then
# exits with status 0 within the pod's terminationGracePeriodSeconds.
grace=$(python3 -c "import sys, yaml; print(next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d['kind'] == 'Deployment' and d['metadata']['name'] == 'productpage-v1')['spec']['template']['spec']['terminationGracePeriodSeconds'])" "$WORK/local.yaml")
LOADGEN=$(swift build -c release --show-bin-path)/loadgen
[ -x "$LOADGEN" ] || swift build -c release --product loadgen >/dev/null 2>&1
"$LOADGEN" -n 300 -c 4 --rps 100 "http://127.0.0.1:$PAGE/productpage" >"$WORK/load.log" 2>&1 &
load=$!
sleep 0.5
stop_start=$SECONDS
podman stop -t "$grace" productpage-v1-0-productpage >/dev/null 2>&1 &
stopper=$!
wait $load
wait $stopper
stopped_in=$((SECONDS - stop_start))
exit_code=$(podman inspect --format '{{.State.ExitCode}}' productpage-v1-0-productpage)
say "  $(grep -E '^ *(200|[0-9]{3}|errors?):' "$WORK/load.log" | tr '\n' ' ')"
check "SIGTERM under load fails no request (300 requests over 3 s, SIGTERM at 0.5 s)" \
    "$(grep -q '200: 300 (100%)' "$WORK/load.log" && echo 0 || echo 1)" "$(cat "$WORK/load.log")"
check "productpage exits with status $exit_code in ${stopped_in} s, within the ${grace} s grace period" \
    "$([ "$exit_code" = 0 ] && [ "$stopped_in" -lt "$grace" ] && echo 0 || echo 1)"

say "journey: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
