#!/usr/bin/python3
"""kazoo 2.8 in the side-by-side suite (protocol and workloads: common/driver_common.h).

Client workloads with KazooClient's blocking calls; pipelined ones with get_async/set_async
whose completion (rawlink, on kazoo's callback thread) issues the next. Recipes:
  lock:    one KazooClient (session) per contender, one kazoo Lock each, threads in this
           process, acquire(timeout=30) -> release() in a loop;
  handoff: kazoo's Election (a Lock underneath; run() blocks while leading) on two sessions
           taking turns: the leader's function returns (run() releases the lock, its node is
           deleted) -> the follower's function is entered;
  config:  `contenders` sessions each with a DataWatch on the config node; a writer's set ->
           the last DataWatch saw the new value.
Run with Debian's interpreter, /usr/bin/python3 (python3-kazoo).
"""

import math
import os
import resource
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError

FLAGS = {"hosts": "", "path": "", "workload": "", "ops": 10000, "warmup_ops": 1000,
         "window": 128, "size": 1024, "contenders": 1, "seconds": 2.0, "warmup_seconds": 1.0}
WAIT = 30


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


class Measurement:
    def __init__(self):
        self.count = 0
        self.errors = 0
        self.wall_ns = 0
        self.cpu_ns = 0
        self.latencies = []


def report(m, warmup_errors=0):
    lat = sorted(m.latencies)
    n = max(1, m.count)
    secs = m.wall_ns / 1e9
    print("RESULT count=%d errors=%d seconds=%.6f rate=%.1f cpu_us_per_op=%.3f user_us_per_op=0 "
          "sys_us_per_op=0 p50_us=%.2f p99_us=%.2f max_us=%.2f" % (
              m.count, m.errors, secs, m.count / secs if secs > 0 else 0.0, m.cpu_ns / 1e3 / n,
              quantile(lat, 0.5) / 1e3, quantile(lat, 0.99) / 1e3,
              lat[-1] / 1e3 if lat else 0.0), flush=True)
    return 0 if m.errors == 0 and warmup_errors == 0 and m.count > 0 else 1


def time_events(n, once):
    """once() returns a latency in ns, or None on failure."""
    m = Measurement()
    cpu0, t0 = cpu_ns(), now_ns()
    for _ in range(n):
        try:
            latency = once()
        except Exception as e:  # noqa: BLE001 — counted, reported
            print("kazoo driver: %r" % e, file=sys.stderr)
            latency = None
        if latency is None:
            m.errors += 1
        else:
            m.latencies.append(latency)
    m.wall_ns, m.cpu_ns, m.count = now_ns() - t0, cpu_ns() - cpu0, n
    return m


def time_ops(n, op):
    def once():
        start = now_ns()
        return now_ns() - start if op() else None
    return time_events(n, once)


def warm_and_measure(args, part):
    warm_errors = part(args["warmup_ops"]).errors if args["warmup_ops"] > 0 else 0
    return report(part(args["ops"]), warm_errors)


def connect(hosts):
    client = KazooClient(hosts=hosts, timeout=10.0)
    client.start(timeout=WAIT)
    return client


def pipelined(client, args, n, get, value):
    m = Measurement()
    state = {"issued": min(args["window"], n), "completed": 0, "errors": 0}
    lock = threading.Lock()
    done = threading.Event()
    path, size = args["path"], args["size"]

    def issue():
        r = client.get_async(path) if get else client.set_async(path, value)
        r.rawlink(complete)

    def complete(result):
        ok = result.successful() and (not get or len(result.get()[0]) == size)
        with lock:
            if not ok:
                state["errors"] += 1
            more = state["issued"] < n
            state["issued"] += 1
            state["completed"] += 1
            last = state["completed"] == n
        if more:
            issue()
        if last:
            done.set()

    cpu0, t0 = cpu_ns(), now_ns()
    for _ in range(min(args["window"], n)):
        issue()
    if not done.wait(300):
        raise RuntimeError("pipelined run timed out")
    m.wall_ns, m.cpu_ns, m.count, m.errors = now_ns() - t0, cpu_ns() - cpu0, n, state["errors"]
    return m


