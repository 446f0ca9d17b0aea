#!/usr/bin/env python3
"""Cross-checks the rendered manifests, the lessons and the bake file, as a cluster would not until too late.

Usage: mesh_check.py RENDERED.yaml [MORE.yaml ...] --bake docker/docker-bake.hcl
Prints one line per check and 'mesh: N passed, N failed'.
"""
import re
import sys

import yaml

from checks import Checks


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

check = Checks("mesh")



def kind(k):
    return [o for o in objects if o["kind"] == k]


services = {o["metadata"]["name"]: o for o in kind("Service")}
workloads = kind("Deployment") + kind("StatefulSet")
accounts = {o["metadata"]["name"] for o in kind("ServiceAccount")}
rules = {o["spec"]["host"]: o for o in kind("DestinationRule")}
namespaces = kind("Namespace")
ambient = any(n["metadata"].get("labels", {}).get("istio.io/dataplane-mode") == "ambient" for n in namespaces)


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

# Every AuthorizationPolicy principal is a ServiceAccount a workload uses, the sidecar-mode ingress gateway's, or
# the one Istio makes for a Gateway API gateway (its name plus -istio) or a waypoint (its name).
used_accounts = {w["spec"]["template"]["spec"].get("serviceAccountName") for w in workloads}
gateways = {g["metadata"]["name"]: g for g in kind("Gateway") if g["apiVersion"].startswith("gateway.networking.k8s.io")}
waypoints = {n for n, g in gateways.items() if g["spec"].get("gatewayClassName") == "istio-waypoint"}
used_accounts |= {f"{n}-istio" for n, g in gateways.items() if g["spec"].get("gatewayClassName") == "istio"} | waypoints
accounts |= used_accounts - {None}
for policy in kind("AuthorizationPolicy"):
    for rule in policy["spec"].get("rules", []):
        for source in rule.get("from", []):
            for principal in source["source"].get("principals", []):
                m = re.match(r"cluster\.local/ns/([^/]+)/sa/(.+)", principal)
                ok = bool(m) and (m.group(1) == "istio-system" or (m.group(2) in accounts and m.group(2) in used_accounts))
                if ambient and m and m.group(1) == "istio-system":
                    ok = False  # ambient's ingress is a Gateway API gateway with its own service account
                check(f"AuthorizationPolicy {policy['metadata']['name']}: principal {principal} is a used ServiceAccount", ok)
    selector = policy["spec"].get("selector", {}).get("matchLabels")
    if selector:
        check(f"AuthorizationPolicy {policy['metadata']['name']}: selects pods", bool(pods_matching(selector)), str(selector))

# Ambient: every targetRefs names a Service or Gateway that exists; a Service whose policy the waypoint enforces
# is enrolled in one; a policy only ztunnel enforces has no L7 rule; nothing sidecar-only is left.
namespace_waypoint = next((n["metadata"]["labels"].get("istio.io/use-waypoint") for n in namespaces
                           if "istio.io/use-waypoint" in n["metadata"].get("labels", {})), None)
L7_OPERATION = {"methods", "notMethods", "paths", "notPaths", "hosts", "notHosts"}
for policy in kind("AuthorizationPolicy"):
    name = policy["metadata"]["name"]
    refs = policy["spec"].get("targetRefs", []) + ([policy["spec"]["targetRef"]] if "targetRef" in policy["spec"] else [])
    for ref in refs:
        known = services if ref.get("kind") == "Service" else gateways if ref.get("kind") == "Gateway" else {}
        check(f"AuthorizationPolicy {name}: targetRefs {ref.get('kind')} {ref.get('name')} exists", ref.get("name") in known)
        if ref.get("kind") == "Service" and ref.get("name") in services:
            waypoint = services[ref["name"]]["metadata"].get("labels", {}).get("istio.io/use-waypoint", namespace_waypoint)
            check(f"AuthorizationPolicy {name}: Service {ref['name']} is served by a waypoint that exists",
                  waypoint in waypoints, f"use-waypoint {waypoint}, waypoints {sorted(waypoints)}")
    if ambient and not refs:
        l7 = []
        for rule in policy["spec"].get("rules", []):
            for to in rule.get("to", []):
                l7 += sorted(L7_OPERATION & set(to.get("operation", {})))
            for source in rule.get("from", []):
                l7 += [k for k in source.get("source", {}) if k in ("requestPrincipals", "notRequestPrincipals")]
            l7 += [w["key"] for w in rule.get("when", []) if w.get("key", "").startswith("request.")]
        check(f"AuthorizationPolicy {name}: only L4 rules, as ztunnel alone enforces it", not l7,
              f"{', '.join(l7)} need a waypoint (targetRefs); ztunnel cannot see them and Istio denies such a rule")
