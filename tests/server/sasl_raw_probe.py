#!/usr/bin/python3
"""Raw-socket SASL DIGEST-MD5 probes against a ZooKeeper server configured with the users
alice="secret" and bob="bobpw": prints one line per scenario describing exactly what the server
answered (reply header, token shape, connection closed or not), with the random nonce masked.
Usage: sasl_raw_probe.py <host:port> [--without-users] (the latter for a server configured
without SASL users). Run against a real ZooKeeper and the embedded server, the
transcripts must be identical (tests/server/sasl_test.cc compares them)."""

import hashlib
import re
import socket
import struct
import sys


def frame(body):
    return struct.pack(">i", len(body)) + body


def buffer(data):
    return struct.pack(">i", -1) if data is None else struct.pack(">i", len(data)) + data


class Conn:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=10)
        # ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly.
        self.sock.sendall(frame(struct.pack(">iqiq", 0, 0, 10000, 0) + buffer(b"\0" * 16) + b"\0"))
        self.read_frame()
        self.xid = 0

    def read_exact(self, n):
        """Returns n bytes, or None once the server has closed (EOF or a reset: a client that
        writes to a closed connection may see either)."""
        data = b""
        while len(data) < n:
            try:
                chunk = self.sock.recv(n - len(data))
            except ConnectionError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def read_frame(self):
        head = self.read_exact(4)
        if head is None:
            return None
        return self.read_exact(struct.unpack(">i", head)[0])

    def request(self, opcode, body):
        self.xid += 1
        try:
            self.sock.sendall(frame(struct.pack(">ii", self.xid, opcode) + body))
        except ConnectionError:
            return "closed"
        reply = self.read_frame()
        if reply is None:
            return "closed"
        xid, zxid, err = struct.unpack(">iqi", reply[:16])
        rest = reply[16:]
        # The zxid of a sasl reply is meaningful (0); others carry the server's last zxid.
        shown_zxid = zxid if opcode == 102 else ("0" if zxid == 0 else "last")
        out = "xid=%s zxid=%s err=%d" % ("same" if xid == self.xid else xid, shown_zxid, err)
        if opcode == 102 and len(rest) >= 4:
            (length,) = struct.unpack(">i", rest[:4])
            token = None if length < 0 else rest[4:4 + length]
            out += " token=%s" % ("null" if token is None else mask(token))
        elif rest:
            out += " body=%s" % rest.hex()
        return out

    def sasl(self, token):
        return self.request(102, buffer(token))

    def closed_after(self):
        """True if the server closed the connection (reads EOF before any further reply)."""
        try:
            self.sock.settimeout(5)
            self.xid += 1
            self.sock.sendall(frame(struct.pack(">ii", -2, 11)))  # ping
            return self.read_frame() is None
        except OSError:
            return True


def mask(token):
    text = token.decode("latin-1")
    text = re.sub(r'nonce="[A-Za-z0-9+/]{40}"', 'nonce="<40 base64>"', text)
    text = re.sub(r"rspauth=[0-9a-f]{32}", "rspauth=<32 hex>", text)
    return repr(text)


def h(data):
    return hashlib.md5(data).digest()


def hexh(data):
    return hashlib.md5(data).hexdigest().encode()


def digest_response(user, password, nonce, cnonce=b"c0ffee", uri=b"zookeeper/zk-sasl-md5",
                    realm=b"zk-sasl-md5", extra=b""):
    a1 = h(user + b":" + realm + b":" + password) + b":" + nonce + b":" + cnonce
    a2 = b"AUTHENTICATE:" + uri
    response = hexh(hexh(a1) + b":" + nonce + b":00000001:" + cnonce + b":auth:" + hexh(a2))
    return (b'charset=utf-8,username="' + user + b'",realm="' + realm + b'",nonce="' + nonce +
            b'",nc=00000001,cnonce="' + cnonce + b'",digest-uri="' + uri +
            b'",maxbuf=65536,response=' + response + b",qop=auth" + extra)


