#!/usr/bin/env python3
"""Checks scripts/run-local.sh's life cycle as a terminal user meets it: a second copy on the same state directory
is refused, Ctrl-C (SIGINT to the whole foreground process group) stops everything quietly with status 0, and a
service that dies on its own is reported with status 1, and --with-mysql runs ratings v2 on a real MariaDB.

Usage: check_local_suite.py [--no-build]   (ports are picked free; prints 'local-suite: N passed, N failed')
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from checks import Checks, free_ports

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORT_NAMES = ["PRODUCTPAGE_PORT", "DETAILS_PORT", "RATINGS_PORT", "REVIEWS_V1_PORT", "REVIEWS_V2_PORT",
              "REVIEWS_V3_PORT", "STORAGE_PORT", "ETCD_CLIENT_PORT", "ETCD_PEER_PORT"]
check = Checks("local-suite")





def start(env, log, sigint=signal.SIG_DFL, extra=()):
    # A session and process group of its own, as a terminal gives a foreground job; a job started in the
    # background by a non-interactive shell inherits SIGINT ignored.
    return subprocess.Popen(["scripts/run-local.sh", "--debug", "--no-build", *extra], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, sigint))


def wait_for(path, text, proc, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if text in read(path):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.2)
    return False


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except Exception as error:  # noqa: BLE001 - the text goes into a failed check's detail
        return f"{url}: {error}"


def put(url, key, value):
    body = json.dumps({"key": key, "value": value}).encode()
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except Exception:  # noqa: BLE001 - no answer
        return None


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def children_of(pid):
    out = subprocess.run(["ps", "-eo", "pid=,ppid=,args="], capture_output=True, text=True).stdout
    return [line.split(None, 2) for line in out.splitlines() if line.split(None, 2)[1] == str(pid)]


def main():
    work = tempfile.mkdtemp(prefix="local-suite-")
    env = dict(os.environ, STATE_DIR=os.path.join(work, "state"), LOG_REQUESTS="false")
    env.update(zip(PORT_NAMES, map(str, free_ports(len(PORT_NAMES)))))
    first_log = os.path.join(work, "first.log")
    with open(first_log, "w") as log:
        first = start(env, log)
    ready = wait_for(first_log, "READY", first, 60)
    check("the suite starts and prints READY", ready, read(first_log)[-400:])
    if not ready:
        first.kill()
        return

    second_log = os.path.join(work, "second.log")
    with open(second_log, "w") as log:
        second = start(env, log)
    try:
        status = second.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(second.pid, signal.SIGKILL)
        status = None
    check("a second copy on the same state directory is refused, naming the other", status == 1 and "another copy" in read(second_log)
          and str(first.pid) in read(second_log), read(second_log)[-300:])
    check("the first copy still answers after the refusal", listening(int(env["PRODUCTPAGE_PORT"])))

    os.killpg(first.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    try:
        status = first.wait(timeout=30)
    except subprocess.TimeoutExpired:
        status = None
    output = read(first_log)
    check("Ctrl-C ends with status 0", status == 0, f"status {status}: {output[-300:]}")
    check("Ctrl-C prints no error", "error" not in output.split("READY", 1)[1], output[-300:])
    check("Ctrl-C leaves no service listening", not any(listening(int(env[name])) for name in PORT_NAMES if name != "ETCD_PEER_PORT"))

    third_log = os.path.join(work, "third.log")
    with open(third_log, "w") as log:
        third = start(env, log, sigint=signal.SIG_IGN)
    if wait_for(third_log, "READY", third, 60):
        # The script ignores SIGINT here, and so must every service: none may die under it.
        os.killpg(third.pid, signal.SIGINT)
        time.sleep(3)
        check("a SIGINT the script ignores stops nothing", third.poll() is None
              and all(listening(int(env[name])) for name in PORT_NAMES if name != "ETCD_PEER_PORT"), read(third_log)[-300:])
        details = [c for c in children_of(third.pid) if "/details " in c[2]]
        if details:
            os.kill(int(details[0][0]), signal.SIGKILL)
        try:
            status = third.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(third.pid, signal.SIGKILL)
            status = None
        output = read(third_log)
        check("a service that dies on its own is reported with status 1", bool(details) and status == 1
              and f"pid {details[0][0]}" in output, f"status {status}: {output[-300:]}")
        check("and the rest are stopped", not any(listening(int(env[name])) for name in PORT_NAMES if name != "ETCD_PEER_PORT"))
    else:
        check("the suite starts again after Ctrl-C", False, read(third_log)[-300:])
        third.kill()

    # --etcd-members 3: a cluster on loopback; a member lost leaves the storage app writing and the suite running.
    env["ETCD_CLIENT_PORT"], env["ETCD_PEER_PORT"] = map(str, free_ports(2))
    cluster_log = os.path.join(work, "cluster.log")
    with open(cluster_log, "w") as log:
        cluster = start(env, log, extra=["--etcd-members", "3"])
    if wait_for(cluster_log, "READY", cluster, 90):
        members = [c for c in children_of(cluster.pid) if "--name m" in c[2]]
        check("--etcd-members 3 starts three members", len(members) == 3, str([c[2][:60] for c in members]))
        storage = f"http://127.0.0.1:{env['STORAGE_PORT']}/storage"
        check("--etcd-members 3: the storage app writes", put(storage, "k1", "one") == 201)
        if members:
            os.kill(int(members[0][0]), signal.SIGKILL)
        time.sleep(0.5)
        check("--etcd-members 3: with a member lost, writes go on", put(storage, "k2", "two") == 201)
        time.sleep(2.5)
        check("--etcd-members 3: a lost member is reported, and the suite goes on", cluster.poll() is None
              and "an etcd member" in read(cluster_log), read(cluster_log)[-300:])
        os.killpg(cluster.pid, signal.SIGINT)
        try:
            status = cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            status = None
        check("--etcd-members 3: Ctrl-C stops every member", status == 0 and not any(
            listening(int(env["ETCD_CLIENT_PORT"]) + 2 * i) for i in range(3)), f"status {status}")
    else:
        check("--etcd-members 3 starts", False, read(cluster_log)[-400:])
        cluster.kill()

    # --with-mysql: MariaDB with the ratings database, ratings v2 reading it, reviews showing what it holds.
    env["MYSQL_PORT"] = str(free_ports(1)[0])
    mysql_log = os.path.join(work, "mysql.log")
    with open(mysql_log, "w") as log:
        fourth = start(env, log, extra=["--with-mysql"])
    if not wait_for(mysql_log, "READY", fourth, 90):
        check("--with-mysql starts MariaDB and ratings v2", False, read(mysql_log)[-400:])
        fourth.kill()
        return
    ratings = f"http://127.0.0.1:{env['RATINGS_PORT']}/ratings/0"
    check("--with-mysql: ratings v2 reads the database's 5 and 4 stars",
          '{"Reviewer1":5,"Reviewer2":4}' in get(ratings), get(ratings))
    update = subprocess.run(["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", env["MYSQL_PORT"], "-u", "root",
                             "-ppassword", "test", "-e", "UPDATE ratings SET Rating = 1 WHERE ReviewID = 1"],
                            capture_output=True, text=True)
    reviews = get(f"http://127.0.0.1:{env['REVIEWS_V3_PORT']}/reviews/0")
    check("--with-mysql: a rating changed in the database shows through reviews v3",
          update.returncode == 0 and '"stars": 1, "color": "red"' in reviews, update.stderr + reviews[:300])
    os.killpg(fourth.pid, signal.SIGINT)
    try:
        status = fourth.wait(timeout=30)
    except subprocess.TimeoutExpired:
        status = None
    check("--with-mysql: Ctrl-C stops MariaDB too", status == 0 and not listening(int(env["MYSQL_PORT"])),
          f"status {status}: {read(mysql_log)[-300:]}")


if __name__ == "__main__":
    main()
    sys.exit(check.finish())
