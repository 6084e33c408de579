"""A tiny JSON web app for pare's tests: every request touches ssl, sqlite3
and zoneinfo, so a minified image that lost any of them fails visibly."""
import datetime
import json
import os
import sqlite3
import ssl
import zoneinfo
from http.server import BaseHTTPRequestHandler, HTTPServer


def answer(path):
    db = sqlite3.connect(":memory:")
    db.execute("create table visits (path text)")
    db.execute("insert into visits values (?)", (path,))
    (count,) = db.execute("select count(*) from visits").fetchone()
    context = ssl.create_default_context()
    paris = datetime.datetime(2024, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    return {
        "path": path,
        "visits": count,
        "sqlite": sqlite3.sqlite_version,
        "openssl": ssl.OPENSSL_VERSION,
        "ca_certs": context.cert_store_stats()["x509_ca"],
        "paris_utc_offset": paris.utcoffset().total_seconds(),
    }


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(answer(self.path)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
