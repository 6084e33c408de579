"""Answers with the versions of the old libraries it imports (port 8090)."""
import http.server

import jinja2
import urllib3


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"urllib3 {urllib3.__version__} jinja2 {jinja2.__version__}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("0.0.0.0", 8090), Handler).serve_forever()
