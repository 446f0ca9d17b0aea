#!/usr/bin/env bash
# Deploys the suite to the current kubectl context and waits for every rollout.
#   scripts/deploy.sh [--istio|--ambient|--manual-inject|--no-mesh] [--lesson FILE]...
#   --istio    (default) namespace labelled for automatic sidecar injection, gateway, subsets, mTLS, authorization
#   --ambient  Istio's ambient mode (k8s/overlays/ambient): ztunnel, a waypoint, Gateway API ingress, L4 and L7 policies
#   --manual-inject  the same, with sidecars added by `istioctl kube-inject` (no injection webhook needed)
#   --no-mesh  the plain manifests (k8s/overlays/local), e.g. to compare with and without the mesh
#   --lesson   also apply one of k8s/lessons/*.yaml (repeatable)
# Images: by default the manifests name ghcr.io/mesh-samples/...; to use your own builds, build them with
# docker/docker-bake.hcl (HUB=your/registry) and `kubectl kustomize ... | sed` or an overlay with `images:`.
set -euo pipefail
cd "$(dirname "$0")/.."
OVERLAY=istio
MANUAL=0
LESSONS=()
while [ $# -gt 0 ]; do
    case $1 in
        --istio) OVERLAY=istio ;;
        --ambient) OVERLAY=ambient ;;
        --manual-inject) OVERLAY=istio MANUAL=1 ;;
        --no-mesh) OVERLAY=local ;;
        --lesson) LESSONS+=("$2"); shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
command -v kubectl >/dev/null || { echo "kubectl is needed" >&2; exit 1; }
kubectl version --request-timeout=5s >/dev/null 2>&1 || { echo "no cluster reachable with the current kubectl context" >&2; exit 1; }
if [ $OVERLAY = istio ] && ! kubectl get crd virtualservices.networking.istio.io >/dev/null 2>&1; then
    echo "Istio is not installed in this cluster: istioctl install --set profile=demo -y (or use --no-mesh)" >&2
    exit 1
fi
# The manifests ship a placeholder session secret; the cluster's own is kept, or a random one takes its place.
PLACEHOLDER=change-me-bookinfo-session-secret
SECRET=$(kubectl -n bookinfo get secret productpage-session -o jsonpath='{.data.secret}' 2>/dev/null | base64 -d 2>/dev/null || true)
if [ -z "$SECRET" ] || [ "$SECRET" = "$PLACEHOLDER" ]; then
    SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    echo "productpage-session: a new random session secret"
fi
render() { kubectl kustomize "k8s/overlays/$1" | sed "s/$PLACEHOLDER/$SECRET/"; }
if [ $OVERLAY = ambient ]; then
    kubectl get crd gateways.gateway.networking.k8s.io >/dev/null 2>&1 \
        || { echo "the Gateway API CRDs are missing: kubectl apply -f the standard-install.yaml of gateway-api" >&2; exit 1; }
    kubectl -n istio-system get daemonset ztunnel >/dev/null 2>&1 \
        || { echo "Istio's ambient mode is not installed: istioctl install --set profile=ambient -y" >&2; exit 1; }
fi
if [ $MANUAL = 1 ]; then
    command -v istioctl >/dev/null || { echo "istioctl is needed for --manual-inject" >&2; exit 1; }
    render istio | sed '/istio-injection: enabled/d' | istioctl kube-inject -f - | kubectl apply -f -
else
    render "$OVERLAY" | kubectl apply -f -
fi
for lesson in "${LESSONS[@]}"; do kubectl -n bookinfo apply -f "$lesson"; done
for workload in deployment/details-v1 deployment/ratings-v1 deployment/reviews-v1 deployment/reviews-v2 deployment/reviews-v3 \
    deployment/productpage-v1 deployment/storage-app-v1 statefulset/etcd; do
    kubectl -n bookinfo rollout status "$workload" --timeout=180s
done
[ $OVERLAY = ambient ] && kubectl -n bookinfo wait --for=condition=programmed gateway/waypoint gateway/bookinfo-gateway --timeout=180s
echo
echo "Deployed. Without an ingress: kubectl -n bookinfo port-forward svc/productpage 9080:9080, then http://localhost:9080/productpage"
[ $OVERLAY = ambient ] && echo "Through the Gateway API ingress: kubectl -n bookinfo port-forward svc/bookinfo-gateway-istio 8080:80, then http://localhost:8080/productpage"
[ $OVERLAY = istio ] && echo "Through Istio's ingress gateway: kubectl -n istio-system port-forward svc/istio-ingressgateway 8080:80, then http://localhost:8080/productpage and http://localhost:8080/web/"
echo "Check it: GATEWAY_URL=localhost:8080 scripts/smoke.sh"
