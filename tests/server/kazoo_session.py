#!/usr/bin/python3
"""A scripted kazoo 2.8 session against zkcpp-server: kazoo is one of the peer clients the
embedded server must serve as ZooKeeper 3.8.0 does (it also asks the server's version with the
`envi` four-letter word). Usage: kazoo_session.py <path to zkcpp-server>. Exits non-zero on the
first mismatch; prints a one-line summary."""

import subprocess
import sys
import threading

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError, NotEmptyError


def main():
    server = subprocess.Popen([sys.argv[1], "--port=0", "--four_letter_words=srvr,envi"], stdout=subprocess.PIPE, text=True)
    try:
        hosts = server.stdout.readline().strip()
        client = KazooClient(hosts=hosts, timeout=10)
        client.start(timeout=10)
        checks = 0

        def check(condition, what):
            nonlocal checks
            if not condition:
                raise AssertionError(what)
            checks += 1

        version = client.server_version()
        check(version[:2] == (3, 8), "server_version() via envi: %r" % (version,))
        client.ensure_path("/kazoo/a")
        check(client.exists("/kazoo/a") is not None, "ensure_path")
        client.create("/kazoo/a/n", b"v1")
        data, stat = client.get("/kazoo/a/n")
        check(data == b"v1" and stat.version == 0, "get after create")
        client.set("/kazoo/a/n", b"v2", version=0)
        try:
            client.set("/kazoo/a/n", b"v3", version=0)
            check(False, "stale set must fail")
        except BadVersionError:
            checks += 1
        try:
            client.create("/kazoo/a/n", b"")
            check(False, "duplicate create must fail")
        except NodeExistsError:
            checks += 1
        try:
            client.delete("/kazoo/a")
            check(False, "delete of a parent must fail")
        except NotEmptyError:
            checks += 1
        try:
            client.get("/kazoo/missing")
            check(False, "get of a missing node must fail")
        except NoNodeError:
            checks += 1
        sequential = client.create("/kazoo/a/s-", b"", sequence=True, ephemeral=True)
        check(sequential.startswith("/kazoo/a/s-") and len(sequential) == len("/kazoo/a/s-") + 10,
              "sequential name %s" % sequential)
        fired = threading.Event()
        seen = []

        def on_change(event):
            seen.append((event.type, event.path))
            fired.set()

        client.get("/kazoo/a/n", watch=on_change)
        client.set("/kazoo/a/n", b"v4")
        check(fired.wait(10) and seen == [("CHANGED", "/kazoo/a/n")], "data watch: %r" % seen)
        transaction = client.transaction()
        transaction.create("/kazoo/a/t1", b"")
        transaction.check("/kazoo/a/n", 2)
        transaction.set_data("/kazoo/a/n", b"v5")
        results = transaction.commit()
        check(results[0] == "/kazoo/a/t1" and len(results) == 3, "transaction: %r" % results)
        failed = client.transaction()
        failed.create("/kazoo/a/t2", b"")
        failed.check("/kazoo/a/n", 0)
        results = failed.commit()
        check(client.exists("/kazoo/a/t2") is None and len(results) == 2,
              "failed transaction applied nothing: %r" % results)
        children = sorted(client.get_children("/kazoo/a"))
        check(children == sorted(["n", "t1", sequential.rsplit("/", 1)[1]]), "children %r" % children)
        client.delete("/kazoo", recursive=True)
        check(client.exists("/kazoo") is None, "recursive delete")
        client.stop()
        client.close()
        print("kazoo session: %d checks passed" % checks)
        return 0
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