def challenge_nonce(conn):
    conn.xid += 1
    conn.sock.sendall(frame(struct.pack(">ii", conn.xid, 102) + buffer(b"")))
    reply = conn.read_frame()
    (length,) = struct.unpack(">i", reply[16:20])
    return re.search(rb'nonce="([^"]*)"', reply[20:20 + length]).group(1)


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    port = int(port)
    lines = []

    def scenario(name, steps):
        conn = Conn(host, port)
        results = steps(conn)
        lines.append("%s: %s; closed=%s" % (name, " | ".join(results), conn.closed_after()))

    if len(sys.argv) > 2 and sys.argv[2] == "--without-users":
        # A server without a JAAS Server section has no SASL server for its connections.
        scenario("without-users", lambda c: [c.sasl(b""), c.sasl(b"username=x"),
                                             c.sasl(b"x" * 5000), c.request(107, b"")])
        print("\n".join(lines))
        return

    scenario("challenge", lambda c: [c.sasl(b"")])
    scenario("initial-garbage", lambda c: [c.sasl(b"\x00\xffgarbage")])

    def good(c, user=b"alice", password=b"secret"):
        nonce = challenge_nonce(c)
        return [c.sasl(digest_response(user, password, nonce)), c.request(107, b"")]
    scenario("alice", good)
    scenario("bob", lambda c: good(c, b"bob", b"bobpw"))
    scenario("wrong-password", lambda c: good(c, b"alice", b"nope"))
    # A password no user has: Java's server may check an unknown user against the password of
    # the last user its (shared) callback handler looked up, so a known password is no probe.
    scenario("unknown-user", lambda c: good(c, b"mallory", b"nobody-has-this"))
    scenario("second-exchange", lambda c: good(c) + [c.sasl(b"")])
    scenario("garbage-response", lambda c: [c.sasl(b""), c.sasl(b"\x00\x01\x02 not directives")])
    scenario("oversized-first", lambda c: [c.sasl(b"x" * 4097)])
    scenario("limit-first", lambda c: [c.sasl(b"x" * 4096)])
    scenario("wrong-uri", lambda c: [c.sasl(digest_response(
        b"alice", b"secret", challenge_nonce(c), uri=b"zookeeper/elsewhere"))])
    scenario("wrong-realm", lambda c: [c.sasl(digest_response(
        b"alice", b"secret", challenge_nonce(c), realm=b"other"))])
    scenario("wrong-nonce", lambda c: [c.sasl(digest_response(b"alice", b"secret", b"x" * 40))
                                       if challenge_nonce(c) else "no challenge"])
    scenario("qop-auth-int", lambda c: [c.sasl(digest_response(
        b"alice", b"secret", challenge_nonce(c)).replace(b"qop=auth", b"qop=auth-int"))])
    scenario("duplicate-directive", lambda c: [c.sasl(digest_response(
        b"alice", b"secret", challenge_nonce(c), extra=b',username="alice"'))])
    scenario("maxbuf-not-a-number", lambda c: [c.sasl(digest_response(
        b"alice", b"secret", challenge_nonce(c)).replace(b"maxbuf=65536", b"maxbuf=lots"))])
    scenario("nonce-count-not-hex", lambda c: [c.sasl(digest_response(
        b"alice", b"secret", challenge_nonce(c), extra=b",nonce-count=zz"))])
    scenario("nc-is-ignored", lambda c: [c.sasl(digest_response(
        b"alice", b"secret", challenge_nonce(c)).replace(b"nc=00000001", b"nc=00000002"))])
    scenario("truncated-packet", lambda c: [c.request(102, b"\x00\x00\x00\x10ab")])
    scenario("no-sasl-then-whoami", lambda c: [c.request(107, b"")])
    print("\n".join(lines))


if __name__ == "__main__":
    main()
