#!/usr/bin/python3
"""Side-by-side benchmark, OpenDHT side.

Starts N OpenDHT nodes (opendht.DhtRunner) inside one process, all bound to
127.0.0.1 only (no IPv6 socket, no peer discovery / multicast), bootstraps them
to the first node, waits until they have joined, then performs M sequential
puts of distinct keys from random nodes and M sequential gets of those keys from
random other nodes, timing every operation with time.perf_counter() from the
call to its done callback (on the runner's thread), as bench overlay times from
the call to the completion of its future; the time until the waiting main
thread woke up is logged on stderr as well ("to wake-up").

Last stdout line:
  opendht nodes=N put_ms p50=X p99=X get_ms p50=X p99=X found=F/M

Run with Debian's interpreter (python3-opendht 2.4.12):
  /usr/bin/python3 testbed/opendht/bench_opendht.py --nodes 200 --ops 300
"""

import argparse
import math
import os
import random
import re
import socket
import sys
import threading
import time

import opendht as dht

LOOPBACK = "127.0.0.1"


def log(msg):
    print("[bench_opendht] " + msg, file=sys.stderr, flush=True)


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(s)))
    return s[rank - 1]


_GOOD_RE = re.compile(r"\[good\]")


def good_nodes(runner):
    """Number of IPv4 routing-table entries flagged [good] (i.e. that replied)."""
    try:
        return len(_GOOD_RE.findall(runner.getRoutingTablesLog(socket.AF_INET)))
    except Exception:
        return 0


def make_config(args):
    # A fresh DhtConfig per runner: DhtRunner.run()'s default `config=DhtConfig()`
    # is a single object shared by every call (Python default argument).
    cfg = dht.DhtConfig()
    cfg.setNetwork(args.network)  # private network id: never mixes with public OpenDHT
    if not args.keep_rate_limit:
        # Default per-peer-IP limit (1024 req/s) would throttle a network where
        # every peer has the same IP (127.0.0.1). Upstream tests disable it too.
        cfg.setRateLimit(-1, -1)
    return cfg


def start_node(args, port):
    r = dht.DhtRunner()
    # Passing ipv4 explicitly binds the UDP socket to 127.0.0.1 only; ipv6=""
    # means no IPv6 socket is opened at all.
    r.run(port=port, ipv4=LOOPBACK, ipv6="", config=make_config(args))
    bound = r.getBound(socket.AF_INET)
    if bound.toString().decode().rsplit(":", 1)[0] != LOOPBACK:
        raise RuntimeError("runner bound to unexpected address %s" % bound)
    if not r.getBound(socket.AF_INET6).isUnspecified() and \
            r.getBound(socket.AF_INET6).getPort() != 0:
        raise RuntimeError("runner unexpectedly has an IPv6 socket")
    return r, bound.getPort()


def timed_put(runner, key, value_bytes, timeout):
    ev = threading.Event()
    res = {"ok": False}

    def done(ok, nodes):
        res["t"] = time.perf_counter()
        res["ok"] = bool(ok)
        ev.set()

    t0 = time.perf_counter()
    runner.put(key, dht.Value(value_bytes), done)
    finished = ev.wait(timeout)
    woke = time.perf_counter() - t0
    dt = res["t"] - t0 if finished else woke
    return dt, finished and res["ok"], finished, woke


