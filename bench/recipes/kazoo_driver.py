#!/usr/bin/python3
"""kazoo 2.8's side of the recipes benchmark (zkcpp_recipes_bench).

Same flags, workloads and RESULT line as zkcpp_recipes_driver_main.cc (see its header):
  lock:    one KazooClient (session) per contender, one kazoo Lock each, threads in this
           process, acquire(timeout=30) -> release() in a loop;
  handoff: kazoo's Election (a Lock underneath; run() blocks while leading) on two sessions
           taking turns: the leader's function returns (graceful: run() releases the lock, its
           node is deleted) -> the follower's function is entered.
Run with Debian's interpreter, /usr/bin/python3 (python3-kazoo).
"""

import math
import os
import resource
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError


def now_ns():
    return time.monotonic_ns()


def cpu_ns():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return int((r.ru_utime + r.ru_stime) * 1e9)


def quantile(sorted_values, q):
    """Nearest rank, as driver_common.cc's Quantile."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(int(math.ceil(q * len(sorted_values))), len(sorted_values)))
    return sorted_values[rank - 1]


def print_result(count, errors, seconds, lat_ns, cpu):
    lat_ns = sorted(lat_ns)
    n = max(1, count)
    print("RESULT count=%d errors=%d seconds=%.6f rate=%.1f p50_us=%.1f p99_us=%.1f "
          "max_us=%.1f cpu_us_per_op=%.1f" % (
              count, errors, seconds, count / seconds if seconds > 0 else 0.0,
              quantile(lat_ns, 0.5) / 1e3, quantile(lat_ns, 0.99) / 1e3,
              lat_ns[-1] / 1e3 if lat_ns else 0.0, cpu / 1e3 / n), flush=True)


def connect(hosts):
    client = KazooClient(hosts=hosts, timeout=10.0)
    client.start(timeout=30)
    return client


def lock_phase(locks, seconds):
    n = len(locks)
    go = threading.Event()
    cycles = [0] * n
    errors = [0] * n
    finished = [0] * n
    waits = [[] for _ in range(n)]
    deadline = [0]

    def contender(k):
        go.wait()
        end = deadline[0]
        lock = locks[k]
        while now_ns() < end:
            a = now_ns()
            try:
                got = lock.acquire(timeout=30)
            except Exception as e:  # noqa: BLE001 — counted, reported
                print("acquire: %r" % e, file=sys.stderr)
                got = False
            b = now_ns()
            if not got:
                errors[k] += 1
                continue
            waits[k].append(b - a)
            try:
                lock.release()
                cycles[k] += 1
            except Exception as e:  # noqa: BLE001
                print("release: %r" % e, file=sys.stderr)
                errors[k] += 1
        finished[k] = now_ns()

    threads = [threading.Thread(target=contender, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    cpu0 = cpu_ns()
    t0 = now_ns()
    deadline[0] = t0 + int(seconds * 1e9)
    go.set()
    for t in threads:
        t.join()
    cpu1 = cpu_ns()
    all_waits = [w for ws in waits for w in ws]
    return sum(cycles), sum(errors), (max(finished) - t0) / 1e9, all_waits, cpu1 - cpu0


def run_lock(args):
    clients = [connect(args["hosts"]) for _ in range(args["contenders"])]
    locks = [c.Lock(args["path"], "contender-%d" % i) for i, c in enumerate(clients)]
    warm_errors = 0
    if args["warmup_seconds"] > 0:
        warm_errors = lock_phase(locks, args["warmup_seconds"])[1]
    cycles, errors, seconds, waits, cpu = lock_phase(locks, args["seconds"])
    print_result(cycles, errors + warm_errors, seconds, waits, cpu)
    for c in clients:
        c.stop()
        c.close()
    return 0 if errors + warm_errors == 0 and cycles > 0 else 1


class Participant:
    """One kazoo Election on its own thread: leads until told to stop."""

    def __init__(self, client, path, identifier):
        self.election = client.Election(path, identifier)
        self.leading = threading.Event()
        self.stop = threading.Event()
        self.told_at = 0
        self.thread = threading.Thread(target=self.election.run, args=(self._lead,))

    def _lead(self):
        self.told_at = now_ns()
        self.leading.set()
        self.stop.wait()

    def start(self):
        self.thread.start()


def run_handoff(args):
    clients = [connect(args["hosts"]), connect(args["hosts"])]
    path = args["path"]
    seq = 0
    participants = [Participant(clients[0], path, "participant-%d" % seq), None]
    seq += 1
    participants[0].start()
    if not participants[0].leading.wait(30):
        raise RuntimeError("first leader")
    leader = 0
    errors = 0
    lat = []
    cpu0 = 0
    total = args["warmup_handoffs"] + args["handoffs"]
    for i in range(total):
        if i == args["warmup_handoffs"]:
            cpu0 = cpu_ns()
        follower = 1 - leader
        p = Participant(clients[follower], path, "participant-%d" % seq)
        seq += 1
        participants[follower] = p
        p.start()
        tries = 0
        while True:
            try:
                children = clients[follower].get_children(path)
            except NoNodeError:
                children = []
            if len(children) >= 2:
                break
            tries += 1
            if tries > 10000:
                raise RuntimeError("follower never queued")
            time.sleep(0.001)
        time.sleep(0.02)
        if p.leading.is_set():
            errors += 1
        old = participants[leader]
        t0 = now_ns()
        old.stop.set()  # its run() returns: releases the lock, deleting its node
        if not p.leading.wait(30):
            raise RuntimeError("follower never told")
        if i >= args["warmup_handoffs"]:
            lat.append(p.told_at - t0)
        old.thread.join()
        leader = follower
    cpu1 = cpu_ns()
    print_result(len(lat), errors, sum(lat) / 1e9, lat, cpu1 - cpu0)
    participants[leader].stop.set()
    participants[leader].thread.join()
    for c in clients:
        c.stop()
        c.close()
    return 0 if errors == 0 else 1


def parse(argv):
    args = {"hosts": "", "path": "", "workload": "", "contenders": 1, "seconds": 2.0,
            "warmup_seconds": 1.0, "handoffs": 50, "warmup_handoffs": 10}
    for arg in argv:
        if not arg.startswith("--") or "=" not in arg:
            return None
        key, value = arg[2:].split("=", 1)
        if key not in args:
            return None
        args[key] = type(args[key])(value)
    if not args["hosts"] or not args["path"] or args["workload"] not in ("lock", "handoff"):
        return None
    return args


def main():
    args = parse(sys.argv[1:])
    if args is None:
        print("usage: kazoo_driver.py --hosts=H --path=/p --workload=lock|handoff "
              "[--contenders=N --seconds=S --warmup_seconds=W] "
              "[--handoffs=N --warmup_handoffs=N]", file=sys.stderr)
        return 2
    budget = (args["seconds"] + args["warmup_seconds"] + 120 if args["workload"] == "lock"
              else (args["handoffs"] + args["warmup_handoffs"]) * 2.0 + 120)

    def expire():
        print("kazoo recipes driver: watchdog expired", file=sys.stderr)
        os._exit(3)
    watchdog = threading.Timer(budget, expire)
    watchdog.daemon = True
    watchdog.start()
    rc = run_lock(args) if args["workload"] == "lock" else run_handoff(args)
    sys.stdout.flush()
    os._exit(rc)


if __name__ == "__main__":
    main()
