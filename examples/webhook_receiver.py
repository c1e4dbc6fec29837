#!/usr/bin/env python3
"""A webhook receiver for trying Gatehouse locally: listens on 127.0.0.1:9000, prints each delivery
(its webhook-id header and JSON body) and answers 204. It stops after one delivery, or after the
number given as its argument (0: never)."""

import http.server
import sys

limit = int(sys.argv[1]) if len(sys.argv) > 1 else 1
seen = 0


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
        print(f"webhook {self.headers.get('webhook-id')}: {body}", flush=True)
        self.send_response(204)
        self.end_headers()
        seen += 1

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 9000), Receiver)
while limit == 0 or seen < limit:
    server.handle_request()