class Countdown:
    """Timestamps the last of `expected` arrivals."""

    def __init__(self, expected):
        self.remaining = expected
        self.at = 0
        self.lock = threading.Lock()
        self.done = threading.Event()

    def arrive(self):
        t = now_ns()
        with self.lock:
            self.remaining -= 1
            if self.remaining == 0:
                self.at = t
                self.done.set()

    def wait(self):
        return self.at if self.done.wait(WAIT) else None


def run_watch(client, args, watchers):
    writer = connect(args["hosts"])
    path = args["path"]

    def once():
        countdown = Countdown(watchers)
        for _ in range(watchers):
            # A distinct function per watcher: kazoo keeps a set of watchers per path.
            client.exists(path, watch=lambda event: countdown.arrive())
        t0 = now_ns()
        writer.set(path, b"w" * 16)
        at = countdown.wait()
        return None if at is None else at - t0
    return warm_and_measure(args, lambda n: time_events(n, once))


def run_client(args):
    w, path, size = args["workload"], args["path"], args["size"]
    if w == "session":
        def once():
            t0 = now_ns()
            c = connect(args["hosts"])
            t1 = now_ns()
            c.stop()
            c.close()
            return t1 - t0
        return warm_and_measure(args, lambda n: time_events(n, once))
    client = connect(args["hosts"])
    value = b"v" * size
    if w == "sync_get":
        return warm_and_measure(args, lambda n: time_ops(n, lambda: len(client.get(path)[0]) == size))
    if w == "sync_set":
        return warm_and_measure(args, lambda n: time_ops(n, lambda: client.set(path, value)))
    if w in ("pipelined_get", "pipelined_set"):
        get = w == "pipelined_get"
        return warm_and_measure(args, lambda n: pipelined(client, args, n, get, value))
    if w == "create_delete":
        child = path + "/n"

        def pair():
            client.create(child, b"")
            client.delete(child)
            return True
        return warm_and_measure(args, lambda n: time_ops(n, pair))
    if w == "multi":
        nodes = ["%s/m%d" % (path, i) for i in range(10)]
        for node in nodes:
            try:
                client.create(node, b"")
            except NodeExistsError:
                pass

        def multi():
            t = client.transaction()
            for node in nodes:
                t.set_data(node, b"m" * 16)
            return all(r is not None and not isinstance(r, Exception) for r in t.commit())
        return warm_and_measure(args, lambda n: time_ops(n, multi))
    if w == "children":
        return warm_and_measure(args, lambda n: time_ops(n, lambda: len(client.get_children(path)) == size))
    if w in ("watch", "fanout"):
        return run_watch(client, args, 1 if w == "watch" else args["contenders"])
    print("kazoo driver: unknown workload %s" % w, file=sys.stderr)
    return 2


def lock_phase(locks, seconds):
    n = len(locks)
    go = threading.Event()
    cycles, errors, finished = [0] * n, [0] * n, [0] * n
    waits = [[] for _ in range(n)]
    deadline = [0]

    def contender(k):
        go.wait()
        end = deadline[0]
        lock = locks[k]
        while now_ns() < end:
            a = now_ns()
            try:
                got = lock.acquire(timeout=WAIT)
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
    m = Measurement()
    cpu0, t0 = cpu_ns(), now_ns()
    deadline[0] = t0 + int(seconds * 1e9)
    go.set()
    for t in threads:
        t.join()
    m.cpu_ns, m.wall_ns = cpu_ns() - cpu0, max(finished) - t0
    m.count, m.errors = sum(cycles), sum(errors)
    m.latencies = [x for ws in waits for x in ws]
    return m


def run_lock(args):
    clients = [connect(args["hosts"]) for _ in range(args["contenders"])]
    locks = [c.Lock(args["path"], "contender-%d" % i) for i, c in enumerate(clients)]
    warm_errors = lock_phase(locks, args["warmup_seconds"]).errors if args["warmup_seconds"] > 0 else 0
    return report(lock_phase(locks, args["seconds"]), warm_errors)


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


