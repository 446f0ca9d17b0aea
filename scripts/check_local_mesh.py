#!/usr/bin/env python3
"""Checks the local mesh (scripts/run-local.sh --mesh) with a real Envoy, as a user of Istio's docs would: the storage
demo and Bookinfo through the gateway, every lesson of the README's tables applied with scripts/mesh and removed,
one page's Zipkin trace, load through the gateway with Envoy's counters, and the four defects Envoy showed (spare
connections closed by the app, header limits below Envoy's, SIGTERM under load, a missing Date).

Usage: check_local_mesh.py [ARTIFACTS] [--bin DIR]   (ports are picked free; DIR: other binaries, for a before/after
comparison; prints 'mesh: N passed, N failed')
"""
import http.client
import importlib.machinery
import importlib.util
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from checks import Checks, free_ports


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
loader = importlib.machinery.SourceFileLoader("mesh", os.path.join(ROOT, "scripts", "mesh"))
mesh = importlib.util.module_from_spec(importlib.util.spec_from_loader("mesh", loader))
loader.exec_module(mesh)
check = Checks("local-mesh")
PORT_NAMES = ["PRODUCTPAGE_PORT", "DETAILS_PORT", "RATINGS_PORT", "REVIEWS_V1_PORT", "REVIEWS_V2_PORT",
              "REVIEWS_V3_PORT", "STORAGE_PORT", "ETCD_CLIENT_PORT", "ETCD_PEER_PORT", "GATEWAY_PORT"]
SORRY = "Sorry, product reviews are currently unavailable for this book."
# Istio's access-log line: time, request line, code, flags, details, termination, failure, bytes, durations, ids,
# upstream host and cluster, addresses, SNI and route name.
ISTIO_LINE = re.compile(
    r'^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] "(?P<method>[A-Z]+) (?P<path>\S+) HTTP/1\.1" (?P<code>\d{3}) (?P<flags>\S+) '
    r'\S+ \S+ "[^"]*" \d+ \d+ \d+ (\d+|-) "[^"]*" "[^"]*" "(?P<id>[^"]*)" "[^"]*" "(?P<upstream>[^"]*)" '
    r'(?P<cluster>\S+) \S+ \S+ \S+ \S+ (?P<route>\S+)$')



