#!/usr/bin/env python3
"""A stand-in for the Lambda Runtime API, as much as awslambdaric uses: hands
out one invocation of EVENT (JSON), prints the function's answer and exits
(1 on an error report, 2 when no answer came within 60 s).

    fake_runtime_api.py PORT EVENT
    docker run --network host -e AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT IMAGE
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REQUEST_ID = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
PREFIX = "/2018-06-01/runtime/"


class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # awslambdaric keeps its connection open

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path != PREFIX + "invocation/next":
            return self.reply(404, {"errorMessage": self.path})
        deadline = int(time.time() * 1000) + 30_000
        self.reply(200, self.server.event, [
            ("Lambda-Runtime-Aws-Request-Id", REQUEST_ID),
            ("Lambda-Runtime-Deadline-Ms", str(deadline)),
            ("Lambda-Runtime-Invoked-Function-Arn",
             "arn:aws:lambda:eu-central-1:123456789012:function:pare-test"),
            ("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1"),
        ])

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.reply(202, {"status": "OK"})
        self.close_connection = True
        self.server.result = (self.path, body.decode())

    def log_message(self, *args):
        pass


def main():
    port, event = int(sys.argv[1]), json.loads(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", port), Api)
    server.daemon_threads = True
    server.event, server.result, server.timeout = event, None, 0.2
    deadline = time.time() + 60
    while server.result is None:
        if time.time() > deadline:
            sys.exit(2)
        server.handle_request()
    path, body = server.result
    print(body)
    sys.exit(0 if path == PREFIX + f"invocation/{REQUEST_ID}/response" else 1)


if __name__ == "__main__":
    main()
