#!/usr/bin/env python3
"""A witness for the tests: a UDP syslog collector and an HTTP endpoint on
loopback.  Prints "UDP_PORT HTTP_PORT" once listening; appends every
syslog datagram to OUT.syslog and every POSTed body to OUT.http, each
followed by a line "==".  With --fail-first N the HTTP endpoint answers
503 to the first N posts (to test retries)."""
import http.server
import socket
import sys
import threading

out = sys.argv[1]
fail_first = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--fail-first" else 0
posts = [0]

udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        posts[0] += 1
        if posts[0] <= fail_first:
            self.send_response(503)
            self.end_headers()
            return
        with open(out + ".http", "ab") as f:
            f.write(body + b"\n==\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(udp.getsockname()[1], httpd.server_address[1], flush=True)


def serve_udp():
    while True:
        data, _ = udp.recvfrom(65535)
        with open(out + ".syslog", "ab") as f:
            f.write(data + b"\n==\n")


threading.Thread(target=serve_udp, daemon=True).start()
httpd.serve_forever()
