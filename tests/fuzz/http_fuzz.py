#!/usr/bin/env python3
"""Seeded, bounded fuzz run against a running Tchat stack (127.0.0.1 only).

Reads every route (path and methods) from docs/api/openapi.yaml and sends, to
the service that owns it and through the gateway: random and deeply nested
JSON, bodies that are not JSON or not UTF-8, hostile path parameters and query
strings; then malformed HTTP (bad request lines, bare line feeds split over
segments, broken chunked bodies, conflicting lengths) to every port; then
malformed, oversized and random WebSocket frames to messaging's /v1/ws with a
signed-in user. The inputs are a function of the seed alone.

Fails (exit 1) on any 5xx, any request that neither gets an answer nor a close
within the per-request timeout (a hang), a malformed request closed without an
answer, an error body quoting PostgreSQL or internals, or a service that stops
answering /health (a crash). Prints the counts by outcome.

Environment (set by scripts/test.sh): TCHAT_TEST_{AUTH,MESSAGING,PAYMENT,
NOTIFICATION}_URL, TCHAT_TEST_GATEWAY_URL. Options: --seed, --max-requests,
--max-seconds, --timeout.
"""

import argparse
import base64
import collections
import json
import os
import pathlib
import random
import re
import socket
import sys
import time
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVICES = ("auth", "messaging", "payment", "notification")
# Path prefixes of each service (README.md, deploy/nginx/); the operations routes
# (/health, /metrics, /debug/...) are on every service.
OWNERS = {
    "auth": ("/v1/auth", "/v1/users", "/.well-known/"),
    "messaging": ("/v1/conversations", "/v1/sync", "/v1/presence", "/v1/blocks", "/v1/ws"),
    "payment": ("/v1/wallets", "/v1/transfers", "/v1/payment-requests", "/v1/topups",
                "/v1/withdrawals", "/v1/transactions", "/v1/webhooks/", "/v1/admin/ledger"),
    "notification": ("/v1/devices", "/v1/notifications", "/v1/notification-preferences",
                     "/v1/admin/dead-letters", "/v1/admin/poison-events"),
}
# What an error body must never quote (PostgreSQL's messages, internals).
LEAKS = re.compile(r"SQLSTATE|violates .* constraint|duplicate key|relation \"|at or near|"
                   r"invalid byte sequence|invalid input syntax|libpq|PQ[a-z]|postgres|"
                   r"server closed the connection|std::|what\(\)|exception", re.I)
FAILURE_KINDS = ("hang", "refused", "closed without an answer", "internal text in the body",
                 "crash", "no token", "invalid close code not refused")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def parse_routes(spec_path):
    """(path, [METHOD, ...]) for every path of the contract, read line by line."""
    routes, path, in_paths = [], None, False
    for line in spec_path.read_text(encoding="utf-8").splitlines():
        if line == "paths:":
            in_paths = True
            continue
        if in_paths and line and not line.startswith(" "):
            break
        m = re.match(r"^  (/\S*):\s*$", line) if in_paths else None
        if m:
            path = m.group(1)
            routes.append((path, []))
            continue
        m = re.match(r"^    (\w+):", line) if path else None
        if m and m.group(1) in METHODS:
            routes[-1][1].append(m.group(1).upper())
    return [(p, ms) for p, ms in routes if ms]


def owners_of(path):
    for svc, prefixes in OWNERS.items():
        if any(path.startswith(p) for p in prefixes):
            return [svc]
    return list(SERVICES)


class Outcomes:
    """Counts by outcome, and the failures worth printing."""

    def __init__(self):
        self.counts = collections.Counter()
        self.failures = []

    def fail(self, kind, what):
        self.counts[kind] += 1
        if len(self.failures) < 40:
            self.failures.append(f"{kind}: {what}")


# ---- inputs -----------------------------------------------------------------

