#!/usr/bin/env bash
# Removes everything scripts/deploy.sh created (the bookinfo namespace with its objects, lessons included).
#   scripts/cleanup.sh [--keep-data]   --keep-data keeps etcd's persistent volume claim
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--keep-data" ]; then
    kubectl -n bookinfo delete virtualservices,destinationrules,gateways.networking.istio.io,authorizationpolicies,peerauthentications --all --ignore-not-found
    kubectl -n bookinfo delete httproutes,gateways.gateway.networking.k8s.io --all --ignore-not-found 2>/dev/null || true
    kubectl -n bookinfo delete -k k8s/base --ignore-not-found
else
    kubectl delete namespace bookinfo --ignore-not-found
fi
echo "Application cleanup successful"
