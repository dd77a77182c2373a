"""A minimal FastCGI client (responder role), so tests can talk to a worker
directly, without nginx in between: to send what nginx never would (a body
larger than CONTENT_LENGTH says) and to reach a worker started by the test."""

import socket
import struct

FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT = 1, 3, 4, 5, 6


def _record(rtype, content, request_id=1):
    out = b""
    for i in range(0, max(len(content), 1), 65535):
        chunk = content[i:i + 65535]
        pad = -len(chunk) % 8
        out += struct.pack("!BBHHBx", 1, rtype, request_id, len(chunk), pad) + chunk + b"\0" * pad
        if not content:
            break
    return out


def _length(n):
    return struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 0x80000000)


def _params(params):
    body = b""
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        body += _length(len(k)) + _length(len(v)) + k + v
    return body


def params(method, path, body=b"", token=None, **extra):
    """The parameters nginx passes for an API request from 127.0.0.1: a JSON
    body when there is one, the bearer token when given; extra ones are
    added or replace these."""
    p = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "",
         "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1"}
    if body:
        p["CONTENT_TYPE"] = "application/json"
    if token:
        p["HTTP_AUTHORIZATION"] = "Bearer " + token
    p.update(extra)
    return p


class Connection:
    """One FastCGI connection to address ((host, port) or a Unix socket path).
    With keep=True every request asks the application to keep it open
    (FCGI_KEEP_CONN), as nginx does with fastcgi_keep_conn on."""

    def __init__(self, address, keep=True, timeout=10, source=None):
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if source is not None:          # the local address to connect from
            self.sock.bind((source, 0))
        self.sock.connect(address)
        self.keep = keep
        self.buf = b""

    def request(self, params, body=b""):
        """Returns (status, headers dict with lower-case names, body bytes)."""
        msg = _record(FCGI_BEGIN_REQUEST, struct.pack("!HB5x", 1, 1 if self.keep else 0))
        msg += _record(FCGI_PARAMS, _params(params)) + _record(FCGI_PARAMS, b"")
        for i in range(0, len(body), 32768):
            msg += _record(FCGI_STDIN, body[i:i + 32768])
        msg += _record(FCGI_STDIN, b"")
        self.sock.sendall(msg)
        out = b""
        while True:
            while len(self.buf) >= 8:
                _, rtype, _, clen, pad = struct.unpack("!BBHHBx", self.buf[:8])
                if len(self.buf) < 8 + clen + pad:
                    break
                if rtype == FCGI_STDOUT:
                    out += self.buf[8:8 + clen]
                self.buf = self.buf[8 + clen + pad:]
                if rtype == FCGI_END_REQUEST:
                    return parse_cgi(out)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the FastCGI connection closed before the request ended")
            self.buf += data

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def request(address, params, body=b"", timeout=10, source=None):
    """Sends one request on a connection of its own (from the local address
    source, when given), which the application closes after the response."""
    with Connection(address, keep=False, timeout=timeout, source=source) as c:
        return c.request(params, body)


def parse_cgi(raw):
    """Splits CGI response bytes into (status, headers, body)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode().split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    status = int(headers.get("status", "200").split()[0])
    return status, headers, body