def random_scalar(rng):
    kind = rng.randrange(8)
    if kind == 0:
        return rng.randint(-2**70, 2**70)
    if kind == 1:
        return rng.choice([0.5, -1e308, 1.7e308, -0.0, 3.14])
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return "".join(chr(rng.randint(1, 0x2FFF)) for _ in range(rng.randint(0, 40)))
    if kind == 4:
        return "x" * rng.choice([0, 1, 255, 256, 4096, 70000])
    if kind == 5:
        return rng.choice(["\u0000", "a\u0000b", "\ud800", "' OR 1=1 --", "../../etc/passwd",
                           "%00", "{{7*7}}", "<script>", "00000000-0000-0000-0000-000000000000"])
    if kind == 6:
        return rng.choice(["THB", "USD", "", "thb", "+66812345678", "2025-01-31T12:00:00.123Z"])
    return rng.randint(-5, 5)


FIELDS = ("phone", "code", "password", "name", "display_name", "amount", "currency", "to_user_id",
          "text", "type", "kind", "member_ids", "user_ids", "title", "token", "platform",
          "device_name", "refresh_token", "idempotency_key", "note", "emoji", "seq", "limit",
          "cursor", "reason", "status", "id", "conversation_id", "client_id", "enabled")


def random_json(rng, depth=0):
    if depth > 3 or rng.random() < 0.3:
        return random_scalar(rng)
    if rng.random() < 0.7:
        return {rng.choice(FIELDS): random_json(rng, depth + 1) for _ in range(rng.randint(0, 6))}
    return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))]


def body_case(rng, i):
    """(content type, body bytes) of case i."""
    kind = i % 8
    if kind == 0:
        return "application/json", json.dumps(random_json(rng)).encode()
    if kind == 1:
        depth = rng.choice([64, 1000, 20000])
        return "application/json", ("[" * depth + "]" * depth).encode()
    if kind == 2:
        depth = rng.choice([64, 1000, 20000])
        return "application/json", ('{"a":' * depth + "1" + "}" * depth).encode()
    if kind == 3:
        return "application/json", b'{"text":"\xff\xfe\xc3\x28","name":"\xed\xa0\x80"}'
    if kind == 4:
        return "application/json", bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))
    if kind == 5:
        doc = json.dumps(random_json(rng))
        return "application/json", doc[: rng.randint(0, max(0, len(doc) - 1))].encode()
    if kind == 6:
        return "text/plain", b"amount=1&currency=THB"
    return "application/json", json.dumps({f: random_scalar(rng) for f in FIELDS}).encode()


HOSTILE = ("%00", "%ff%fe", "..%2f..%2f", "a" * 300, "00000000-0000-0000-0000-000000000000",
           "not-a-uuid", "-1", "99999999999999999999", "%F0%9F%98%80", "%C3%28", "%", "x%zz")


def concrete_path(rng, template):
    path = re.sub(r"\{[^}]+\}", lambda _: rng.choice(HOSTILE), template)
    if rng.random() < 0.5:
        q = rng.choice(["limit=%s" % rng.choice(["0", "-1", "201", "abc", "1e9"]),
                        "cursor=%s" % rng.choice(["%ff", "zzz", "=" * 50, "A" * 2000]),
                        "since=%00", "user_ids=" + ",".join(["x"] * 300), "currency=%C3%28",
                        "a=1&a=2&" * 50, "phone=%2B66"])
        path += "?" + q
    return path


# ---- the wire ---------------------------------------------------------------