def await_children(client, path, n):
    """Blocks until `path` has at least n children, woken by a children watch."""
    give_up = now_ns() + WAIT * 10**9
    while now_ns() < give_up:
        changed = threading.Event()
        if len(client.get_children(path, watch=lambda event: changed.set())) >= n:
            return
        changed.wait(WAIT)
    raise RuntimeError("follower never queued")


def run_handoff(args):
    clients = [connect(args["hosts"]), connect(args["hosts"])]
    path = args["path"]
    clients[0].ensure_path(path)
    seq = [1]
    participants = [Participant(clients[0], path, "participant-0"), None]
    participants[0].thread.start()
    if not participants[0].leading.wait(WAIT):
        raise RuntimeError("first leader")
    leader = [0]

    def once():
        follower = 1 - leader[0]
        p = Participant(clients[follower], path, "participant-%d" % seq[0])
        seq[0] += 1
        participants[follower] = p
        p.thread.start()
        await_children(clients[follower], path, 2)
        time.sleep(0.02)  # the follower's own watch: no API says when it is armed
        if p.leading.is_set():
            return None
        old = participants[leader[0]]
        t0 = now_ns()
        old.stop.set()  # its run() returns: releases the lock, deleting its node
        leader[0] = follower
        if not p.leading.wait(WAIT):
            return None
        old.thread.join()
        return p.told_at - t0

    rc = warm_and_measure(args, lambda n: time_events(n, once))
    participants[leader[0]].stop.set()
    participants[leader[0]].thread.join()
    return rc


def run_config(args):
    writer = connect(args["hosts"])
    path = args["path"]
    writer.set(path, b"v0")
    state = {"expected": b"v0", "countdown": Countdown(0)}
    lock = threading.Lock()
    clients = []

    def subscriber(loaded):
        def on_data(data, stat):
            loaded.set()
            with lock:
                countdown = state["countdown"] if data == state["expected"] else None
            if countdown is not None:
                countdown.arrive()
        return on_data

    for _ in range(args["contenders"]):
        c = connect(args["hosts"])
        loaded = threading.Event()
        c.DataWatch(path, subscriber(loaded))
        if not loaded.wait(WAIT):
            raise RuntimeError("DataWatch never loaded")
        clients.append(c)
    version = [0]

    def once():
        version[0] += 1
        value = b"v%d" % version[0]
        countdown = Countdown(args["contenders"])
        with lock:
            state["expected"], state["countdown"] = value, countdown
        t0 = now_ns()
        writer.set(path, value)
        at = countdown.wait()
        return None if at is None else at - t0
    return warm_and_measure(args, lambda n: time_events(n, once))


def parse(argv):
    args = dict(FLAGS)
    for arg in argv:
        if not arg.startswith("--") or "=" not in arg:
            return None
        key, value = arg[2:].split("=", 1)
        if key not in args:
            return None
        args[key] = type(args[key])(value)
    if not args["hosts"] or not args["path"] or not args["workload"]:
        return None
    return args


def main():
    args = parse(sys.argv[1:])
    if args is None:
        print("usage: kazoo_driver.py --hosts=H --path=/p --workload=W [...]", file=sys.stderr)
        return 2
    watchdog = threading.Timer(600, lambda: (print("kazoo driver: watchdog expired",
                                                   file=sys.stderr), os._exit(3)))
    watchdog.daemon = True
    watchdog.start()
    # kazoo's release always waits for the delete: lock_scoped is its lock.
    runs = {"lock": run_lock, "lock_scoped": run_lock, "handoff": run_handoff,
            "config": run_config}
    rc = runs.get(args["workload"], run_client)(args)
    sys.stdout.flush()
    # Sessions and threads need no orderly goodbye: the process ends here.
    os._exit(rc)


if __name__ == "__main__":
    main()