def timed_get(runner, key, expected, timeout):
    ev = threading.Event()
    res = {"found": False, "first": None}
    t0 = time.perf_counter()

    def on_value(v):
        if v.data == expected and not res["found"]:
            res["found"] = True
            res["first"] = time.perf_counter() - t0
        return True  # keep the lookup running until it completes (done_cb)

    def done(ok, nodes):
        res["t"] = time.perf_counter()
        ev.set()

    runner.get(key, on_value, done)
    finished = ev.wait(timeout)
    woke = time.perf_counter() - t0
    dt = res["t"] - t0 if finished else woke
    return dt, res["found"], finished, res["first"], woke


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=200,
                    help="number of DhtRunner nodes (OpenDHT aborts beyond ~250 in one process)")
    ap.add_argument("--ops", type=int, default=300, help="number of puts (and of gets)")
    ap.add_argument("--value-size", type=int, default=100, help="value size in bytes")
    ap.add_argument("--op-timeout", type=float, default=10.0,
                    help="per-operation timeout in seconds (timeout = failed put / not found)")
    ap.add_argument("--join-timeout", type=float, default=60.0,
                    help="max seconds to wait for the nodes to join")
    ap.add_argument("--min-good", type=int, default=8,
                    help="a node counts as joined once it has min(this, N-1) good routing-table entries")
    ap.add_argument("--settle", type=float, default=1.0,
                    help="extra seconds to wait after all nodes joined")
    ap.add_argument("--base-port", type=int, default=0,
                    help="0 = ephemeral ports; otherwise consecutive ports from this one")
    ap.add_argument("--network", type=int, default=4242, help="OpenDHT network id")
    ap.add_argument("--seed", type=int, default=None, help="RNG seed")
    ap.add_argument("--keep-rate-limit", action="store_true",
                    help="keep OpenDHT's default request rate limits")
    ap.add_argument("--max-runtime", type=float, default=None,
                    help="hard watchdog in seconds (default: derived from the other limits)")
    args = ap.parse_args()

    if args.nodes < 2:
        ap.error("--nodes must be >= 2")
    if args.ops < 1:
        ap.error("--ops must be >= 1")
    rng = random.Random(args.seed)

    state = {"result": None}
    max_runtime = args.max_runtime or (
        60 + args.nodes * 0.5 + args.join_timeout + args.settle
        + 2 * args.ops * (args.op_timeout + 0.5) + 60)

    def watchdog():
        log("watchdog: run exceeded %.0f s, aborting" % max_runtime)
        if state["result"]:
            print(state["result"], flush=True)
        os._exit(3)

    wd = threading.Timer(max_runtime, watchdog)
    wd.daemon = True
    wd.start()

    t_start = time.perf_counter()
    runners = []
    try:
        # ---- start + bootstrap -------------------------------------------------
        port0 = args.base_port
        r0, p0 = start_node(args, port0)
        runners.append(r0)
        log("node 0 bound to %s:%d (bootstrap node)" % (LOOPBACK, p0))
        for i in range(1, args.nodes):
            port = args.base_port + i if args.base_port else 0
            r, _ = start_node(args, port)
            r.bootstrap(LOOPBACK, str(p0))
            runners.append(r)
            if (i + 1) % 20 == 0 or i + 1 == args.nodes:
                log("started %d/%d nodes" % (i + 1, args.nodes))
        t_started = time.perf_counter()

        # ---- wait for join -------------------------------------------------------
        target = min(args.min_good, args.nodes - 1)
        deadline = time.perf_counter() + args.join_timeout
        pending = list(range(args.nodes))
        last_report = -1
        while pending and time.perf_counter() < deadline:
            pending = [i for i in pending if good_nodes(runners[i]) < target]
            joined = args.nodes - len(pending)
            if joined // 20 != last_report // 20 or not pending:
                log("joined %d/%d nodes (>= %d good contacts each)" % (joined, args.nodes, target))
                last_report = joined
            if pending:
                time.sleep(0.2)
        if pending:
            log("WARNING: %d nodes not fully joined after %.0f s; continuing"
                % (len(pending), args.join_timeout))
        time.sleep(args.settle)
        t_joined = time.perf_counter()
        log("start %.1f s, join %.1f s" % (t_started - t_start, t_joined - t_started))

        # ---- puts -------------------------------------------------------------------
        keys, values, putters = [], [], []
        put_times, put_ok, put_to, put_woke = [], 0, 0, []
        for i in range(args.ops):
            key = dht.InfoHash.get("bench-key-%d-%d" % (i, rng.getrandbits(32)))
            val = rng.getrandbits(8 * args.value_size).to_bytes(args.value_size, "big")
            n = rng.randrange(args.nodes)
            dt, ok, finished, woke = timed_put(runners[n], key, val, args.op_timeout)
            put_times.append(dt * 1000.0)
            put_woke.append(woke * 1000.0)
            put_ok += ok
            put_to += not finished
            keys.append(key)
            values.append(val)
            putters.append(n)
            if (i + 1) % 50 == 0 or i + 1 == args.ops:
                log("put %d/%d (ok=%d timeouts=%d)" % (i + 1, args.ops, put_ok, put_to))

        # ---- gets -------------------------------------------------------------------
        get_times, first_times, found, get_to, get_woke = [], [], 0, 0, []
        for i in range(args.ops):
            n = rng.randrange(args.nodes - 1)
            if n >= putters[i]:
                n += 1  # any node other than the putter
            dt, ok, finished, first, woke = timed_get(runners[n], keys[i], values[i], args.op_timeout)
            get_times.append(dt * 1000.0)
            get_woke.append(woke * 1000.0)
            if first is not None:
                first_times.append(first * 1000.0)
            found += ok
            get_to += not finished
            if (i + 1) % 50 == 0 or i + 1 == args.ops:
                log("get %d/%d (found=%d timeouts=%d)" % (i + 1, args.ops, found, get_to))
        t_ops = time.perf_counter()

        log("puts: ok=%d/%d timeouts=%d  gets: found=%d/%d timeouts=%d"
            % (put_ok, args.ops, put_to, found, args.ops, get_to))
        if first_times:
            log("get time-to-first-value ms p50=%.1f p99=%.1f"
                % (percentile(first_times, 50), percentile(first_times, 99)))
        log("to wake-up of the waiting thread: put_ms p50=%.1f p99=%.1f get_ms p50=%.1f p99=%.1f"
            % (percentile(put_woke, 50), percentile(put_woke, 99),
               percentile(get_woke, 50), percentile(get_woke, 99)))
        log("ops phase %.1f s" % (t_ops - t_joined))
        state["result"] = ("opendht nodes=%d put_ms p50=%.1f p99=%.1f get_ms p50=%.1f p99=%.1f found=%d/%d"
                           % (args.nodes, percentile(put_times, 50), percentile(put_times, 99),
                              percentile(get_times, 50), percentile(get_times, 99),
                              found, args.ops))
    finally:
        # ---- shutdown ---------------------------------------------------------------
        # Pitfall: calling join() (which holds the GIL) while a runner thread still
        # needs the GIL for a Python callback deadlocks. So: shutdown(cb) on every
        # runner, wait for all callbacks with the GIL released, only then join().
        events = []
        for r in runners:
            ev = threading.Event()
            r.shutdown(ev.set)
            events.append(ev)
        sd_deadline = time.perf_counter() + 30
        done = sum(ev.wait(max(0.0, sd_deadline - time.perf_counter())) for ev in events)
        if done != len(events):
            log("WARNING: only %d/%d runners confirmed shutdown" % (done, len(events)))
        for r in runners:
            r.join()
        log("all %d runners shut down; total runtime %.1f s"
            % (len(runners), time.perf_counter() - t_start))
    wd.cancel()
    print(state["result"], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
