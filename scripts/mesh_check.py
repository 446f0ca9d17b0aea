#!/usr/bin/env python3
"""Cross-checks the rendered manifests, the lessons and the bake file, as a cluster would not until too late.

Usage: mesh_check.py RENDERED.yaml [MORE.yaml ...] --bake docker/docker-bake.hcl
Prints one line per check and 'mesh: N passed, N failed'.
"""
import re
import sys

import yaml


def bake_images(path):
    """Every image docker-bake.hcl tags, as HUB/name:TAG."""
    text = open(path).read()
    hub = re.search(r'variable "HUB" \{ default = "([^"]+)" \}', text).group(1)
    tag = re.search(r'variable "TAG" \{ default = "([^"]+)" \}', text).group(1)
    images = set()
    for target in re.finditer(r'tags\s*=\s*\["\$\{HUB\}/([^:"]+):\$\{TAG\}"\]', text):
        template = target.group(1)
        block = text[:target.start()].rsplit("target ", 1)[1]
        if "${item" not in template:
            images.add(f"{hub}/{template}:{tag}")
            continue
        matrix = block.split("matrix", 1)[1].split("\n", 1)[0]
        names = re.findall(r'name = "([^"]+)"', matrix) or re.findall(r'"([^"]+)"', matrix)
        for n in names:
            images.add(f"{hub}/" + re.sub(r"\$\{item(\.name)?\}", n, template) + f":{tag}")
    return images


args = sys.argv[1:]
bake = args[args.index("--bake") + 1]
if "--list-bake" in args:
    # The image names alone (no hub, no tag), one a line, for scripts/check-images.sh.
    print("\n".join(sorted(i.rsplit("/", 1)[1].split(":")[0] for i in bake_images(bake))))
    sys.exit(0)
files = [a for a in args if a not in ("--bake", bake)]
objects = []
for path in files:
    with open(path) as f:
        objects += [o for o in yaml.safe_load_all(f) if o]

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} mesh: {name}{'' if ok else ' — ' + detail}")


def kind(k):
    return [o for o in objects if o["kind"] == k]


services = {o["metadata"]["name"]: o for o in kind("Service")}
workloads = kind("Deployment") + kind("StatefulSet")
accounts = {o["metadata"]["name"] for o in kind("ServiceAccount")}
rules = {o["spec"]["host"]: o for o in kind("DestinationRule")}


def seconds(text):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for suffix in ("ms", "s", "m", "h"):
        if text.endswith(suffix):
            return float(text[:-len(suffix)]) * units[suffix]
    return float(text)


def short(host):
    return host.split(".")[0]


