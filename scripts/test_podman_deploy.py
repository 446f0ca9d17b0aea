#!/usr/bin/env python3
"""Tests of podman_deploy.plan on the rendered local overlay: what becomes of Services, ports, probes, the
StatefulSet and the Secret, without running podman. Run: python3 scripts/test_podman_deploy.py RENDERED.yaml"""
import base64
import json
import sys
import unittest

import yaml

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import podman_deploy  # noqa: E402

RENDERED = sys.argv.pop(1) if len(sys.argv) > 1 else "artifacts/rendered/local.yaml"


class PlanTests(unittest.TestCase):
    def setUp(self):
        self.docs = [d for d in yaml.safe_load_all(open(RENDERED)) if d]
        ports = iter(range(40000, 40100))
        self.pods, self.published = podman_deploy.plan(self.docs, lambda: next(ports), lambda image: "10001")
        self.by_name = {name: (pod, aliases, volumes) for name, pod, aliases, volumes in self.pods}

    def test_every_deployment_replica_and_statefulset_ordinal_is_a_pod(self):
        self.assertEqual(sorted(self.by_name), ["details-v1-0", "etcd-0", "etcd-1", "etcd-2", "mysqldb-v1-0", "productpage-v1-0",
                                                "ratings-v1-0", "ratings-v2-mysql-0", "reviews-v1-0", "reviews-v2-0",
                                                "reviews-v3-0", "storage-app-v1-0"])

    def test_services_become_aliases_of_the_pods_they_select(self):
        self.assertEqual(self.by_name["reviews-v2-0"][1], ["reviews", "reviews-v2"])
        self.assertEqual(self.by_name["details-v1-0"][1], ["details", "details-v1"])
        self.assertEqual(sorted(self.by_name["etcd-0"][1]), ["etcd", "etcd-0.etcd", "etcd-service"])

    def test_only_the_published_services_ports_reach_the_host(self):
        self.assertEqual(sorted(self.published), ["productpage", "storage-app"])
        for name, (pod, _, _) in self.by_name.items():
            ports = [p for c in pod["spec"]["containers"] for p in c["ports"]]
            if name.startswith(("productpage", "storage-app")):
                self.assertEqual([(p["containerPort"], p["hostIP"]) for p in ports], [(9080, "127.0.0.1")])
            else:
                self.assertEqual(ports, [], name)

    def test_probes_keep_their_paths_with_the_port_numbers(self):
        probe = self.by_name["details-v1-0"][0]["spec"]["containers"][0]["readinessProbe"]["httpGet"]
        self.assertEqual(probe, {"path": "/ready", "port": 9080})
        etcd = self.by_name["etcd-0"][0]["spec"]["containers"][0]["readinessProbe"]["httpGet"]
        self.assertEqual(etcd["port"], 2379)

    def test_the_statefulset_claim_is_a_volume_of_its_pod(self):
        pod, _, volumes = self.by_name["etcd-0"]
        self.assertEqual(volumes, ["data-etcd-0"])
        self.assertIn({"name": "data", "persistentVolumeClaim": {"claimName": "data-etcd-0"}}, pod["spec"]["volumes"])

    def test_each_etcd_member_is_named_after_its_pod(self):
        for i in range(3):
            container = self.by_name[f"etcd-{i}"][0]["spec"]["containers"][0]
            self.assertIn(f"--name=etcd-{i}", container["command"])
            self.assertIn(f"--initial-advertise-peer-urls=http://etcd-{i}.etcd:2380", container["command"])
            self.assertIn({"name": "POD_NAME", "value": f"etcd-{i}"}, container["env"])
            self.assertIn(f"etcd-{i}.etcd", self.by_name[f"etcd-{i}"][1])

    def test_each_emptydir_is_a_volume_of_its_own_pod(self):
        pod, aliases, volumes = self.by_name["mysqldb-v1-0"]
        self.assertEqual(aliases, ["mysqldb"])
        self.assertEqual(volumes, ["var-lib-mysql-mysqldb-v1-0", "run-mysqld-mysqldb-v1-0"])
        self.assertIn({"name": "var-lib-mysql", "persistentVolumeClaim": {"claimName": "var-lib-mysql-mysqldb-v1-0"}},
                      pod["spec"]["volumes"])
        self.assertEqual(pod["spec"]["containers"][0]["readinessProbe"]["exec"]["command"][0], "mariadb-admin")

    def test_what_podman_does_not_know_is_left_out_and_the_rest_kept(self):
        spec = self.by_name["productpage-v1-0"][0]["spec"]
        self.assertNotIn("serviceAccountName", spec)
        container = spec["containers"][0]
        self.assertTrue(container["securityContext"]["readOnlyRootFilesystem"])
        self.assertEqual(container["securityContext"]["capabilities"]["drop"], ["ALL"])
        names = [e["name"] for e in container["env"]]
        self.assertIn("SESSION_SECRET", names)
        self.assertIn("SHUTDOWN_DELAY", names)

    def test_a_container_that_would_run_as_root_is_refused(self):
        docs = json.loads(json.dumps(self.docs))
        for d in docs:
            if d["kind"] == "Deployment" and d["metadata"]["name"] == "details-v1":
                d["spec"]["template"]["spec"]["securityContext"].pop("runAsUser")
                d["spec"]["template"]["spec"]["containers"][0]["securityContext"].pop("runAsUser")
        with self.assertRaises(SystemExit) as refused:
            podman_deploy.plan(docs, lambda: 1, lambda image: "0")
        self.assertIn("details-v1-0/details would run as root", str(refused.exception))

    def test_the_secret_is_what_podman_reads(self):
        secret = {"kind": "Secret", "stringData": {"secret": "s3"}, "data": {"other": "eA=="}}
        self.assertEqual(json.loads(podman_deploy.secret_payload(secret)),
                         {"other": "eA==", "secret": base64.b64encode(b"s3").decode()})


if __name__ == "__main__":
    unittest.main(verbosity=1)