def request(method, url, headers=(), body=None, timeout=20):
    """(status, {lower-case name: value}, text); status 0 with the error as text when there is no answer."""
    match = re.match(r"http://([^/:]+):(\d+)(/.*)", url)
    connection = http.client.HTTPConnection(match.group(1), int(match.group(2)), timeout=timeout)
    try:
        connection.putrequest(method, match.group(3), skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read().decode(errors="replace")
    except OSError as error:
        return 0, {}, str(error)
    finally:
        connection.close()


def version_of(html):
    if 'style="color:black"' in html:
        return "v2"
    if 'style="color:red"' in html:
        return "v3"
    return "v1" if "Book Reviews" in html else None


def stats(admin, pattern):
    """The counters of a proxy whose names match `pattern`, by name."""
    query = urllib.parse.quote(pattern, safe="")
    with urllib.request.urlopen(f"http://127.0.0.1:{admin}/stats?filter={query}", timeout=5) as answer:
        lines = answer.read().decode().splitlines()
    return {name: int(value) for name, value in (line.split(": ", 1) for line in lines) if value.strip().isdigit()}


def envoy_counters(admins, names):
    """Every cluster's counters of the given names, over every proxy: {proxy/cluster.name: value}."""
    out = {}
    for proxy, admin in admins.items():
        for name, value in stats(admin, r"^cluster\..*\.(" + "|".join(names) + ")$").items():
            out[f"{proxy}/{name}"] = value
    return out


def loadgen(binary, url, requests, concurrency, headers=(), rate=None):
    extra = [a for h in headers for a in ("-H", h)] + (["--rps", str(rate)] if rate else [])
    run = subprocess.run([binary, "-n", str(requests), "-c", str(concurrency), *extra, url], capture_output=True, text=True, timeout=300)
    codes = {int(c): int(n) for c, n in re.findall(r"^\s+(\d{3}): (\d+)", run.stdout, re.M)}
    return codes, run.stdout


class Recorder(ThreadingHTTPServer):
    """A Zipkin collector: keeps the spans Envoy posts (JSON v2)."""

    daemon_threads = True

    def __init__(self):
        self.spans, self.lock = [], threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    body = b""
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        body += self.rfile.read(size)
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                else:
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    spans = json.loads(body)
                except ValueError:
                    spans = []
                with recorder.lock:
                    recorder.spans += spans
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        Handler.protocol_version = "HTTP/1.1"  # keeps Envoy's connection, as a collector does
        super().__init__(("127.0.0.1", 0), Handler)

    def take(self):
        with self.lock:
            spans, self.spans = self.spans, []
        return spans


class Suite:
    """scripts/run-local.sh --mesh on free ports, in a state directory of its own."""

    def __init__(self, artifacts, binaries, zipkin, extra=(), name="mesh-run-local"):
        self.state = tempfile.mkdtemp(prefix="mesh-suite-")
        ports = free_ports(len(PORT_NAMES) + 1)
        self.ports = dict(zip(PORT_NAMES + ["MYSQL_PORT"], ports))
        base = 20000 + (os.getpid() % 100) * 200 + (100 if extra else 0)
        self.env = dict(os.environ, STATE_DIR=self.state, MESH_PORT_BASE=str(base), MESH_ZIPKIN_ADDRESS=zipkin,
                        **{k: str(v) for k, v in self.ports.items()})
        if binaries:
            self.env["SUITE_BIN"] = binaries
        self.log_path = os.path.join(artifacts, name + ".log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["scripts/run-local.sh", "--mesh", "--debug", "--no-build", *extra], cwd=ROOT, env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.gateway = f"http://127.0.0.1:{self.ports['GATEWAY_PORT']}"

    def wait_ready(self, seconds=180):
        end = time.time() + seconds
        while time.time() < end and self.proc.poll() is None:
            with open(self.log_path) as f:
                if "\nREADY" in f.read():
                    self.topology = json.load(open(os.path.join(self.state, "mesh", "topology.json")))
                    self.admins = {p["name"]: p["admin"] for p in mesh.proxies(self.topology)}
                    self.workloads = {w["name"]: w for w in self.topology["workloads"]}
                    return True
            time.sleep(0.3)
        return False

    def mesh(self, *args):
        run = subprocess.run(["scripts/mesh", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=60)
        return run.returncode, run.stdout + run.stderr

    def access_log(self, proxy):
        path = os.path.join(self.state, "logs", "mesh", proxy + ".access.log")
        return open(path).read().splitlines() if os.path.exists(path) else []

    def processes(self):
        """Processes still running whose command line names this suite's state directory (the proxies)."""
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if self.state in open(f"/proc/{pid}/cmdline").read():
                    found.append(int(pid))
            except OSError:
                pass
        return found

    def stop(self):
        """Ctrl-C as a terminal sends it (SIGINT to the script's process group); returns the exit status."""
        status = None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                status = self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()
        return status


def login(gateway, user):
    status, headers, _ = request("POST", gateway + "/login", [("Content-Type", "application/x-www-form-urlencoded")],
                                 f"username={user}&passwd=any".encode())
    cookie = headers.get("set-cookie", "").split(";")[0]
    return cookie if status == 302 and cookie else None


def pages(gateway, count, cookie=None, extra=()):
    headers = ([("Cookie", cookie)] if cookie else []) + list(extra)
    seen = []
    for _ in range(count):
        status, _, html = request("GET", gateway + "/productpage", headers)
        seen.append(version_of(html) if status == 200 else f"status {status}")
    return seen


def share(seen, version):
    return sum(v == version for v in seen) / len(seen)


def within(observed, expected, n, sigmas=4.5):
    """A binomial share within `sigmas` standard deviations (4.5: a false failure about once in 150,000 runs)."""
    return abs(observed - expected) <= sigmas * math.sqrt(expected * (1 - expected) / n) + 1e-9


# ---------------------------------------------------------------------------------------------------------------------


def storage_demo(suite):
    put_status, put_headers, put_text = request("PUT", suite.gateway + "/storage", [("Content-Type", "application/json")],
                                                b'{"key": "istioTestNode", "value": "Testing Istio"}')
    check("the storage demo's PUT through the gateway answers 'nodeAppTesting created(…'", put_status == 201 and "nodeAppTesting created(" in put_text,
          f"{put_status} {put_text}")
    get_status, get_headers, get_text = request("GET", suite.gateway + "/storage/istioTestNode")
    check("the storage demo's GET through the gateway answers the value", get_status == 200 and '"value":"Testing Istio"' in get_text,
          f"{get_status} {get_text}")
    for name, headers in (("PUT", put_headers), ("GET", get_headers)):
        check(f"the {name} answer carries server: envoy and x-envoy-upstream-service-time",
              headers.get("server") == "envoy" and headers.get("x-envoy-upstream-service-time", "").isdigit(), headers)
    time.sleep(2.5)  # the proxies flush their access logs every second
    client = [ISTIO_LINE.match(line) for line in suite.access_log("storage-app-v1")]
    server = [ISTIO_LINE.match(line) for line in suite.access_log("etcd-v1")]
    puts_out = [m for m in client if m and m["path"] == "/v3/kv/put" and m["cluster"] == "outbound|2379||etcd-service"]
    reads_out = [m for m in client if m and m["path"] == "/v3/kv/range" and m["cluster"] == "outbound|2379||etcd-service"]
    puts_in = [m for m in server if m and m["path"] == "/v3/kv/put" and m["cluster"] == "inbound|2379||etcd-v1"]
    reads_in = [m for m in server if m and m["path"] == "/v3/kv/range" and m["cluster"] == "inbound|2379||etcd-v1"]
    check("the storage app's sidecar logs its calls to etcd in Istio's format (client side: outbound|2379||etcd-service)",
          puts_out and reads_out and all(m["code"] == "200" for m in puts_out + reads_out), suite.access_log("storage-app-v1")[-4:])
    check("etcd's sidecar logs the same calls in Istio's format (server side: inbound|2379||etcd-v1), same request ids",
          puts_in and reads_in and {m["id"] for m in puts_out} & {m["id"] for m in puts_in}, suite.access_log("etcd-v1")[-4:])
    inbound = [m for m in client if m and m["path"] in ("/storage", "/storage/istioTestNode") and m["cluster"] == "inbound|9080||storage-app-v1"]
    check("the storage app's sidecar also logs the two requests it received (inbound)", len(inbound) >= 2, suite.access_log("storage-app-v1")[-4:])


def bookinfo(suite):
    status, headers, html = request("GET", suite.gateway + "/productpage")
    check("the page through the gateway: 200 with Bookinfo's title", status == 200 and "<title>Simple Bookstore App</title>" in html, status)
    seen = pages(suite.gateway, 6)
    check("reloads show reviews v1, v2 and v3 in turn (round robin)",
          all(sorted(seen[i:i + 3]) == ["v1", "v2", "v3"] for i in (0, 3)), seen)
    cookie = login(suite.gateway, "jason")
    _, _, html = request("GET", suite.gateway + "/productpage", [("Cookie", cookie or "")])
    check("signing in as jason through the gateway shows his name", cookie and 'id="user">jason' in html.replace("\n", ""), cookie)
    return cookie


def lessons(suite, jason):
    """The README's tables, one lesson at a time from the default state, each removed after."""
    def apply(*files):
        code, out = suite.mesh("apply", *files)
        if code != 0:
            check(f"scripts/mesh apply {' '.join(files)}", False, out)
        return code == 0

    def delete(*files):
        code, out = suite.mesh("delete", *files)
        if code != 0:
            check(f"scripts/mesh delete {' '.join(files)}", False, out)

    L = "k8s/lessons/"
    n = 200
    if apply(L + "virtual-service-all-v1.yaml"):
        seen = pages(suite.gateway, 20) + pages(suite.gateway, 10, jason)
        check("all-v1: never any stars (30 pages, jason too)", set(seen) == {"v1"}, seen)
        delete(L + "virtual-service-all-v1.yaml")
    if apply(L + "virtual-service-reviews-test-v2.yaml"):
        mine, others = pages(suite.gateway, 10, jason), pages(suite.gateway, 10)
        check("reviews-test-v2: jason black stars, everyone else none", set(mine) == {"v2"} and set(others) == {"v1"}, (mine, others))
        forged = pages(suite.gateway, 10, extra=[("end-user", "jason")])
        check("an end-user: jason header sent from outside never routes as jason", set(forged) == {"v1"}, forged)
        delete(L + "virtual-service-reviews-test-v2.yaml")
    if apply(L + "virtual-service-reviews-jason-v2-v3.yaml"):
        mine, others = pages(suite.gateway, 10, jason), pages(suite.gateway, 10)
        check("reviews-jason-v2-v3: jason black, everyone else red", set(mine) == {"v2"} and set(others) == {"v3"}, (mine, others))
        delete(L + "virtual-service-reviews-jason-v2-v3.yaml")
    for lesson, split in (("virtual-service-reviews-50-v3.yaml", {"v1": 0.5, "v3": 0.5}),
                          ("virtual-service-reviews-80-20.yaml", {"v1": 0.8, "v2": 0.2}),
                          ("virtual-service-reviews-90-10.yaml", {"v1": 0.9, "v2": 0.1}),
                          ("virtual-service-reviews-v2-v3.yaml", {"v2": 0.5, "v3": 0.5}),
                          ("virtual-service-reviews-v3.yaml", {"v3": 1.0})):
        if apply(L + lesson):
            seen = pages(suite.gateway, n)
            observed = {v: round(share(seen, v), 3) for v in sorted(set(seen))}
            ok = set(seen) <= set(split) and all(within(share(seen, v), p, n) for v, p in split.items())
            check(f"{lesson.removesuffix('.yaml')}: {n} pages split {observed}, expected {split} within 4.5 binomial sigmas", ok, observed)
            delete(L + lesson)
    if apply(L + "virtual-service-reviews-test-v2.yaml", L + "virtual-service-ratings-test-delay.yaml"):
        start = time.monotonic()
        status, _, html = request("GET", suite.gateway + "/productpage", [("Cookie", jason)])
        elapsed = time.monotonic() - start
        check(f"ratings-test-delay: jason's page says '{SORRY}' after {elapsed:.3f} s (productpage's 2 x 3 s)",
              status == 200 and SORRY in html and 5.5 <= elapsed <= 9, (status, elapsed))
        others = pages(suite.gateway, 3)
        check("ratings-test-delay: everyone else gets the page without stars at once", set(others) == {"v1"}, others)
        delete(L + "virtual-service-ratings-test-delay.yaml")
        if apply(L + "virtual-service-ratings-test-abort.yaml"):
            status, _, html = request("GET", suite.gateway + "/productpage", [("Cookie", jason)])
            check("ratings-test-abort: jason sees 'Ratings service is currently unavailable'",
                  status == 200 and "Ratings service is currently unavailable" in html, status)
            delete(L + "virtual-service-ratings-test-abort.yaml")
        delete(L + "virtual-service-reviews-test-v2.yaml")
    if apply(L + "fault-injection-details-v1.yaml"):
        status, _, html = request("GET", suite.gateway + "/productpage")
        api, _, _ = request("GET", suite.gateway + "/api/v1/products/0")
        check("fault-injection-details-v1: 'Error fetching product details' on the page, the API passes 555 through",
              status == 200 and "Error fetching product details" in html and api == 555, (status, api))
        delete(L + "fault-injection-details-v1.yaml")
    G = "k8s/gateway-api/"
    if apply(G + "route-reviews-90-10.yaml"):
        seen = pages(suite.gateway, n)
        observed = {v: round(share(seen, v), 3) for v in sorted(set(seen))}
        check(f"HTTPRoute route-reviews-90-10 (parent: the reviews Service): {observed}",
              set(seen) <= {"v1", "v2"} and within(share(seen, "v1"), 0.9, n), observed)
        delete(G + "route-reviews-90-10.yaml")
    if apply(G + "route-reviews-test-v2.yaml"):
        mine, others = pages(suite.gateway, 10, jason), pages(suite.gateway, 10)
        check("HTTPRoute route-reviews-test-v2: jason black stars, everyone else none", set(mine) == {"v2"} and set(others) == {"v1"}, (mine, others))
        delete(G + "route-reviews-test-v2.yaml")
    seen = pages(suite.gateway, 6)
    check("after every lesson is removed, reviews v1, v2 and v3 are back in turn", sorted(seen) == ["v1", "v1", "v2", "v2", "v3", "v3"], seen)


def mysql_lesson(artifacts, binaries, zipkin):
    """virtual-service-ratings-mysql.yaml on a mesh whose ratings is v2 on Debian's MariaDB (--with-mysql)."""
    suite = Suite(artifacts, binaries, zipkin, extra=["--with-mysql"], name="mesh-run-local-mysql")
    try:
        if not suite.wait_ready():
            check("--mesh --with-mysql starts MariaDB, ratings v2-mysql and the proxies", False, open(suite.log_path).read()[-1500:])
            return
        code, out = suite.mesh("apply", "k8s/lessons/virtual-service-ratings-mysql.yaml")

        def stars():
            status, _, html = request("GET", suite.gateway + "/productpage")
            return status, html.count('glyphicon glyphicon-star"'), 'style="color:red"' in html

        before = stars()
        update = subprocess.run(["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(suite.ports["MYSQL_PORT"]), "-u", "root",
                                 "-ppassword", "test", "-e", "update ratings set rating=1 where reviewid=1;"], capture_output=True, text=True)
        after = stars()
        check(f"ratings-mysql: red stars from the database, {before[1]} filled, then {after[1]} after the update (5 + 4, 1 + 4)",
              code == 0 and before == (200, 9, True) and update.returncode == 0 and after == (200, 5, True), (out, before, after, update.stderr))
    finally:
        suite.stop()


def refusals(suite):
    before = open(os.path.join(suite.state, "mesh", "applied.json")).read()
    bad = os.path.join(suite.state, "bad-lesson.yaml")
    with open(bad, "w") as f:
        f.write("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\nspec:\n"
                "  hosts: [reviews]\n  http:\n  - mirror: {host: reviews, subset: v2}\n    route:\n"
                "    - destination: {host: reviews, subset: v1}\n")
    code, out = suite.mesh("apply", "k8s/lessons/virtual-service-all-v1.yaml", bad)
    after = open(os.path.join(suite.state, "mesh", "applied.json")).read()
    check("a field the mesh cannot honour is refused in one line naming the file and the field, nothing changes",
          code == 1 and out.strip().count("\n") == 0 and bad in out and "spec.http[0].mirror" in out and before == after, out)
    code, out = suite.mesh("apply", "k8s/istio/destination-rules-mtls.yaml")
    check("an mTLS mode is accepted with a note that it is not emulated", code == 0 and "not emulated" in out, out)
    suite.mesh("apply", "k8s/istio/destination-rules.yaml")
    code, out = suite.mesh("status")
    check("scripts/mesh status lists every proxy LIVE and what is applied",
          code == 0 and out.count(" LIVE ") == len(suite.admins) and "DestinationRule/reviews" in out, out)


def tracing(suite, recorder):
    suite.mesh("apply", "k8s/lessons/virtual-service-reviews-v3.yaml")
    time.sleep(6)  # spans of earlier requests still in the proxies' buffers arrive
    recorder.take()
    status, _, _ = request("GET", suite.gateway + "/productpage")
    spans, end = [], time.time() + 20
    while time.time() < end:  # Envoy posts spans every 5 s
        time.sleep(1)
        spans += recorder.take()
        services = {s.get("localEndpoint", {}).get("serviceName") for s in spans}
        if {"ratings.default", "details.default"} <= services and len(spans) >= 8:
            time.sleep(1.5)
            spans += recorder.take()
            break
    suite.mesh("delete", "k8s/lessons/virtual-service-reviews-v3.yaml")
    traces = {s["traceId"] for s in spans}
    check(f"one page load gives one trace ({len(spans)} spans, {len(traces)} trace ids)", status == 200 and len(traces) == 1, traces)
    ids = {s["id"]: s for s in spans}
    orphans = [s for s in spans if s.get("parentId") and s["parentId"] not in ids]
    roots = [s for s in spans if not s.get("parentId")]
    check("no orphan span, one root (the gateway's)", not orphans and len(roots) == 1
          and roots[0].get("localEndpoint", {}).get("serviceName", "").startswith("istio-ingressgateway"), (orphans, roots))

    def chain(span):
        names = []
        while span:
            name = span.get("localEndpoint", {}).get("serviceName", "?").split(".")[0]
            if not names or names[-1] != name:
                names.append(name)
            span = ids.get(span.get("parentId"))
        return list(reversed(names))

    chains = {" → ".join(chain(s)) for s in spans if not any(c.get("parentId") == s["id"] for c in spans)}
    expected = {"istio-ingressgateway → productpage → details", "istio-ingressgateway → productpage → reviews → ratings"}
    check(f"the tree: {sorted(chains)}", chains == expected, sorted(chains))
    return sorted(chains), spans


def load(suite, binary):
    names = ["upstream_cx_protocol_error", "upstream_rq_5xx", "upstream_cx_destroy_remote_with_active_rq"]
    before = envoy_counters(suite.admins, names)
    page, page_out = loadgen(binary, suite.gateway + "/productpage", 1500, 10)
    store, store_out = loadgen(binary, suite.gateway + "/storage/istioTestNode", 1500, 10)
    after = envoy_counters(suite.admins, names)
    moved = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    check(f"load through the gateway: page {page}, storage {store}: all 2xx",
          set(page) == {200} and set(store) == {200} and sum(page.values()) == 1500 and sum(store.values()) == 1500, page_out + store_out)
    totals = {n: sum(v - before.get(k, 0) for k, v in after.items() if k.endswith("." + n)) for n in names}
    check(f"Envoy's counters over every proxy stay 0 under the load: {totals}", not moved, moved)
    return page_out, store_out, totals


# The four defects -----------------------------------------------------------------------------------------------------


def spare_connections(suite, binary):
    """Bursts through the details sidecar with idle gaps past the server's timeouts: Envoy closes first, always."""
    workload = suite.workloads["details-v1"]
    admin, inbound = workload["admin"], workload["inbound"]
    counter = "cluster.inbound|9080||details-v1.upstream_cx_destroy_remote"
    opened = "cluster.inbound|9080||details-v1.upstream_cx_total"

    def read():
        values = stats(admin, r"^cluster\.inbound\|9080\|\|details-v1\.upstream_cx_(destroy_remote|total)$")
        return values.get(counter, 0), values.get(opened, 0)

    def burst(concurrency, requests):
        # Two clients at once, each above the pool Envoy holds: it opens connections for waiting requests, and
        # those that come up after another connection took the request stay in its pool unused.
        runs = [threading.Thread(target=loadgen, args=(binary, f"http://127.0.0.1:{inbound}/details/0", requests, concurrency))
                for _ in range(2)]
        for run in runs:
            run.start()
        for run in runs:
            run.join()

    start_closed, start_opened = read()
    for (concurrency, requests), gap in (((100, 200), 6), ((200, 400), 11)):  # past the old first-request (5 s) and header (10 s) timeouts
        burst(concurrency, requests)
        time.sleep(gap)
    burst(300, 300)
    closed, total = read()
    check(f"after bursts of rising concurrency with 6-s and 11-s idle gaps, the app closed none of the {total - start_opened} connections Envoy "
          f"opened (upstream_cx_destroy_remote +{closed - start_closed})", closed == start_closed and total > start_opened,
          (closed - start_closed, total - start_opened))
    return closed - start_closed, total - start_opened


def silent_clients(binary_dir, artifacts):
    """Silent connections stay bounded: by count (at the connection limit the oldest idle one, silent or kept alive,
    makes room) and by HTTP_SERVER_FIRST_REQUEST_TIMEOUT when it is set short."""
    port, short_port = free_ports(2)
    env = dict(os.environ, HTTP_SERVER_HOST="127.0.0.1", HTTP_SERVER_MAX_CONNECTIONS="8", LOG_REQUESTS="false")
    log = open(os.path.join(artifacts, "mesh-silent-details.log"), "w")
    apps = [subprocess.Popen([os.path.join(binary_dir, "details"), str(port)], env=env, stdout=log, stderr=log),
            subprocess.Popen([os.path.join(binary_dir, "details"), str(short_port)], stdout=log, stderr=log,
                             env=dict(env, HTTP_SERVER_FIRST_REQUEST_TIMEOUT="1s", HTTP_SERVER_MAX_CONNECTIONS="4096"))]
    try:
        for p in (port, short_port):
            end = time.time() + 20
            while time.time() < end and request("GET", f"http://127.0.0.1:{p}/health", timeout=2)[0] != 200:
                time.sleep(0.1)
        silent = []
        for _ in range(8):
            silent.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            time.sleep(0.05)
        time.sleep(0.3)
        status, _, _ = request("GET", f"http://127.0.0.1:{port}/details/0")
        silent[0].settimeout(3)
        try:
            evicted = silent[0].recv(1) == b""
        except OSError:
            evicted = True
        check(f"at the connection limit (8 silent clients) a request is served ({status}) and the oldest silent one closed",
              status == 200 and evicted, (status, evicted))
        quiet = socket.create_connection(("127.0.0.1", short_port), timeout=5)
        started = time.monotonic()
        quiet.settimeout(10)
        try:
            closed = quiet.recv(1) == b""
        except OSError:
            closed = False
        waited = time.monotonic() - started
        check(f"with HTTP_SERVER_FIRST_REQUEST_TIMEOUT=1s a silent client is closed after {waited:.1f} s", closed and 0.8 <= waited <= 5, waited)
        for connection in silent + [quiet]:
            connection.close()
    finally:
        for app in apps:
            app.kill()
            app.wait()
        log.close()


def header_limits(suite):
    """The most fields, and the largest head, that Envoy's defaults accept reach the app through one sidecar."""
    workload = suite.workloads["details-v1"]
    url = f"http://127.0.0.1:{workload['inbound']}/details/0"

    def send(count, size=10):
        return request("GET", url, [(f"x-fill-{i}", "v" * size) for i in range(count)])

    def from_envoy(answer):
        return "x-envoy-upstream-service-time" not in answer[1]

    low, high = 1, 200  # the most extra fields Envoy lets through, found by bisection
    while low < high:
        middle = (low + high + 1) // 2
        answer = send(middle)
        if answer[0] == 431 and from_envoy(answer):
            high = middle - 1
        else:
            low = middle
    status, headers, body = send(low)
    over, _, _ = send(low + 1)
    check(f"the most header fields Envoy accepts ({low} + the client's 2) reach the app: {status}",
          status == 200 and not from_envoy((status, headers, body)) and over == 431, (status, body[:200], over))
    size_low, size_high = 1000, 80000  # the largest single field Envoy lets through
    while size_low < size_high:
        middle = (size_low + size_high + 1) // 2
        answer = send(1, middle)
        if answer[0] == 431 and from_envoy(answer):
            size_high = middle - 1
        else:
            size_low = middle
    status, headers, body = send(1, size_low)
    check(f"the largest head Envoy accepts (one {size_low}-byte field) reaches the app: {status}",
          status == 200 and not from_envoy((status, headers, body)), (status, body[:200]))
    return low, status, size_low


def dates(suite):
    """Every response straight from an app carries a valid Date, errors and server refusals too."""
    answers = []
    for name, port, path in (("productpage", "PRODUCTPAGE_PORT", "/productpage"), ("details", "DETAILS_PORT", "/details/0"),
                             ("ratings", "RATINGS_PORT", "/ratings/0"), ("reviews", "REVIEWS_V2_PORT", "/reviews/0"),
                             ("storage-app", "STORAGE_PORT", "/storage/istioTestNode"), ("details", "DETAILS_PORT", "/nothing-here")):
        status, headers, _ = request("GET", f"http://127.0.0.1:{suite.ports[port]}{path}")
        answers.append((name, path, status, headers.get("date")))
    with socket.create_connection(("127.0.0.1", suite.ports["DETAILS_PORT"]), timeout=5) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        head = raw.recv(4096).decode(errors="replace")
    refused = re.search(r"\r\nDate: ([^\r]*)\r\n", head, re.I)
    answers.append(("details", "two Host fields", int(head.split(" ")[1]) if head.startswith("HTTP/") else 0, refused and refused.group(1)))
    fixdate = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")
    now = time.time()
    good = []
    for name, path, status, date in answers:
        ok = bool(date and fixdate.match(date))
        if ok:
            sent = time.mktime(time.strptime(date, "%a, %d %b %Y %H:%M:%S GMT")) - time.timezone
            ok = abs(sent - now) < 30
        good.append(ok)
    check(f"every answer straight from the apps carries a valid Date ({sum(good)} of {len(good)}: 2xx, 404, 400)", all(good), answers)
    return answers


def sigterm_under_load(suite, binary_dir, artifacts, requests=40000, concurrency=50, rate=4000):
    """Two details replicas behind one Envoy with Istio's default retry policy; one gets SIGTERM 2 s into 10 s of load
    (4,000 requests a second, 50 at once) with the manifests' SHUTDOWN_DELAY=5s and exits at about 7 s. No request
    fails, and the app closes none of Envoy's connections under it: every remote close Envoy counts is a refused
    connect after the exit (upstream_cx_destroy_remote equals upstream_cx_connect_fail)."""
    ports = free_ports(4)
    app_ports, listen, admin = ports[:2], ports[2], ports[3]
    folder = tempfile.mkdtemp(prefix="mesh-sigterm-")
    env = dict(os.environ, HTTP_SERVER_HOST="127.0.0.1", SHUTDOWN_DELAY="5s", SHUTDOWN_TIMEOUT="20s", LOG_REQUESTS="false")
    apps = [subprocess.Popen([os.path.join(binary_dir, "details"), str(p)], env=env, stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(artifacts, f"mesh-sigterm-details-{i}.log"), "w")) for i, p in enumerate(app_ports)]
    topology = {"logs": folder, "sampling": 0.0, "xds": folder}
    proxy = {"name": "client", "kind": "sidecar"}
    route = {"name": "details", "validate_clusters": False, "virtual_hosts": [{"name": "details", "domains": ["*"], "routes": [
        {"match": {"prefix": "/"}, "route": {"cluster": "outbound|9080||details", "timeout": "0s", "retry_policy": {
            "retry_on": mesh.DEFAULT_RETRY_ON, "num_retries": 2, "retry_host_predicate": [mesh.PREVIOUS_HOSTS],
            "host_selection_retry_max_attempts": 5}}}]}]}
    manager = mesh.http_manager(topology, proxy, "outbound_details", route, inbound=True)
    del manager["tracing"]
    bootstrap = {"admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin}}},
                 "static_resources": {"listeners": [mesh.listener("details", listen, "OUTBOUND", manager)],
                                      "clusters": [mesh.static_cluster("outbound|9080||details", app_ports)]}}
    with open(os.path.join(folder, "envoy.json"), "w") as f:
        json.dump(bootstrap, f)
    envoy = subprocess.Popen([os.path.join(ROOT, ".envoy", "bin", "envoy"), "-c", os.path.join(folder, "envoy.json"),
                              "--disable-hot-restart", "--concurrency", "1", "-l", "warning"],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(artifacts, "mesh-sigterm-envoy.log"), "w"))
    try:
        for port in app_ports + [listen]:
            end = time.time() + 20
            while time.time() < end and request("GET", f"http://127.0.0.1:{port}/details/0", timeout=2)[0] != 200:
                time.sleep(0.2)
        load_result = {}

        def run():
            load_result["codes"], load_result["out"] = loadgen(os.path.join(binary_dir, "loadgen"),
                                                               f"http://127.0.0.1:{listen}/details/0", requests, concurrency,
                                                               rate=rate)

        runner = threading.Thread(target=run)
        runner.start()
        time.sleep(2)
        apps[0].send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        apps[0].wait(timeout=40)
        exited = time.monotonic() - signalled
        runner.join(timeout=300)
        counters = stats(admin, r"^cluster\.outbound\|9080\|\|details\.upstream_(cx_destroy_remote_with_active_rq|rq_5xx|cx_connect_fail|rq_retry|cx_destroy_remote|cx_destroy_local|cx_total)$")
        codes = load_result.get("codes", {})
        failed = sum(n for c, n in codes.items() if not 200 <= c < 300)
        prefix = "cluster.outbound|9080||details.upstream_"
        resets = counters.get(prefix + "cx_destroy_remote_with_active_rq", -1)
        closed_under = counters.get(prefix + "cx_destroy_remote", 0) - counters.get(prefix + "cx_connect_fail", 0)
        check(f"SIGTERM under load through Envoy (SHUTDOWN_DELAY=5s, exit after {exited:.1f} s): {sum(codes.values())} requests, "
              f"{failed} failed, {closed_under} connections closed by the app under Envoy, {resets} with a request in flight",
              failed == 0 and resets == 0 and closed_under == 0 and sum(codes.values()) == requests,
              (codes, counters, load_result.get("out", "")[-300:]))
        return codes, counters, exited
    finally:
        for process in apps + [envoy]:
            if process.poll() is None:
                process.kill()
                process.wait()


def memory(suite):
    """Resident memory of each proxy and each app, from /proc."""
    rows = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            command = open(f"/proc/{pid}/cmdline").read().split("\0")
            status = open(f"/proc/{pid}/status").read()
        except OSError:
            continue
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) if "VmRSS" in status else 0
        if any(suite.state in part for part in command) and "envoy" in command[0]:
            rows.append(("proxy", os.path.basename(command[command.index("-c") + 1]).removesuffix(".json"), rss))
        elif os.path.basename(command[0]) in ("productpage", "details", "reviews", "ratings", "storage-app") and \
                any(str(p) in command for p in suite.ports.values()):
            rows.append(("app", os.path.basename(command[0]), rss))
    return rows


