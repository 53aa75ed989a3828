#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A misbehaving registry (and token server) on loopback, for berth-pull's adversarial tests.

    pull-hostile-registry.py LAYOUT PORTFILE

Serves the image tagged "busybox" of the OCI layout LAYOUT under many repository names; the name picks the
misbehaviour (see SCENARIOS below). Writes its port to PORTFILE once listening on 127.0.0.1. The same server
also answers as a second host ("localhost:PORT") for redirect and realm tests, and keeps a log of what it saw
at GET /_log (JSON: path, host, whether an Authorization header came and its scheme, Range; never a secret).
GET /_reset clears the log and the per-scenario counters.
"""
import base64
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAYOUT, PORTFILE = sys.argv[1], sys.argv[2]
USER, PASSWORD = "berth", "s3cret-pw"
TOKEN = "tok-" + os.urandom(8).hex()

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def blob(d):
    with open(os.path.join(LAYOUT, "blobs", "sha256", d.split(":", 1)[1]), "rb") as f:
        return f.read()


def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


index = json.load(open(os.path.join(LAYOUT, "index.json")))
desc = next(m for m in index["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "busybox")
MANIFEST = blob(desc["digest"])
M = json.loads(MANIFEST)
CONFIG = blob(M["config"]["digest"])
LAYER_DIGEST = M["layers"][0]["digest"]
LAYER = blob(LAYER_DIGEST)
# A config whose rootfs.diff_ids do not match the layers: every blob verifies, the image does not.
_c = json.loads(CONFIG)
_c["rootfs"]["diff_ids"] = []
BAD_CONFIG = json.dumps(_c).encode()
BLOBS = {M["config"]["digest"]: CONFIG, LAYER_DIGEST: LAYER, digest(BAD_CONFIG): BAD_CONFIG}
# "wide": 8 small layers (their bytes are not tars: berth-pull checks digests and sizes, not content), each
# answered after 0.3 s, so the number of blob requests in flight at once shows --jobs at work (GET /_max).
WIDE_LAYERS = [os.urandom(32768) for _ in range(8)]
_c = json.loads(CONFIG)
_c["rootfs"]["diff_ids"] = [digest(b) for b in WIDE_LAYERS]
WIDE_CONFIG = json.dumps(_c).encode()
WIDE = {digest(b) for b in WIDE_LAYERS + [WIDE_CONFIG]}
BLOBS.update({digest(b): b for b in WIDE_LAYERS + [WIDE_CONFIG]})
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)


def manifest_with(**changes):
    m = json.loads(MANIFEST)
    m.update(changes)
    return json.dumps(m).encode()


def layer_desc(**changes):
    d = dict(M["layers"][0])
    d.update(changes)
    return d


# An index whose host entry claims to be a manifest but is itself an index (the same document shape).
INNER_INDEX = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
    {"mediaType": OCI_MANIFEST, "digest": desc["digest"], "size": len(MANIFEST),
     "platform": {"os": "linux", "architecture": ARCH}}]}).encode()
SELF_INDEX = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
    {"mediaType": OCI_MANIFEST, "digest": digest(INNER_INDEX), "size": len(INNER_INDEX),
     "platform": {"os": "linux", "architecture": ARCH}}]}).encode()
NESTED_INDEX = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
    {"mediaType": OCI_INDEX, "digest": digest(INNER_INDEX), "size": len(INNER_INDEX),
     "platform": {"os": "linux", "architecture": ARCH}}]}).encode()
DOCS = {digest(INNER_INDEX): (INNER_INDEX, OCI_INDEX), digest(MANIFEST): (MANIFEST, OCI_MANIFEST)}

# Manifests by scenario: (body, content type).
MANIFESTS = {
    "badjson": (b'{"schemaVersion": 2, "config": ', OCI_MANIFEST),
    "ambiguous": (manifest_with(manifests=[]), OCI_MANIFEST),
    "ctmismatch": (MANIFEST, OCI_INDEX),
    "mtmismatch": (manifest_with(mediaType=OCI_INDEX), OCI_INDEX),
    "schema1": (json.dumps({"schemaVersion": 1, "name": "x", "tag": "latest", "fsLayers": []}).encode(),
                "application/vnd.docker.distribution.manifest.v1+prettyjws"),
    "traversal": (manifest_with(layers=[layer_desc(digest="sha256:../../../../etc/passwd")]), OCI_MANIFEST),
    "upperhex": (manifest_with(layers=[layer_desc(digest=LAYER_DIGEST.upper().replace("SHA256", "sha256"))]),
                 OCI_MANIFEST),
    "md5": (manifest_with(layers=[layer_desc(digest="md5:d41d8cd98f00b204e9800998ecf8427e")]), OCI_MANIFEST),
    "shortdigest": (manifest_with(layers=[layer_desc(digest=LAYER_DIGEST[:-2])]), OCI_MANIFEST),
    "selfindex": (SELF_INDEX, OCI_INDEX),
    "nestedindex": (NESTED_INDEX, OCI_INDEX),
    "bigconfig": (manifest_with(config=dict(M["config"], size=5 << 20)), OCI_MANIFEST),
    "manylayers": (manifest_with(layers=[layer_desc()] * 1001), OCI_MANIFEST),
    "wide": (manifest_with(config=dict(M["config"], digest=digest(WIDE_CONFIG), size=len(WIDE_CONFIG)),
                           layers=[layer_desc(digest=digest(b), size=len(b)) for b in WIDE_LAYERS]), OCI_MANIFEST),
    # The layer's bytes under other media types (berth-pull checks digests, not the compression).
    "mtzstd": (manifest_with(layers=[layer_desc(mediaType="application/vnd.oci.image.layer.v1.tar+zstd")]),
               OCI_MANIFEST),
    "mttar": (manifest_with(layers=[layer_desc(mediaType="application/vnd.oci.image.layer.v1.tar")]), OCI_MANIFEST),
    "diffids": (manifest_with(config=dict(M["config"], digest=digest(BAD_CONFIG), size=len(BAD_CONFIG))),
                OCI_MANIFEST),
}


class State:
    lock = threading.Lock()
    log = []
    counters = {}
    inflight = 0
    max_inflight = 0

    @classmethod
    def enter(cls, n):
        with cls.lock:
            cls.inflight += n
            cls.max_inflight = max(cls.max_inflight, cls.inflight)

    @classmethod
    def count(cls, key):
        with cls.lock:
            cls.counters[key] = cls.counters.get(key, 0) + 1
            return cls.counters[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("hostile: %s %s\n" % (self.address_string(), fmt % args))

    def send(self, code, body=b"", ctype="application/json", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def error(self, code, ecode, msg, headers=()):
        self.send(code, json.dumps({"errors": [{"code": ecode, "message": msg}]}).encode(), headers=headers)

    def record(self):
        auth = self.headers.get("Authorization")
        State.log.append({"path": self.path, "host": self.headers.get("Host", ""),
                          "auth": auth.split(" ")[0] if auth else None,
                          "range": self.headers.get("Range"), "port": self.client_address[1]})

    def via_localhost(self):
        """Asked as localhost:PORT, this is a registry whose /v2/ wants a token (for login tests)."""
        return self.headers.get("Host", "").startswith("localhost:")

    def challenge(self, repo, realm_host=None):
        port = self.server.server_address[1]
        realm_host = realm_host or ("localhost" if self.via_localhost() else "127.0.0.1")
        realm = "http://%s:%d/token" % (realm_host, port)
        scope = ',scope="repository:%s:pull"' % repo if repo else ""
        return [("WWW-Authenticate", 'Bearer realm="%s",service="hostile"%s' % (realm, scope))]

    def proxy(self):
        """A forward proxy for plain http (an absolute URI in the request line), for the proxy test."""
        import http.client
        import urllib.parse
        u = urllib.parse.urlsplit(self.path)
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
        headers = {k: v for k, v in self.headers.items() if not k.lower().startswith("proxy-")}
        conn.request("GET", u.path + ("?" + u.query if u.query else ""), headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        conn.close()

    def do_GET(self):
        self.record()
        if self.path.startswith("http://"):
            return self.proxy()
        p = self.path.split("?")[0]
        if p == "/_log":
            return self.send(200, json.dumps(State.log).encode())
        if p == "/_reset":
            State.log.clear()
            State.counters.clear()
            State.max_inflight = 0
            return self.send(200, b"{}")
        if p == "/_max":
            return self.send(200, str(State.max_inflight).encode(), "text/plain")
        if p == "/token":
            return self.token()
        if p.startswith("/_signed/"):
            return self.error(403, "AccessDenied", "signature expired")
        if p.startswith("/_blob/"):
            return self.send(200, BLOBS.get(p[7:], b""), "application/octet-stream")
        if p == "/_redirect_loop":
            return self.send(307, headers=[("Location", "/_redirect_loop")])
        if p == "/v2/" or p == "/v2":
            if self.via_localhost() and self.headers.get("Authorization", "") != "Bearer " + TOKEN:
                return self.error(401, "UNAUTHORIZED", "authentication required", self.challenge(None))
            return self.send(200, b"{}")
        parts = p.split("/")
        if len(parts) < 5 or parts[1] != "v2":
            return self.error(404, "NAME_UNKNOWN", "no such path")
        repo, kind, ref = "/".join(parts[2:-2]), parts[-2], parts[-1]
        if not self.authorised(repo):
            return
        if kind == "manifests":
            return self.manifest(repo, ref)
        if kind == "blobs":
            return self.blob(repo, ref)
        return self.error(404, "NAME_UNKNOWN", "no such path")

    def authorised(self, repo):
        auth = self.headers.get("Authorization", "")
        if repo in ("bearer", "bearer-anon", "evilrealm"):
            if auth == "Bearer " + TOKEN:
                return True
            self.error(401, "UNAUTHORIZED", "authentication required",
                       self.challenge(repo, "localhost" if repo == "evilrealm" else None))
            return False
        if repo == "bigtoken" and auth != "Bearer " + TOKEN:
            self.error(401, "UNAUTHORIZED", "authentication required", self.challenge(repo))
            return False
        if repo == "auth401loop":
            self.error(401, "UNAUTHORIZED", "authentication required", self.challenge(repo))
            return False
        if repo in ("basic", "basicredirect", "basicredirectport", "basicurls"):
            good = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
            if auth == good:
                return True
            self.error(401, "UNAUTHORIZED", "authentication required",
                       [("WWW-Authenticate", 'Basic realm="hostile"')])
            return False
        return True

    def token(self):
        auth = self.headers.get("Authorization", "")
        q = self.path.split("?", 1)[1] if "?" in self.path else ""
        if "bigtoken" in q:
            return self.endless("application/json")
        if "bearer-anon" in q:
            return self.send(200, json.dumps({"token": TOKEN}).encode())
        good = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
        if auth != good:
            return self.error(401, "UNAUTHORIZED", "bad credentials")
        return self.send(200, json.dumps({"token": TOKEN, "expires_in": 300}).encode())

    def manifest(self, repo, ref):
        if repo == "stall":
            time.sleep(30)
            return
        if repo == "endlessmanifest":
            return self.endless(OCI_MANIFEST)
        if repo == "bigmanifest":
            body = b'{"schemaVersion": 2, "pad": "' + b"x" * (5 << 20) + b'"}'
            return self.send(200, body, OCI_MANIFEST)
        if repo in ("flaky", "ratelimit"):
            n = State.count(repo)
            if n <= 2:
                code = 503 if repo == "flaky" else 429
                return self.error(code, "TOOMANYREQUESTS", "slow down", [("Retry-After", "1")])
        if repo == "reset" and State.count(repo) <= 2:
            # ECONNRESET: an abortive close (RST) before any answer.
            import socket
            import struct
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if repo == "bigerror":
            return self.endless("application/json", code=404)
        if repo == "busy":
            return self.error(503, "UNAVAILABLE", "always busy", [("Retry-After", "0")])
        if repo == "notfound":
            return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        if ref.startswith("sha256:"):
            if repo == "digestlie":
                return self.send(200, manifest_with(annotations={"x": "y"}), OCI_MANIFEST,
                                 [("Docker-Content-Digest", ref)])
            if ref in DOCS:
                return self.send(200, DOCS[ref][0], DOCS[ref][1])
        if repo in MANIFESTS:
            body, ctype = MANIFESTS[repo]
            return self.send(200, body, ctype)
        if repo == "urls":
            port = self.server.server_address[1]
            body = manifest_with(layers=[layer_desc(urls=["http://localhost:%d/_evil" % port])])
            return self.send(200, body, OCI_MANIFEST)
        if repo == "basicurls":
            # A usable URL after unusable ones (another scheme; plain http to a host that is not loopback).
            port = self.server.server_address[1]
            body = manifest_with(layers=[layer_desc(urls=[
                "ftp://localhost/x", "http://example.com/x",
                "http://localhost:%d/_blob/%s" % (port, LAYER_DIGEST)])])
            return self.send(200, body, OCI_MANIFEST)
        return self.send(200, MANIFEST, OCI_MANIFEST, [("Docker-Content-Digest", digest(MANIFEST))])

    def blob(self, repo, d):
        if d not in BLOBS:
            return self.error(404, "BLOB_UNKNOWN", "blob unknown")
        data = BLOBS[d]
        if d in WIDE:
            State.enter(1)
            time.sleep(0.3)
            State.enter(-1)
            return self.send(200, data, "application/octet-stream")
        if d != LAYER_DIGEST:
            return self.send(200, data, "application/octet-stream")
        port = self.server.server_address[1]
        if repo == "baddigest":
            return self.send(200, data[:-1] + bytes([data[-1] ^ 1]), "application/octet-stream")
        if repo == "longblob":
            return self.send(200, data + b"\0", "application/octet-stream")
        if repo == "shortblob":
            return self.send(200, data[:-1], "application/octet-stream")
        if repo == "truncated":
            return self.half(data)
        if repo == "endless":
            return self.endless("application/octet-stream")
        if repo == "stallblob":
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            time.sleep(30)
            return
        if repo in ("redirect", "basicredirect"):
            return self.send(307, headers=[("Location", "http://localhost:%d/_blob/%s" % (port, d))])
        if repo == "signedredirect":
            # To blob storage with a pre-signed URL, which refuses: its signature must never be printed.
            return self.send(307, headers=[("Location", "http://localhost:%d/_signed/%s?X-Amz-Signature=s1gn4ture"
                                                        % (port, d))])
        if repo == "basicredirectport":
            # Same host, another port: another origin (CVE-2022-27776).
            return self.send(307, headers=[("Location", "http://127.0.0.1:%d/_blob/%s" % (PORT2, d))])
        if repo == "redirectloop":
            return self.send(307, headers=[("Location", "/_redirect_loop")])
        if repo == "redirectfile":
            return self.send(307, headers=[("Location", "file:///etc/passwd")])
        if repo.startswith("slow"):
            rng = self.headers.get("Range")
            start = int(rng.split("=")[1].rstrip("-")) if rng else 0
            self.send_response(206 if rng else 200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data) - start))
            if rng:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
            self.end_headers()
            try:
                if rng:
                    self.wfile.write(data[start:])
                    return
                # Half at once, then the rest slowly (~2 s): time to kill or race a pull mid-blob.
                half = len(data) // 2
                self.wfile.write(data[:half])
                self.wfile.flush()
                for off in range(half, len(data), 16384):
                    time.sleep(0.03)
                    self.wfile.write(data[off:off + 16384])
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            return
        if repo in ("resume", "norange", "badrange"):
            rng = self.headers.get("Range")
            if not rng:
                return self.half(data)
            start = int(rng.split("=")[1].rstrip("-"))
            if repo == "norange":
                return self.send(200, data, "application/octet-stream")
            if repo == "badrange":
                start -= 10
            body = data[start:]
            return self.send(206, body, "application/octet-stream",
                             [("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))])
        return self.send(200, data, "application/octet-stream")

    def half(self, data):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True

    def endless(self, ctype, code=200):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(100000):  # ~6 GiB: "endless" for any client that does not stop
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
# The same server on a second port, a different origin on the same host.
srv2 = Server(("127.0.0.1", 0), Handler)
PORT2 = srv2.server_address[1]
threading.Thread(target=srv2.serve_forever, daemon=True).start()
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
