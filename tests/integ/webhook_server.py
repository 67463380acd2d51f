#!/usr/bin/env python3
"""A webhook for the alert tests, on loopback (stdlib only).  Prints
"PORT DEAD_PORT" once listening (DEAD_PORT was bound and closed: nothing
listens there).  Appends one JSON line per request to OUT:
{"path", "status", "auth", "ctype", "body"}.  Paths:
  /ok      answers 204
  /flaky   answers 500 to its first two requests, then 200
  /slow    sleeps SLOW seconds (default 1.5), then answers 200
Requests are served on their own threads, so a slow one holds no other."""
import http.server
import json
import socket
import sys
import threading
import time

out = sys.argv[1]
slow = float(sys.argv[2]) if len(sys.argv) > 2 else 1.5
hits = {}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        with lock:
            hits[self.path] = hits.get(self.path, 0) + 1
            k = hits[self.path]
        status = 204
        if self.path == "/flaky":
            status = 500 if k <= 2 else 200
        elif self.path == "/slow":
            time.sleep(slow)
            status = 200
        rec = {"path": self.path, "status": status,
               "auth": self.headers.get("Authorization"),
               "ctype": self.headers.get("Content-Type"), "body": body}
        with lock, open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        try:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass    # the client gave up (its timeout) first

    def log_message(self, *args):
        pass


dead = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
dead.bind(("127.0.0.1", 0))
dead_port = dead.getsockname()[1]
dead.close()

httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
httpd.daemon_threads = True
print(httpd.server_address[1], dead_port, flush=True)
httpd.serve_forever()
