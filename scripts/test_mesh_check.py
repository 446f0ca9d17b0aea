#!/usr/bin/env python3
"""Tests that scripts/mesh_check.py catches what it is for, on the rendered ambient overlay with one mistake added
at a time. Run: python3 scripts/test_mesh_check.py RENDERED_AMBIENT.yaml"""
import os
import subprocess
import sys
import tempfile
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
RENDERED = sys.argv.pop(1) if len(sys.argv) > 1 else "artifacts/rendered/ambient.yaml"


def policy(name, spec):
    return {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {"name": name}, "spec": spec}


def waypoint_policy(service, principal="cluster.local/ns/bookinfo/sa/bookinfo-productpage", operation=None):
    return policy("extra", {
        "targetRefs": [{"kind": "Service", "group": "", "name": service}], "action": "ALLOW",
        "rules": [{"from": [{"source": {"principals": [principal]}}], "to": [{"operation": operation or {"methods": ["GET"]}}]}],
    })


class MeshCheckTests(unittest.TestCase):
    def run_check(self, extra=(), change=None):
        docs = [d for d in yaml.safe_load_all(open(RENDERED)) if d]
        if change:
            change(docs)
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            yaml.safe_dump_all(docs + list(extra), f)
        try:
            result = subprocess.run([sys.executable, os.path.join(HERE, "mesh_check.py"), f.name,
                                     "--bake", os.path.join(HERE, "..", "docker", "docker-bake.hcl")],
                                    capture_output=True, text=True)
        finally:
            os.unlink(f.name)
        return result.returncode, [line for line in result.stdout.splitlines() if line.startswith("FAIL")]

    def assertFails(self, expected, **kwargs):
        status, failures = self.run_check(**kwargs)
        self.assertEqual(status, 1)
        self.assertTrue(any(expected in line for line in failures), failures)

    def test_the_overlay_passes(self):
        self.assertEqual(self.run_check(), (0, []))

    def test_a_wrong_principal(self):
        self.assertFails("principal cluster.local/ns/bookinfo/sa/bookinfo-nobody is a used ServiceAccount",
                         extra=[waypoint_policy("details", principal="cluster.local/ns/bookinfo/sa/bookinfo-nobody")])

    def test_a_target_ref_to_a_missing_service(self):
        self.assertFails("targetRefs Service no-such-service exists", extra=[waypoint_policy("no-such-service")])

    def test_an_l7_rule_that_only_ztunnel_would_see(self):
        self.assertFails("extra: only L4 rules, as ztunnel alone enforces it", extra=[policy("extra", {
            "selector": {"matchLabels": {"app": "details"}}, "action": "ALLOW",
            "rules": [{"to": [{"operation": {"methods": ["GET"], "paths": ["/details/*"]}}]}]})])

    def test_an_l7_rule_for_a_service_no_waypoint_serves(self):
        def unenroll(docs):
            for d in docs:
                if d["kind"] == "Namespace":
                    d["metadata"]["labels"].pop("istio.io/use-waypoint")
        self.assertFails("Service details is served by a waypoint that exists", change=unenroll)

    def test_a_sidecar_only_setting_in_ambient(self):
        def inject(docs):
            for d in docs:
                if d["kind"] == "Namespace":
                    d["metadata"]["labels"]["istio-injection"] = "enabled"
        self.assertFails("no sidecar-only setting", change=inject)

    def test_the_database_port_named_for_sniffing(self):
        def rename(docs):
            for d in docs:
                if d["kind"] == "Service" and d["metadata"]["name"] == "mysqldb":
                    d["spec"]["ports"][0]["name"] = "mysql"
        self.assertFails("port 3306 (MySQL, server-first) is named tcp", change=rename)

    def test_an_etcd_cluster_that_does_not_match_its_pods(self):
        def shrink(docs):
            for d in docs:
                if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "etcd":
                    d["spec"]["replicas"] = 5
        self.assertFails("--initial-cluster is its 5 pods by their stable names", change=shrink)
        self.assertFails("ETCD_ENDPOINTS names every member of etcd", change=shrink)
        self.assertFails("a PodDisruptionBudget keeps a quorum of 3", change=shrink)

    def test_etcd_peers_shut_out_by_policy(self):
        def close_peers(docs):
            for d in docs:
                if d["kind"] == "AuthorizationPolicy" and d["metadata"]["name"] == "etcd-ztunnel":
                    d["spec"]["rules"] = d["spec"]["rules"][:1]
        self.assertFails("the etcd members reach each other's peer port", change=close_peers)

    def test_a_misspelt_field(self):
        self.assertFails("operation fields of the current API", extra=[waypoint_policy("details", operation={"method": ["GET"]})])


if __name__ == "__main__":
    unittest.main(verbosity=1)
