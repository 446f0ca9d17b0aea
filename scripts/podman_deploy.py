#!/usr/bin/env python3
"""Runs rendered Kubernetes manifests for real with `podman kube play`, as a kubelet would, and tears them down.

    podman_deploy.py up RENDERED.yaml STATE_DIR     # prints the published ports as SERVICE=PORT lines
    podman_deploy.py down STATE_DIR

podman plays Pods (one network namespace and address each, with the manifests' env, users, read-only root,
capabilities and limits) but not Services, ServiceAccounts or StatefulSets, and it publishes every container port on
the host. So, without changing what the manifests say, this script:
- plays each Deployment replica and StatefulSet ordinal as a Pod named `<workload>-<n>` on one netavark network
  with DNS; every Service whose selector matches the pod's labels becomes a network alias of it (ClusterIP load
  balancing is not modelled: each Service here has one pod behind it), and a StatefulSet pod also gets its stable
  name (`etcd-0.etcd`);
- turns each volumeClaimTemplate and emptyDir into a podman volume owned by the pod's user and fsGroup (a new one
  per pod, as an emptyDir is), and each Secret into a podman secret that the pods' secretKeyRef env reads;
- expands `$(VAR)` in env values, command and args from the container's env, with the pod's name for a fieldRef to
  metadata.name, as the kubelet does (podman knows neither);
- publishes only the ports of the Services named in PUBLISH, each on a free port of loopback;
- checks what podman does not enforce: a container that would run as root is refused, and the deployment is up
  only once every readiness probe answers as written.
"""
import base64
import json
import os
import re
import socket
import subprocess
import sys
import time

import yaml

NETWORK = "bookinfo"
PUBLISH = ["productpage", "storage-app"]


def podman(*args, check=True, input=None):
    result = subprocess.run(["podman", *args], capture_output=True, text=True, input=input)
    if check and result.returncode != 0:
        raise SystemExit(f"podman {' '.join(args[:3])}…: {result.stderr.strip()[-400:]}")
    return result.stdout.strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def container_port(container, port):
    """A probe's or Service's port, by number or by the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p["containerPort"]
    raise SystemExit(f"container {container['name']} has no port named {port}")


def image_user(image):
    return podman("image", "inspect", "--format", "{{.Config.User}}", image).split(":")[0] or "0"


def refuse_root(pod_name, spec, user_of_image):
    """Fails, as a kubelet with runAsNonRoot would, when a container would run as root."""
    for c in spec["containers"]:
        context = {**spec.get("securityContext", {}), **c.get("securityContext", {})}
        user = context.get("runAsUser")
        if user is None:
            user = user_of_image(c["image"])
        if str(user) in ("0", "root"):
            raise SystemExit(f"{pod_name}/{c['name']} would run as root")
        if not context.get("runAsNonRoot"):
            raise SystemExit(f"{pod_name}/{c['name']} does not set runAsNonRoot")


def secret_payload(secret):
    """What podman (4.3) reads for a secretKeyRef: a JSON object of the Secret's keys and base64 values, with
    stringData folded into data as the API server stores it."""
    data = dict(secret.get("data", {}))
    for key, value in secret.get("stringData", {}).items():
        data[key] = base64.b64encode(value.encode()).decode()
    return json.dumps(data)


def expand_variables(container, pod_name):
    """The kubelet's `$(VAR)` expansion: env in order (each may use the ones before it), then command and args."""
    known = {}

    def expand(text):
        return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: known.get(m.group(1), m.group(0)), text)

    for e in container.get("env", []):
        if "value" in e:
            e["value"] = known[e["name"]] = expand(e["value"])
        elif e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name":
            e.pop("valueFrom")
            e["value"] = known[e["name"]] = pod_name
    for key in ("command", "args"):
        if key in container:
            container[key] = [expand(a) for a in container[key]]


