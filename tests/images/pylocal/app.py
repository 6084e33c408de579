"""A tiny JSON web app on the standard library only (http.server, json),
for pare's test of a from-source python layout: it answers with the
prefix the interpreter found, so a minified image that lost its standard
library, or found another, fails visibly."""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(
            {"path": self.path, "prefix": sys.prefix, "version": sys.version_info[:2]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", 8088), Handler).serve_forever()
