#!/usr/bin/env python3
"""Checks what k8s/observability ships, end to end against a real Prometheus: the rules (promtool check and unit
tests), the ConfigMaps, and the local suite started with --observe beside a faulty ratings and a reviews that calls
it, under load from loadgen. Through Prometheus' HTTP API: every target is up, every service has traffic, reviews'
traffic is split over v1, v2 and v3, each call-graph edge has a rate, the alerts fire for the faulty pair and no
other, every PromQL expression of the dashboard returns data, and each service's /metrics passes promtool's lint.
Then a Prometheus graph is saved as a screenshot from headless Chromium.

Usage: check_observability.py ARTIFACTS_DIR   (ports are picked free; prints 'observability: N passed, N failed')
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from checks import Checks, free_ports


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OBSERVABILITY = os.path.join(ROOT, "k8s", "observability")
ARTIFACTS = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "artifacts"))
PORT_NAMES = ["PRODUCTPAGE_PORT", "DETAILS_PORT", "RATINGS_PORT", "REVIEWS_V1_PORT", "REVIEWS_V2_PORT",
              "REVIEWS_V3_PORT", "STORAGE_PORT", "ETCD_CLIENT_PORT", "ETCD_PEER_PORT", "PROMETHEUS_PORT"]
check = Checks("observability")



def run(command, cwd=ROOT):
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    return done.returncode, (done.stdout + done.stderr).strip()


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


def query(prometheus, expr):
    answer = json.loads(get(prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})))
    return answer["data"]["result"]


def series(prometheus, expr, *labels):
    """The instant vector as {(label values…): value}."""
    return {tuple(r["metric"].get(l, "") for l in labels): float(r["value"][1]) for r in query(prometheus, expr)}


def static_checks():
    status, out = run(["promtool", "check", "rules", "rules/mesh-samples.rules.yml"], cwd=OBSERVABILITY)
    check("promtool check rules", status == 0, out)
    status, out = run(["promtool", "test", "rules", "mesh-samples.rules.test.yml"], cwd=os.path.join(OBSERVABILITY, "rules"))
    check("promtool test rules (recording values, both alerts firing and silent)", status == 0, out)
    status, out = run(["kubectl", "kustomize", "k8s/observability"])
    check("k8s/observability renders the dashboard and rules ConfigMaps",
          status == 0 and out.count("kind: ConfigMap") == 2 and 'grafana_dashboard: "1"' in out, out[:300])
    with open(os.path.join(OBSERVABILITY, "dashboards", "mesh-samples.json")) as f:
        dashboard = json.load(f)
    exprs = [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p["targets"]]
    check(f"the dashboard's {len(dashboard['panels'])} panels each have a PromQL target",
          all(p.get("targets") for p in dashboard["panels"]) and exprs)
    return exprs


def main():
    exprs = static_checks()
    ports = free_ports(len(PORT_NAMES) + 2)
    env = dict(os.environ, STATE_DIR=tempfile.mkdtemp(prefix="observe-"), **dict(zip(PORT_NAMES, map(str, ports))))
    faulty_port, caller_port = ports[-2:]
    prometheus = f"http://127.0.0.1:{env['PROMETHEUS_PORT']}"
    log = open(os.path.join(ARTIFACTS, "observe-suite.log"), "w")
    suite = subprocess.Popen([os.path.join(ROOT, "scripts", "run-local.sh"), "--debug", "--no-build", "--observe"],
                             cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    extras = []
    try:
        deadline = time.time() + 180
        while time.time() < deadline and suite.poll() is None:
            with open(log.name) as f:
                if "READY" in f.read().split():
                    break
            time.sleep(0.5)
        with open(log.name) as f:
            text = f.read()
        check("run-local.sh --observe starts the suite and Prometheus and prints its URL",
              "READY" in text.split() and f"http://localhost:{env['PROMETHEUS_PORT']}/graph" in text, text[-600:])
        if "READY" not in text.split():
            return
        bin_dir = run(["swift", "build", "-c", "debug", "--show-bin-path"])[1].splitlines()[-1]
        base = {"PATH": os.environ["PATH"], "HTTP_SERVER_HOST": "127.0.0.1", "LOG_REQUESTS": "false"}
        extras.append(subprocess.Popen(
            [os.path.join(bin_dir, "ratings"), str(faulty_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=dict(base, SERVICE_VERSION="v-faulty", HOSTNAME="ratings-v-faulty-local")))
        extras.append(subprocess.Popen(
            [os.path.join(bin_dir, "reviews"), str(caller_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=dict(base, SERVICE_VERSION="v2", HOSTNAME="reviews-v2-faulty-ratings-local",
                     RATINGS_HOSTNAME="127.0.0.1", RATINGS_SERVICE_PORT=str(faulty_port))))
        with open(os.path.join(env["STATE_DIR"], "prometheus", "targets", "faulty.json"), "w") as f:
            json.dump([{"targets": [f"127.0.0.1:{faulty_port}"], "labels": {"job": "ratings"}},
                       {"targets": [f"127.0.0.1:{caller_port}"], "labels": {"job": "reviews"}}], f)
        for port in (faulty_port, caller_port):
            for _ in range(100):
                try:
                    get(f"http://127.0.0.1:{port}/ready", 1)
                    break
                except OSError:
                    time.sleep(0.1)
        urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{env['STORAGE_PORT']}/storage", method="PUT", data=b'{"key":"observed","value":"1"}',
            headers={"Content-Type": "application/json"}), timeout=5).read()

        loadgen = os.path.join(bin_dir, "loadgen")
        loads = [[loadgen, "-n", "900", "-c", "3", "--rps", "30", f"http://127.0.0.1:{env['PRODUCTPAGE_PORT']}/productpage"],
                 [loadgen, "-n", "450", "-c", "2", "--rps", "15", f"http://127.0.0.1:{caller_port}/reviews/0"],
                 [loadgen, "-n", "450", "-c", "2", "--rps", "15", f"http://127.0.0.1:{env['STORAGE_PORT']}/storage/observed"]]
        runs = [subprocess.Popen(l, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for l in loads]
        outputs = [r.communicate(timeout=120)[0] for r in runs]
        check("loadgen drove the page, the reviews calling the faulty ratings, and the storage app",
              all(r.returncode == 0 for r in runs), " | ".join(o.strip()[-300:] for o in outputs))
        time.sleep(5)  # two more scrapes and rule evaluations, 2 s apart

        targets = json.loads(get(prometheus + "/api/v1/targets"))["data"]["activeTargets"]
        down = [t["scrapeUrl"] for t in targets if t["health"] != "up"]
        check(f"every target is up ({len(targets)}: the seven services, etcd, the faulty pair)",
              len(targets) == 10 and not down, f"{len(targets)} targets, down: {down}")

        rates = series(prometheus, "app_version:http_server_requests:rate1m", "app", "version")
        apps = {app for (app, _), value in rates.items() if value > 0}
        expected = {"productpage", "details", "ratings", "reviews", "storage-app"}
        check("request rates per service are non-zero", expected <= apps, f"{rates}")
        split = {version: value for (app, version), value in rates.items() if app == "reviews"}
        check("reviews' traffic is split across v1, v2 and v3", all(split.get(v, 0) > 0 for v in ("v1", "v2", "v3")),
              f"{split}")
        edges = series(prometheus, "app_upstream:http_client_requests:rate1m", "app", "upstream")
        wanted = [("productpage", "details"), ("productpage", "reviews"), ("reviews", "ratings"), ("storage-app", "etcd")]
        check("each call-graph edge has a rate (productpage → details and reviews, reviews → ratings, "
              "storage-app → etcd)", all(edges.get(e, 0) > 0 for e in wanted), f"{edges}")

        firing, caller = set(), f"127.0.0.1:{caller_port}"
        for _ in range(60):
            alerts = query(prometheus, 'ALERTS{alertstate="firing"}')
            firing = {(a["metric"]["alertname"], a["metric"].get("app"), a["metric"].get("version"),
                       a["metric"].get("instance", "")) for a in alerts}
            if {("ServiceErrorRatioHigh", "ratings", "v-faulty", ""),
                    ("ReviewsCannotReachRatings", "reviews", "v2", caller)} <= firing:
                break
            time.sleep(1)
        check("the error-ratio alert fires for the faulty ratings and for nothing else",
              {a for a in firing if a[0] == "ServiceErrorRatioHigh"} == {("ServiceErrorRatioHigh", "ratings", "v-faulty", "")},
              f"firing: {sorted(firing)}")
        check("the unreachable-ratings alert fires for the reviews that calls the faulty ratings and no other",
              {a for a in firing if a[0] == "ReviewsCannotReachRatings"}
              == {("ReviewsCannotReachRatings", "reviews", "v2", caller)}, f"firing: {sorted(firing)}")

        empty = [title for title, expr in exprs if not query(prometheus, expr)]
        check(f"every one of the dashboard's {len(exprs)} PromQL expressions returns data", not empty, f"empty: {empty}")

        lint = []
        for name in PORT_NAMES[:7]:
            text = get(f"http://127.0.0.1:{env[name]}/metrics")
            done = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
            if done.returncode != 0 or done.stdout.strip() or done.stderr.strip():
                lint.append(f"{name}: {(done.stdout + done.stderr).strip()[:200]}")
        check("every service's /metrics passes promtool check metrics, lint included", not lint, "; ".join(lint))

        screenshot(prometheus)
    finally:
        for p in extras:
            p.terminate()
        if suite.poll() is None:
            os.killpg(suite.pid, signal.SIGTERM)
        try:
            suite.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(suite.pid, signal.SIGKILL)
        for p in extras:
            p.wait(timeout=10)
        stopped = True
        try:
            get(prometheus + "/-/ready", 1)
            stopped = False
        except OSError:
            pass
        check("stopping the suite stops Prometheus too", stopped)


def screenshot(prometheus):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("SKIP observability: screenshot (playwright is not installed)")
        return
    expr = "app_version:http_server_requests:rate1m"
    url = prometheus + "/graph?" + urllib.parse.urlencode(
        {"g0.expr": expr, "g0.tab": "0", "g0.range_input": "2m", "g0.stacked": "0"})
    path = os.path.join(ARTIFACTS, "prometheus-graph.png")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        page.wait_for_selector("canvas, .graph-legend, svg", timeout=20000)
        time.sleep(2)
        page.screenshot(path=path)
        browser.close()
    check("a Prometheus graph of the request rates is saved as " + os.path.relpath(path, ROOT),
          os.path.getsize(path) > 20000)


if __name__ == "__main__":
    os.makedirs(ARTIFACTS, exist_ok=True)
    try:
        main()
    except Exception as error:  # a broken step is a failure, not a traceback without a summary
        check("the check ran to the end", False, repr(error))
    sys.exit(check.finish())