def pods_matching(selector):
    return [w for w in workloads if all(w["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in selector.items())]


def subset_selector(host, subset):
    """The pod labels a DestinationRule subset of a Service selects: the Service's selector and the subset's labels."""
    return dict(services[host]["spec"]["selector"], **subset["labels"])


# Every VirtualService host and destination is a Service; every subset is defined and selects pods.
for vs in kind("VirtualService"):
    name = vs["metadata"]["name"]
    for host in vs["spec"]["hosts"]:
        if host != "*":
            check(f"VirtualService {name}: host {host} is a Service", short(host) in services, host)
    for http in vs["spec"].get("http", []):
        for route in http.get("route", []):
            dest = route["destination"]
            host = short(dest["host"])
            check(f"VirtualService {name}: destination {host} is a Service", host in services, host)
            if "subset" in dest:
                rule = rules.get(host)
                subset = next((s for s in (rule or {}).get("spec", {}).get("subsets", []) if s["name"] == dest["subset"]), None)
                check(f"VirtualService {name}: subset {host}/{dest['subset']} is in a DestinationRule", subset is not None)
                if subset:
                    selector = subset_selector(host, subset)
                    check(f"VirtualService {name}: subset {host}/{dest['subset']} selects pods", bool(pods_matching(selector)), str(selector))
            if "port" in dest and host in services:
                ports = [p["port"] for p in services[host]["spec"]["ports"]]
                check(f"VirtualService {name}: port {dest['port']['number']} of {host} exists", dest["port"]["number"] in ports)

# Every DestinationRule subset selects a pod.
for host, rule in rules.items():
    check(f"DestinationRule {host}: host is a Service", host in services)
    for subset in rule["spec"].get("subsets", []):
        if host in services:
            selector = subset_selector(host, subset)
            check(f"DestinationRule {host}: subset {subset['name']} selects pods", bool(pods_matching(selector)), str(selector))

# Every HTTPRoute backend and Service parent is a Service.
for route in kind("HTTPRoute"):
    name = route["metadata"]["name"]
    for parent in route["spec"].get("parentRefs", []):
        if parent.get("kind") == "Service":
            check(f"HTTPRoute {name}: parent {parent['name']} is a Service", parent["name"] in services)
    for rule in route["spec"]["rules"]:
        for ref in rule.get("backendRefs", []):
            check(f"HTTPRoute {name}: backend {ref['name']} is a Service", ref["name"] in services)
            if ref["name"] in services:
                check(f"HTTPRoute {name}: backend {ref['name']} selects pods", bool(pods_matching(services[ref['name']]["spec"]["selector"])))

# Every AuthorizationPolicy principal is a ServiceAccount a workload uses (or the ingress gateway's).
used_accounts = {w["spec"]["template"]["spec"].get("serviceAccountName") for w in workloads}
for policy in kind("AuthorizationPolicy"):
    for rule in policy["spec"].get("rules", []):
        for source in rule.get("from", []):
            for principal in source["source"].get("principals", []):
                m = re.match(r"cluster\.local/ns/([^/]+)/sa/(.+)", principal)
                ok = bool(m) and (m.group(1) == "istio-system" or (m.group(2) in accounts and m.group(2) in used_accounts))
                check(f"AuthorizationPolicy {policy['metadata']['name']}: principal {principal} is a used ServiceAccount", ok)
    selector = policy["spec"].get("selector", {}).get("matchLabels")
    if selector:
        check(f"AuthorizationPolicy {policy['metadata']['name']}: selects pods", bool(pods_matching(selector)), str(selector))

# Every Service port is named for its protocol and matches a container port of the pods it selects.
for name, svc in services.items():
    pods = pods_matching(svc["spec"]["selector"])
    check(f"Service {name}: selects pods", bool(pods))
    for port in svc["spec"]["ports"]:
        check(f"Service {name}: port {port['port']} named for its protocol", re.match(r"^(http|http2|grpc|tcp|tls|https)(-|$)", port.get("name", "")) is not None, port.get("name", ""))
        target = port.get("targetPort", port["port"])
        for pod in pods:
            ports = pod["spec"]["template"]["spec"]["containers"][0].get("ports", [])
            check(f"Service {name}: targetPort {target} is a container port of {pod['metadata']['name']}",
                  any(p.get("name") == target or p["containerPort"] == target for p in ports))

# Every workload is hardened and probed; every image it names is built by the bake file.
built = bake_images(bake)
for w in workloads:
    spec = w["spec"]["template"]["spec"]
    name = w["metadata"]["name"]
    for c in spec["containers"]:
        sc = c.get("securityContext", {})
        check(f"{name}: hardened", sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation") is False
              and sc.get("capabilities", {}).get("drop") == ["ALL"] and spec.get("securityContext", {}).get("runAsNonRoot")
              and spec["securityContext"].get("seccompProfile", {}).get("type") == "RuntimeDefault")
        check(f"{name}: probes, requests and limits", "livenessProbe" in c and "readinessProbe" in c and "limits" in c.get("resources", {}))
        if "etcd" not in c["image"]:
            check(f"{name}: image {c['image']} is built by the bake file", c["image"] in built, ", ".join(sorted(built)))
            # A drain delay (endpoints drop the pod while it still serves), then the in-flight deadline, inside the grace period.
            env = {e["name"]: e.get("value", "") for e in c.get("env", [])}
            delay, timeout = seconds(env.get("SHUTDOWN_DELAY", "0")), seconds(env.get("SHUTDOWN_TIMEOUT", "20s"))
            grace = spec.get("terminationGracePeriodSeconds", 30)
            check(f"{name}: SHUTDOWN_DELAY set and, with SHUTDOWN_TIMEOUT, inside terminationGracePeriodSeconds",
                  1 <= delay and delay + timeout < grace, f"delay {delay}s + timeout {timeout}s, grace {grace}s")
    labels = w["spec"]["template"]["metadata"]["labels"]
    check(f"{name}: pods labelled app and version", "app" in labels and "version" in labels)

passed = sum(results)
print(f"mesh: {passed} passed, {len(results) - passed} failed")
sys.exit(0 if all(results) else 1)
