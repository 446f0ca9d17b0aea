#!/usr/bin/env bash
# Checks a running deployment the way the originals' test scripts do, but asserting: one line per check,
# exit 1 if any fails. Works against the local suite or a cluster's ingress.
#
#   GATEWAY_URL=host:port scripts/smoke.sh        (or INGRESS_HOST and INGRESS_PORT, as in Istio's docs)
#   STORAGE_URL=host:port   the storage app (default: GATEWAY_URL, as the storage demo routes / through the gateway)
#   ETCD_URL=host:port      etcd's client port, for the direct checks (skipped when unset)
set -uo pipefail

GATEWAY_URL=${GATEWAY_URL:-${INGRESS_HOST:+$INGRESS_HOST:${INGRESS_PORT:-80}}}
[ -n "$GATEWAY_URL" ] || { echo "usage: GATEWAY_URL=host:port $0 (or set INGRESS_HOST and INGRESS_PORT)" >&2; exit 2; }
STORAGE_URL=${STORAGE_URL:-$GATEWAY_URL}
ETCD_URL=${ETCD_URL:-}
KEY="smoke-$(date +%s)-$$"
source "$(dirname "$0")/lib.sh"
CHECK_SCOPE=smoke passed=0 failed=0

# expect LABEL EXPECTED ACTUAL: a check that ACTUAL contains EXPECTED.
expect() {
    [[ "$3" == *"$2"* ]]
    check "$1" $? "expected «$2», got «${3:0:200}»"
}
fetch() { curl -s --max-time 15 -w '\n%{http_code}' "$@" 2>&1; }

page=$(fetch "http://$GATEWAY_URL/productpage")
expect "productpage answers 200" $'\n200' "$page"
expect "productpage title" "<title>Simple Bookstore App</title>" "$page"
expect "productpage details" "Book Details" "$page"
expect "productpage reviews" "Reviews served by:" "$page"
expect "products API" '"title": "The Comedy of Errors"' "$(fetch "http://$GATEWAY_URL/api/v1/products")"
expect "product details API" '"ISBN-10": "1234567890"' "$(fetch "http://$GATEWAY_URL/api/v1/products/0")"
expect "product reviews API" '"reviewer": "Reviewer1"' "$(fetch "http://$GATEWAY_URL/api/v1/products/0/reviews")"
expect "product ratings API" '"Reviewer1": 5' "$(fetch "http://$GATEWAY_URL/api/v1/products/0/ratings")"

expect "storage app ping" "Simple test for liveliness of the application!" "$(fetch "http://$STORAGE_URL/")"
put=$(fetch "http://$STORAGE_URL/storage" -H "Content-Type: application/json" -X PUT -d "{\"key\": \"$KEY\", \"value\":\"Testing Istio using the smoke test\"}")
expect "storage PUT is 201" $'\n201' "$put"
expect "storage PUT text" "nodeAppTesting created(" "$put"
get=$(fetch "http://$STORAGE_URL/storage/$KEY")
expect "storage GET is 200" $'\n200' "$get"
expect "storage GET text" "\"value\":\"Testing Istio using the smoke test\"" "$get"
expect "storage missing key is 404" $'\n404' "$(fetch "http://$STORAGE_URL/storage/$KEY-missing")"
expect "storage DELETE" $'\n200' "$(fetch -X DELETE "http://$STORAGE_URL/storage/$KEY")"

if [ -n "$ETCD_URL" ]; then
    expect "etcd health" '"health":"true"' "$(fetch "http://$ETCD_URL/health")"
    b64=$(printf '/%s-direct' "$KEY" | base64 -w0)
    expect "etcd direct put (v3)" '"revision"' "$(fetch "http://$ETCD_URL/v3/kv/put" -X POST -d "{\"key\":\"$b64\",\"value\":\"$(printf 'simple etcd test' | base64 -w0)\"}")"
    expect "etcd direct read through the app" "simple etcd test" "$(fetch "http://$STORAGE_URL/storage/$KEY-direct")"
    fetch "http://$ETCD_URL/v3/kv/deleterange" -X POST -d "{\"key\":\"$b64\"}" >/dev/null
fi

echo "smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