if ambient:
    sidecar_only = [f"Namespace {n['metadata']['name']} label istio-injection" for n in namespaces
                    if "istio-injection" in n["metadata"].get("labels", {})]
    sidecar_only += [f"{o['kind']} {o['metadata']['name']}" for o in kind("Sidecar") + kind("EnvoyFilter")]
    for w in workloads:
        meta = w["spec"]["template"]["metadata"]
        sidecar_only += [f"{w['metadata']['name']}: {k}" for k in {**meta.get("annotations", {}), **meta.get("labels", {})}
                         if k.startswith("sidecar.istio.io/")]
    check("ambient: no sidecar-only setting that would silently do nothing", not sidecar_only, "; ".join(sidecar_only))

# Field names of the current APIs: a misspelt one is silently pruned by the API server.
FIELDS = {
    ("AuthorizationPolicy", "spec"): {"selector", "targetRef", "targetRefs", "action", "provider", "rules"},
    ("AuthorizationPolicy", "rule"): {"from", "to", "when"},
    ("AuthorizationPolicy", "source"): {"principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals",
                                        "namespaces", "notNamespaces", "ipBlocks", "notIpBlocks", "remoteIpBlocks",
                                        "notRemoteIpBlocks", "serviceAccounts", "notServiceAccounts"},
    ("AuthorizationPolicy", "operation"): {"hosts", "notHosts", "ports", "notPorts", "methods", "notMethods",
                                           "paths", "notPaths"},
    ("Gateway", "spec"): {"gatewayClassName", "listeners", "addresses", "infrastructure", "backendTLS"},
    ("Gateway", "listener"): {"name", "hostname", "port", "protocol", "tls", "allowedRoutes"},
    ("HTTPRoute", "spec"): {"parentRefs", "hostnames", "rules"},
    ("HTTPRoute", "rule"): {"name", "matches", "filters", "backendRefs", "timeouts", "retry", "sessionPersistence"},
    ("HTTPRoute", "ref"): {"group", "kind", "namespace", "name", "sectionName", "port", "weight", "filters"},
    ("HTTPRoute", "match"): {"path", "headers", "queryParams", "method"},
}


def fields(kind_name, part, value, where):
    unknown = sorted(set(value) - FIELDS[(kind_name, part)])
    check(f"{where}: {part} fields of the current API", not unknown, f"unknown: {', '.join(unknown)}")


for policy in kind("AuthorizationPolicy"):
    where = f"AuthorizationPolicy {policy['metadata']['name']}"
    fields("AuthorizationPolicy", "spec", policy["spec"], where)
    for rule in policy["spec"].get("rules", []):
        fields("AuthorizationPolicy", "rule", rule, where)
        for source in rule.get("from", []):
            fields("AuthorizationPolicy", "source", source.get("source", {}), where)
        for to in rule.get("to", []):
            fields("AuthorizationPolicy", "operation", to.get("operation", {}), where)
for name, gateway in gateways.items():
    fields("Gateway", "spec", gateway["spec"], f"Gateway {name}")
    for listener in gateway["spec"].get("listeners", []):
        fields("Gateway", "listener", listener, f"Gateway {name}")
for route in kind("HTTPRoute"):
    where = f"HTTPRoute {route['metadata']['name']}"
    fields("HTTPRoute", "spec", route["spec"], where)
    for ref in route["spec"].get("parentRefs", []):
        fields("HTTPRoute", "ref", ref, where)
    for rule in route["spec"].get("rules", []):
        fields("HTTPRoute", "rule", rule, where)
        for ref in rule.get("backendRefs", []):
            fields("HTTPRoute", "ref", ref, where)
        for match in rule.get("matches", []):
            fields("HTTPRoute", "match", match, where)

SERVER_FIRST = {3306: "MySQL"}

# Every Service port is named for its protocol and matches a container port of the pods it selects.
for name, svc in services.items():
    pods = pods_matching(svc["spec"]["selector"])
    check(f"Service {name}: selects pods", bool(pods))
    for port in svc["spec"]["ports"]:
        check(f"Service {name}: port {port['port']} named for its protocol", re.match(r"^(http|http2|grpc|tcp|tls|https)(-|$)", port.get("name", "")) is not None, port.get("name", ""))
        if port["port"] in SERVER_FIRST:
            # The server speaks first: Istio's protocol sniffing would wait for the client, so the port must say tcp.
            check(f"Service {name}: port {port['port']} ({SERVER_FIRST[port['port']]}, server-first) is named tcp",
                  port.get("name", "").split("-")[0] == "tcp" and port.get("appProtocol", "tcp") in ("tcp", "mysql"),
                  f"name {port.get('name')}, appProtocol {port.get('appProtocol')}")
        target = port.get("targetPort", port["port"])
        for pod in pods:
            ports = pod["spec"]["template"]["spec"]["containers"][0].get("ports", [])
            check(f"Service {name}: targetPort {target} is a container port of {pod['metadata']['name']}",
                  any(p.get("name") == target or p["containerPort"] == target for p in ports))

