#!/usr/bin/python3
"""kazoo 2.8 over TLS against zkcpp-server's TLS port (--secure_port, clientAuth need): connect
with a client certificate, create / get / set / delete, a data watch; a client without a
certificate is refused. The key material is made for the run with the openssl tool.

Usage: kazoo_tls.py <path to zkcpp-server>. Exits non-zero on the first unexpected result;
prints a one-line summary."""

import os
import subprocess
import sys
import tempfile
import threading

from kazoo.client import KazooClient
from kazoo.handlers.threading import KazooTimeoutError


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_pki(directory):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by it."""
    path = lambda name: os.path.join(directory, name)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2",
            "-subj", "/CN=kazoo-tls test CA")
    for name, extension in (("server", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
                            ("client", "extendedKeyUsage=clientAuth")):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", path(name + ".key"), "-out", path(name + ".csr"),
                "-subj", "/CN=kazoo-tls " + name)
        with open(path(name + ".ext"), "w") as ext:
            ext.write(extension + "\n")
        openssl("x509", "-req", "-in", path(name + ".csr"), "-CA", path("ca.pem"),
                "-CAkey", path("ca.key"), "-CAcreateserial", "-days", "2",
                "-extfile", path(name + ".ext"), "-out", path(name + ".pem"))
    return path


def main():
    with tempfile.TemporaryDirectory(prefix="zkcpp-kazoo-tls-") as directory:
        path = make_pki(directory)
        server = subprocess.Popen(
            [sys.argv[1], "--port=0", "--secure_port=0", "--tls_cert_file=" + path("server.pem"),
             "--tls_key_file=" + path("server.key"), "--tls_ca_file=" + path("ca.pem"),
             "--tls_client_auth=need"], stdout=subprocess.PIPE, text=True)
        try:
            server.stdout.readline()  # the plain port
            hosts = server.stdout.readline().strip()
            if not hosts:
                raise AssertionError("zkcpp-server printed no TLS connect string")
            run(hosts, path)
        finally:
            server.terminate()
            server.wait(timeout=10)


def run(hosts, path):
    checks = 0

    def check(condition, what):
        nonlocal checks
        if not condition:
            raise AssertionError(what)
        checks += 1

    client = KazooClient(hosts=hosts, timeout=10, use_ssl=True, ca=path("ca.pem"),
                         certfile=path("client.pem"), keyfile=path("client.key"))
    client.start(timeout=10)
    try:
        client.create("/kazoo-tls", b"v1")
        data, stat = client.get("/kazoo-tls")
        check(data == b"v1" and stat.version == 0, "get after create: %r" % data)
        fired = threading.Event()
        events = []

        def watch(event):
            events.append((event.type, event.path))
            fired.set()
        client.get("/kazoo-tls", watch=watch)
        client.set("/kazoo-tls", b"v2")
        check(fired.wait(10) and events == [("CHANGED", "/kazoo-tls")], "watch: %r" % events)
        # A value larger than one TLS record.
        big = b"x" * (200 * 1024)
        client.create("/kazoo-tls/big", big)
        check(client.get("/kazoo-tls/big")[0] == big, "big value")
        client.delete("/kazoo-tls", recursive=True)
        check(client.exists("/kazoo-tls") is None, "delete")
    finally:
        client.stop()
        client.close()

    # clientAuth=need: without a certificate the handshake fails, every attempt.
    anonymous = KazooClient(hosts=hosts, timeout=2, use_ssl=True, ca=path("ca.pem"),
                            connection_retry={"max_tries": 1})
    try:
        anonymous.start(timeout=2)
        check(False, "a client without a certificate connected")
    except KazooTimeoutError:
        checks += 1
    finally:
        anonymous.stop()
        anonymous.close()
    print("kazoo over TLS: %d checks passed" % checks)


if __name__ == "__main__":
    main()