def exchange(port, chunks, timeout, pause=0.0):
    """Sends the chunks (pausing between them) and reads until the peer closes.
    Returns (reply bytes, 'answer' | 'closed' | 'hang' | 'refused')."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError:
        return b"", "refused"
    with s:
        s.settimeout(timeout)
        try:
            for i, c in enumerate(chunks):
                if i and pause:
                    time.sleep(pause)
                s.sendall(c)
        except OSError:
            pass  # the server may answer and close before the rest is sent
        reply, deadline = b"", time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                return reply, "answer" if reply else "closed"
            if not data:
                return reply, "answer" if reply else "closed"
            reply += data
            if complete_response(reply):
                return reply, "answer"
        return reply, "answer" if complete_response(reply) else "hang"


def complete_response(reply):
    head, sep, body = reply.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return m is None or len(body) >= int(m.group(1))


def status_of(reply):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", reply)
    return int(m.group(1)) if m else 0


def request_bytes(method, path, headers, body=b""):
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    else:
        body = b""
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + body


def judge(out, label, reply, how, expect_answer=False, allowed_5xx=()):
    """Counts one exchange; a failure for a 5xx (but those allowed), a hang, a
    leak or a refusal."""
    if how in ("hang", "refused"):
        out.fail(how, label)
        return
    if how == "closed":
        if expect_answer:
            out.fail("closed without an answer", label)
        else:
            out.counts["closed"] += 1
        return
    status = status_of(reply)
    out.counts[str(status)] += 1
    body = reply.partition(b"\r\n\r\n")[2].decode("utf-8", "replace")
    if (status >= 500 and status not in allowed_5xx) or status == 0:
        out.fail(f"status {status}", f"{label} -> {body[:200]}")
    elif status >= 400 and LEAKS.search(body):
        out.fail("internal text in the body", f"{label} -> {body[:200]}")


# ---- the cases --------------------------------------------------------------

MALFORMED = (
    [b"GET /health HTTP/1.1 extra\r\nHost: x\r\n\r\n"],
    [b"get /health HTTP/1.1\r\nHost: x\r\n\r\n"],
    [b"\x01\x02\xff /health HTTP/1.1\r\nHost: x\r\n\r\n"],
    [b"GET /health%00 HTTP/1.1\r\nHost: x\r\n\r\n"],
    [b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n"],
    [b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"],
    [b"CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n\r\n"],
    [b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"],
    [b"GET /health HTTP/1.1\nHost: x\n\n"],
    [b"GET /health HTTP/1.1", b"\nHost: x\n", b"\n"],
    [b"GET /health HTTP/1.1\r\nHost: x", b"\nX: y\r\n", b"\r\n"],
    [b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n"],
    [b"GET /health HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n"],
    [b"GET /health HTTP/1.1\r\nHost: x\r\nX: \x00\x01\r\n\r\n"],
    [b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"],
    [b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n"],
    [b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab"],
    [b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n"],
    [b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
     b"Content-Length: 3\r\n\r\n0\r\n\r\n"],
    [b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
     b"zz\r\nab\r\n0\r\n\r\n"],
    [b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
     b"fffffffffffffffffffffff\r\n"],
    [b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
     b"2\r\nabcdef\r\n0\r\n\r\n"],
    [b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
     b"2\r\nab\r\n0\r\n\x01\x02\r\n\r\n"],
    [b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n"],
    [b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"],
)


def fuzz_routes(rng, routes, targets, out, budget, timeout):
    ports = {name: port for name, port in targets.items()}
    i = 0
    while not budget.spent():
        template, methods = routes[i % len(routes)]
        method = rng.choice(methods + ["PATCH", "DELETE"]) if rng.random() < 0.2 else rng.choice(methods)
        if template == "/debug/pprof/heap":
            method = "POST"  # no heap dump per request: only the method check
        content_type, body = body_case(rng, i)
        headers = {"Content-Type": content_type, "X-Real-IP": f"198.51.100.{rng.randrange(1, 255)}"}
        # (Not on auth's routes: a fuzzed logout would end the session.)
        if budget.token and not template.startswith("/v1/auth") and rng.random() < 0.7:
            headers["Authorization"] = "Bearer " + budget.token
        if rng.random() < 0.1:
            headers["X-Request-ID"] = rng.choice(["a" * 500, "bad id", "\u00e9"])
        path = concrete_path(rng, template)
        for name in owners_of(template) + ["gateway"]:
            # Through the gateway: the API routes, but not auth's, whose per-address
            # limits would count the gateway's loopback address for later suites.
            if name == "gateway" and (not template.startswith(("/v1/", "/.well-known"))
                                      or template.startswith("/v1/auth")):
                continue
            reply, how = exchange(ports[name], [request_bytes(method, path, headers, body)], timeout)
            judge(out, f"{name} {method} {path[:80]} ({len(body)} bytes)", reply, how)
            budget.count()
        i += 1


def fuzz_malformed(targets, out, budget, timeout):
    for port_name, port in targets.items():
        for chunks in MALFORMED:
            if budget.spent():
                return
            reply, how = exchange(port, chunks, timeout, pause=0.05)
            # Every malformed request gets an answer, not a silent close: 4xx, or
            # the gateway's 501/505 for what nginx names that way.
            judge(out, f"{port_name} malformed {chunks[0][:40]!r}", reply, how, expect_answer=True,
                  allowed_5xx=(501, 505) if port_name == "gateway" else ())
            budget.count()


# ---- WebSocket --------------------------------------------------------------

def ws_frame(rng, opcode, payload, fin=True, masked=True, rsv=0, length=None):
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 65536:
        head += bytes([mask_bit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([mask_bit | 127]) + n.to_bytes(8, "big")
    if not masked:
        return head + payload
    key = bytes(rng.randrange(256) for _ in range(4))
    return head + key + bytes(b ^ key[j % 4] for j, b in enumerate(payload))


def ws_case(rng, i):
    """The frames of WebSocket case i (complete frames only)."""
    kind = i % 10
    text = json.dumps(random_json(rng)).encode()
    if kind == 0:
        return [ws_frame(rng, 1, text)]
    if kind == 1:
        msg = {"type": rng.choice(["typing", "read", "send", "ping", "subscribe", "x"]),
               "conversation_id": rng.choice(HOSTILE), "seq": random_scalar(rng)}
        return [ws_frame(rng, 1, json.dumps(msg).encode())]
    if kind == 2:
        return [ws_frame(rng, 1, b"\xff\xfe\xc3\x28")]
    if kind == 3:
        return [ws_frame(rng, 1, b"", length=2**40)]  # announced, never sent: refused at once
    if kind == 4:
        return [ws_frame(rng, 1, b"x" * 200000)]
    if kind == 5:
        return [ws_frame(rng, rng.randrange(16), bytes(rng.randrange(256) for _ in range(50)),
                         fin=rng.random() < 0.5, rsv=rng.randrange(8))]
    if kind == 6:
        return [ws_frame(rng, 9, b"p" * 200)]  # control frame over 125 bytes
    if kind == 7:
        return [ws_frame(rng, 0, b"continuation of nothing")]
    if kind == 8:
        code = rng.choice([0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535])
        return [ws_frame(rng, 8, code.to_bytes(2, "big"))]
    return [ws_frame(rng, 1, text, masked=False)]


def ws_handshake(port, token, timeout):
    key = base64.b64encode(os.urandom(16)).decode()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall((f"GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Authorization: Bearer {token}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        data = s.recv(4096)
        if not data:
            break
        head += data
    return s, status_of(head)


def fuzz_websocket(rng, ports, out, budget, timeout):
    if not budget.token:
        out.fail("no token", "the WebSocket cases need a signed-in user")
        return
    for i in range(budget.ws_cases):
        if budget.spent():
            return
        port = ports["messaging"] if i % 2 == 0 else ports["gateway"]
        frames = ws_case(rng, i)
        try:
            s, status = ws_handshake(port, budget.token, timeout)
        except OSError as e:
            out.fail("refused", f"ws handshake: {e}")
            continue
        budget.count()
        with s:
            if status != 101:
                out.counts[f"ws handshake {status}"] += 1
                if status >= 500:
                    out.fail(f"status {status}", "ws handshake")
                continue
            try:
                for f in frames + [ws_frame(rng, 8, (1000).to_bytes(2, "big"))]:
                    s.sendall(f)
            except OSError:
                pass  # closed on the first bad frame
            ending = ws_ending(s, timeout)
            if i % 10 == 8 and ending != "ws close 1002":  # a close code that may not be sent
                out.fail("invalid close code not refused", f"ws case {i}: {ending}")
            elif ending == "ws hang":
                out.fail("hang", f"ws case {i} on port {port}: {frames[0][:20]!r}")
            else:
                out.counts[ending] += 1


def ws_ending(s, timeout):
    """How the server ended the connection: its close code, or 'ws hang'."""
    data, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return "ws hang"
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    code = None
    pos = 0
    while pos + 2 <= len(data):  # the server's frames: find its close
        op, n = data[pos] & 0x0F, data[pos + 1] & 0x7F
        pos += 2
        if n == 126:
            n, pos = int.from_bytes(data[pos:pos + 2], "big"), pos + 2
        elif n == 127:
            n, pos = int.from_bytes(data[pos:pos + 8], "big"), pos + 8
        if op == 8 and n >= 2:
            code = int.from_bytes(data[pos:pos + 2], "big")
        pos += n
    return f"ws close {code}" if code is not None else "ws closed without a close frame"


# ---- the run ----------------------------------------------------------------

class Budget:
    def __init__(self, max_requests, max_seconds, ws_cases):
        self.left = max_requests
        self.deadline = time.monotonic() + max_seconds
        self.ws_cases = ws_cases
        self.token = ""

    def count(self):
        self.left -= 1

    def spent(self):
        return self.left <= 0 or time.monotonic() > self.deadline


def http_json(port, method, path, body, timeout):
    data = json.dumps(body).encode()
    reply, _ = exchange(port, [request_bytes(method, path, {"Content-Type": "application/json",
                                                             "X-Real-IP": "198.51.100.254"}, data)],
                        timeout)
    status = status_of(reply)
    try:
        return status, json.loads(reply.partition(b"\r\n\r\n")[2] or b"{}")
    except ValueError:
        return status, {}


def sign_in(auth_port, rng, timeout):
    """An access token for a fresh user (the stack runs auth with dev OTP codes)."""
    phone = "+6681" + "".join(str(rng.randrange(10)) for _ in range(7))
    status, reply = http_json(auth_port, "POST", "/v1/auth/otp/request", {"phone": phone}, timeout)
    code = reply.get("dev_code") if isinstance(reply, dict) else None
    if status != 202 or not code:
        return ""
    status, reply = http_json(auth_port, "POST", "/v1/auth/otp/verify",
                              {"phone": phone, "code": code, "device_name": "fuzz",
                               "platform": "web"}, timeout)
    return reply.get("access_token", "") if status == 200 else ""


def alive(ports, timeout):
    dead = []
    for name in SERVICES:
        reply, how = exchange(ports[name], [request_bytes("GET", "/health", {})], timeout)
        if how != "answer" or status_of(reply) != 200:
            dead.append(name)
    return dead


def port_of(var):
    url = os.environ.get(var, "")
    port = urllib.parse.urlsplit(url).port
    if not url or not port or urllib.parse.urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
        sys.exit(f"FAIL: {var} must be an http://127.0.0.1:<port> URL (got '{url}')")
    return port


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--max-requests", type=int, default=30000)
    ap.add_argument("--max-seconds", type=float, default=75)
    ap.add_argument("--ws-cases", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=3.0, help="per request, seconds")
    args = ap.parse_args()
    ports = {s: port_of(f"TCHAT_TEST_{s.upper()}_URL") for s in SERVICES}
    ports["gateway"] = port_of("TCHAT_TEST_GATEWAY_URL")
    rng = random.Random(args.seed)
    routes = parse_routes(ROOT / "docs/api/openapi.yaml")
    out = Outcomes()
    budget = Budget(args.max_requests, args.max_seconds, args.ws_cases)
    started = time.monotonic()
    budget.token = sign_in(ports["auth"], rng, args.timeout)
    # The phases share the budget: malformed HTTP and WebSocket first (fixed
    # sizes), the routes take what is left.
    fuzz_malformed(ports, out, budget, args.timeout)
    fuzz_websocket(rng, ports, out, budget, args.timeout)
    fuzz_routes(rng, routes, ports, out, budget, args.timeout)
    for name in alive(ports, args.timeout):
        out.fail("crash", f"{name} does not answer /health after the run")
    sent = args.max_requests - budget.left
    print(f"fuzz: seed {args.seed}, {len(routes)} routes, {sent} requests and WebSocket "
          f"sessions in {time.monotonic() - started:.1f}s")
    for k in sorted(out.counts):
        print(f"  {k}: {out.counts[k]}")
    for f in out.failures:
        print(f"FAIL: {f}")
    failed = sum(n for k, n in out.counts.items() if k in FAILURE_KINDS or k.startswith("status "))
    print(f"fuzz: {failed} failure(s)")
    return 1 if out.failures else 0


if __name__ == "__main__":
    sys.exit(main())