def main(argv):
    args = [a for a in argv[1:]]
    binaries = None
    if "--bin" in args:
        binaries = args[args.index("--bin") + 1]
        del args[args.index("--bin"):args.index("--bin") + 2]
    artifacts = args[0] if args else "artifacts"
    os.makedirs(artifacts, exist_ok=True)
    binary_dir = binaries or subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    recorder = Recorder()
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    suite = Suite(artifacts, binaries, f"127.0.0.1:{recorder.server_address[1]}")
    summary = {}
    try:
        ready = suite.wait_ready()
        check("scripts/run-local.sh --mesh starts every app, nine proxies and the gateway", ready, open(suite.log_path).read()[-2000:])
        if ready:
            storage_demo(suite)
            jason = bookinfo(suite) or ""
            summary["dates"] = dates(suite)
            summary["headers"] = header_limits(suite)
            summary["spare"] = spare_connections(suite, os.path.join(binary_dir, "loadgen"))
            lessons(suite, jason)
            refusals(suite)
            summary["trace"] = tracing(suite, recorder)[0]
            summary["load"] = load(suite, os.path.join(binary_dir, "loadgen"))[2]
            summary["memory"] = memory(suite)
    finally:
        status = suite.stop()
    listening = [p for p in (suite.ports["GATEWAY_PORT"], suite.ports["DETAILS_PORT"]) if socket.socket().connect_ex(("127.0.0.1", p)) == 0]
    check(f"Ctrl-C stops the suite (status {status}) and every proxy with it", status == 0 and not suite.processes() and not listening,
          (status, suite.processes(), listening))
    mysql_lesson(artifacts, binaries, f"127.0.0.1:{recorder.server_address[1]}")
    summary["sigterm"] = sigterm_under_load(suite, binary_dir, artifacts)[:2]
    silent_clients(binary_dir, artifacts)
    with open(os.path.join(artifacts, "mesh-summary.json"), "w") as f:
        json.dump(summary, f, indent=1, default=str)
    for kind, name, rss in sorted(summary.get("memory", [])):
        print(f"memory: {kind:<5} {name:<22} {rss / 1024:6.1f} MiB")
    return check.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