def plan(docs, pick_port=free_port, user_of_image=image_user):
    """The pods to play: (pod name, Pod manifest, network aliases, volumes to create), and the published ports."""
    services = [d for d in docs if d["kind"] == "Service"]
    pods, published = [], {}
    for workload in (d for d in docs if d["kind"] in ("Deployment", "StatefulSet")):
        for ordinal in range(workload["spec"].get("replicas", 1)):
            pod_name = f"{workload['metadata']['name']}-{ordinal}"
            template = workload["spec"]["template"]
            labels = template["metadata"].get("labels", {})
            spec = json.loads(json.dumps(template["spec"]))
            refuse_root(pod_name, spec, user_of_image)
            aliases = [s["metadata"]["name"] for s in services if matches(s["spec"].get("selector"), labels)]
            if workload["kind"] == "StatefulSet":
                aliases.append(f"{pod_name}.{workload['spec']['serviceName']}")
            volumes = []
            for claim in workload["spec"].get("volumeClaimTemplates", []):
                volume = f"{claim['metadata']['name']}-{pod_name}"
                volumes.append(volume)
                spec.setdefault("volumes", []).append(
                    {"name": claim["metadata"]["name"], "persistentVolumeClaim": {"claimName": volume}})
            for v in spec.get("volumes", []):
                if "emptyDir" in v:
                    volume = f"{v['name']}-{pod_name}"
                    volumes.append(volume)
                    v.pop("emptyDir")
                    v["persistentVolumeClaim"] = {"claimName": volume}
            exposed = {}
            for s in services:
                if s["metadata"]["name"] in PUBLISH and matches(s["spec"].get("selector"), labels):
                    for sp in s["spec"]["ports"]:
                        exposed[container_port(spec["containers"][0], sp.get("targetPort", sp["port"]))] = s
            for c in spec["containers"]:
                expand_variables(c, pod_name)
                for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                    if "httpGet" in c.get(probe, {}):
                        c[probe]["httpGet"]["port"] = container_port(c, c[probe]["httpGet"]["port"])
                kept = []
                for p in c.get("ports", []):
                    if c is spec["containers"][0] and p["containerPort"] in exposed:
                        p["hostPort"], p["hostIP"] = pick_port(), "127.0.0.1"
                        published[exposed[p["containerPort"]]["metadata"]["name"]] = p["hostPort"]
                        kept.append(p)
                c["ports"] = kept
            for key in ("serviceAccountName", "automountServiceAccountToken", "enableServiceLinks"):
                spec.pop(key, None)
            pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod_name, "labels": labels}, "spec": spec}
            pods.append((pod_name, pod, aliases, volumes))
    return pods, published


def up(rendered, state):
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    os.makedirs(state, exist_ok=True)
    if subprocess.run(["podman", "network", "exists", NETWORK]).returncode != 0:
        podman("network", "create", NETWORK)
    for secret in (d for d in docs if d["kind"] == "Secret"):
        name = secret["metadata"]["name"]
        if subprocess.run(["podman", "secret", "inspect", name], capture_output=True).returncode != 0:
            podman("secret", "create", name, "-", input=secret_payload(secret))
    pods, published = plan(docs)
    for pod_name, pod, aliases, volumes in pods:
        context = pod["spec"].get("securityContext", {})
        for volume in volumes:
            podman("volume", "create", volume)
            mountpoint = podman("volume", "inspect", "--format", "{{.Mountpoint}}", volume)
            os.chown(mountpoint, context.get("runAsUser", 0), context.get("fsGroup", 0))
        path = os.path.join(state, f"{pod_name}.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(pod, f)
        network = NETWORK + "".join((":" if i == 0 else ",") + f"alias={a}" for i, a in enumerate(aliases))
        podman("kube", "play", "--network", network, path)
    for pod_name, pod, _, _ in pods:
        wait_ready(pod_name, pod["spec"])
    with open(os.path.join(state, "published.json"), "w") as f:
        json.dump(published, f)
    for name, port in published.items():
        print(f"{name}={port}")


def pod_address(pod_name, container):
    networks = json.loads(podman("inspect", "--format", "{{json .NetworkSettings.Networks}}", f"{pod_name}-{container}"))
    return networks[NETWORK]["IPAddress"]


def wait_ready(pod_name, spec, seconds=60):
    """Waits for each container's readiness probe as written: an HTTP GET of the pod's address and port, or the
    probe's command run in the container."""
    for c in spec["containers"]:
        command = c.get("readinessProbe", {}).get("exec", {}).get("command")
        if command:
            end = time.time() + seconds
            while subprocess.run(["podman", "exec", f"{pod_name}-{c['name']}", *command], capture_output=True).returncode:
                if time.time() > end:
                    logs = podman("logs", "--tail", "5", f"{pod_name}-{c['name']}", check=False)
                    raise SystemExit(f"{pod_name}/{c['name']} never became ready ({' '.join(command)}): {logs}")
                time.sleep(0.3)
        probe = c.get("readinessProbe", {}).get("httpGet")
        if not probe:
            continue
        url = f"http://{pod_address(pod_name, c['name'])}:{probe['port']}{probe['path']}"
        end = time.time() + seconds
        while True:
            status = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", url],
                                    capture_output=True, text=True).stdout
            if status[:1] in ("2", "3"):
                break
            if time.time() > end:
                logs = podman("logs", "--tail", "5", f"{pod_name}-{c['name']}", check=False)
                raise SystemExit(f"{pod_name}/{c['name']} never became ready at {url}: {logs}")
            time.sleep(0.3)


def down(state):
    for name in sorted(os.listdir(state)) if os.path.isdir(state) else []:
        if name.endswith(".yaml"):
            podman("kube", "down", os.path.join(state, name), check=False)
    podman("pod", "rm", "-af", check=False)
    podman("volume", "prune", "-f", check=False)
    podman("secret", "rm", "--all", check=False)
    podman("network", "rm", "-f", NETWORK, check=False)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "up":
        up(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "down":
        down(sys.argv[2])
    else:
        sys.exit(__doc__)
