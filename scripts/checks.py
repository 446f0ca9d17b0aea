"""What the check scripts share: each check counted and printed as 'PASS|FAIL SCOPE: label — detail', the closing
line 'SCOPE: N passed, N failed' that test.sh reads, and free ports. `python3 scripts/checks.py free-ports N` prints
N ports for the shell scripts."""
import socket
import sys


class Checks:
    def __init__(self, scope):
        self.scope, self.results = scope, []

    def __call__(self, label, ok, detail=""):
        """Counts and prints one check; the detail (cut to 600 characters) only when it failed."""
        ok = bool(ok)
        self.results.append(ok)
        shown = "" if ok or detail in ("", None) else " — " + str(detail)[:600]
        print(f"{'PASS' if ok else 'FAIL'} {self.scope}: {label}{shown}", flush=True)
        return ok

    def finish(self):
        """Prints the closing line; the exit status: 0 when there were checks and all passed."""
        passed = sum(self.results)
        print(f"{self.scope}: {passed} passed, {len(self.results) - passed} failed", flush=True)
        return 0 if self.results and all(self.results) else 1


def free_ports(count):
    """`count` distinct TCP ports on 127.0.0.1 that were free a moment ago."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "free-ports" and sys.argv[2].isdigit():
        print(" ".join(map(str, free_ports(int(sys.argv[2])))))
    else:
        sys.exit("usage: checks.py free-ports N")
