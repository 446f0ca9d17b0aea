#!/usr/bin/env python3
"""Opens N connections that each send one byte of a request head per second, for the given seconds."""
import socket
import sys
import time

host, port, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
head = b"GET /details/0 HTTP/1.1\r\nHost: slow\r\nX-Slow: " + b"x" * 200
sockets = []
for _ in range(count):
    s = socket.create_connection((host, port))
    sockets.append([s, 0])
end = time.time() + seconds
while time.time() < end:
    for entry in sockets:
        s, sent = entry
        if s is None:
            continue
        try:
            s.send(head[sent % len(head):sent % len(head) + 1])
            entry[1] = sent + 1
        except OSError:
            entry[0] = None
    time.sleep(1)
alive = sum(1 for s, _ in sockets if s is not None)
print(f"slow clients still connected at the end: {alive} of {count}")