# etcd: the StatefulSet's pods are the members --initial-cluster names, by their stable names; every client names
# every member; a disruption budget keeps the quorum; liveness does not need a leader; the policies that select the
# members let them reach each other's peer port.
for sts in kind("StatefulSet"):
    c = sts["spec"]["template"]["spec"]["containers"][0]
    flags = dict(a.split("=", 1) for a in c.get("command", []) + c.get("args", []) if a.startswith("--") and "=" in a)
    if "--initial-cluster" not in flags:
        continue
    name, service, replicas = sts["metadata"]["name"], sts["spec"]["serviceName"], sts["spec"].get("replicas", 1)
    members = [m.split("=", 1) for m in flags["--initial-cluster"].split(",")]
    expected = [[f"{name}-{i}", f"http://{name}-{i}.{service}:2380"] for i in range(replicas)]
    check(f"StatefulSet {name}: --initial-cluster is its {replicas} pods by their stable names", members == expected,
          flags["--initial-cluster"])
    urls = [f"http://{name}-{i}.{service}:2379" for i in range(replicas)]
    for w in workloads:
        for wc in w["spec"]["template"]["spec"]["containers"]:
            endpoints = next((e.get("value", "") for e in wc.get("env", []) if e["name"] == "ETCD_ENDPOINTS"), None)
            if endpoints is not None:
                check(f"{w['metadata']['name']}: ETCD_ENDPOINTS names every member of {name}",
                      all(u in endpoints.split(",") for u in urls), endpoints)
    labels = sts["spec"]["template"]["metadata"]["labels"]
    budgets = [p for p in kind("PodDisruptionBudget")
               if all(labels.get(k) == v for k, v in p["spec"]["selector"]["matchLabels"].items())]
    quorum = replicas // 2 + 1
    if replicas > 1:
        check(f"StatefulSet {name}: a PodDisruptionBudget keeps a quorum of {quorum}",
              any(b["spec"].get("minAvailable") == quorum or b["spec"].get("maxUnavailable") == replicas - quorum
                  for b in budgets), str([b["spec"] for b in budgets]))
        check(f"StatefulSet {name}: members start together (podManagementPolicy Parallel)",
              sts["spec"].get("podManagementPolicy") == "Parallel")
    else:
        check(f"StatefulSet {name}: no disruption budget blocks draining its only member",
              not any(b["spec"].get("minAvailable", 0) >= 1 for b in budgets))
    check(f"StatefulSet {name}: liveness does not need a leader (not /health)",
          c.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/health")
    account = sts["spec"]["template"]["spec"].get("serviceAccountName")
    for policy in kind("AuthorizationPolicy"):
        selector = policy["spec"].get("selector", {}).get("matchLabels", {})
        if replicas > 1 and selector and all(labels.get(k) == v for k, v in selector.items()):
            peers = any(any(principal.endswith(f"/sa/{account}") for source in rule.get("from", [])
                            for principal in source["source"].get("principals", []))
                        and any("2380" in to.get("operation", {}).get("ports", []) for to in rule.get("to", []))
                        for rule in policy["spec"].get("rules", []))
            check(f"AuthorizationPolicy {policy['metadata']['name']}: the {name} members reach each other's peer port",
                  peers)

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
        if not any(store in c["image"] for store in ("etcd", "mysqldb")):
            # A drain delay (endpoints drop the pod while it still serves), then the in-flight deadline, inside the grace period.
            env = {e["name"]: e.get("value", "") for e in c.get("env", [])}
            delay, timeout = seconds(env.get("SHUTDOWN_DELAY", "0")), seconds(env.get("SHUTDOWN_TIMEOUT", "20s"))
            grace = spec.get("terminationGracePeriodSeconds", 30)
            check(f"{name}: SHUTDOWN_DELAY set and, with SHUTDOWN_TIMEOUT, inside terminationGracePeriodSeconds",
                  1 <= delay and delay + timeout < grace, f"delay {delay}s + timeout {timeout}s, grace {grace}s")
    labels = w["spec"]["template"]["metadata"]["labels"]
    check(f"{name}: pods labelled app and version", "app" in labels and "version" in labels)

sys.exit(check.finish())
