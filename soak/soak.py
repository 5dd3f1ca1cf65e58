"""soak/soak.py: the soak itself, run by soak/run inside a network namespace
of its own (it binds port 53 and many 127.0.X.Y sources).

It starts tinydns (127.0.0.2) and dnscache (127.0.0.53) with the soak's
zones, and two `tcpserver -c 100`: rmxsmtpd in front of the sink on port
2525, rblsmtpd in front of the same sink on 2526. Then it drives the
connections, alternating rounds between the two, from 80 client addresses:

  listed      127.0.0.10-29   on 0.0.127.in-addr.arpa's list (5 MX, 4 A each)
  unlisted    127.0.0.100-119 that network, not on its list
  unpublished 127.0.1.10-29   1.0.127.in-addr.arpa does not exist
  null        127.0.2.10-29   2.0.127.in-addr.arpa has a null MX (RFC 7505)

rblsmtpd gets the same verdicts from rbl.soak.test, which lists the
unlisted and null addresses. Every client reads the greeting, sends RCPT and
QUIT, and reads to the end; the transcript must be the expected one for its
address. Afterwards: the servers' descriptors, zombies, leftover children,
and rmxsmtpd's log. Prints a table; exits 1 if anything was wrong.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time

CACHE = "127.0.0.53"
RBL = "rbl.soak.test"
PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
CLEAN_ENV = {"PATH": PATH, "DNSCACHEIP": CACHE}

SOURCES = (
    [("listed", f"127.0.0.{n}") for n in range(10, 30)]
    + [("unlisted", f"127.0.0.{n}") for n in range(100, 120)]
    + [("unpublished", f"127.0.1.{n}") for n in range(10, 30)]
    + [("null", f"127.0.2.{n}") for n in range(10, 30)]
)
ACCEPTED = {"listed", "unpublished"}


def zone_data():
    lines = [
        ".soak.test:127.0.0.2:ns.soak.test",
        ".127.in-addr.arpa:127.0.0.2:ns.soak.test",
        # MX 0 . (the exchange is the root name).
        "@2.0.127.in-addr.arpa::.:0",
    ]
    for host in range(5):
        lines.append(f"@0.0.127.in-addr.arpa::out{host}.soak.test:{10 * (host + 1)}")
        for n in range(4):
            lines.append(f"+out{host}.soak.test:127.0.0.{10 + 4 * host + n}")
    for kind, ip in SOURCES:
        if kind not in ACCEPTED:
            a, b, c, d = ip.split(".")
            lines.append(f"'{d}.{c}.{b}.{a}.{RBL}:listed in the soak's RBL:300")
    return "\n".join(lines) + "\n"


def start_dns(work, children):
    tinydns = os.path.join(work, "tinydns")
    cache = os.path.join(work, "dnscache")
    os.makedirs(tinydns)
    os.makedirs(os.path.join(cache, "ip"))
    os.makedirs(os.path.join(cache, "servers"))
    with open(os.path.join(tinydns, "data"), "w") as f:
        f.write(zone_data())
    subprocess.run(["tinydns-data"], cwd=tinydns, check=True)
    open(os.path.join(cache, "ip", "127"), "w").close()
    for zone in ("@", "soak.test", "127.in-addr.arpa"):
        with open(os.path.join(cache, "servers", zone), "w") as f:
            f.write("127.0.0.2\n")
    ids = {"UID": "65534", "GID": "65534", "PATH": PATH}
    log = open(os.path.join(work, "dns.log"), "w")
    children.append(subprocess.Popen(
        ["tinydns"], env={**ids, "ROOT": tinydns, "IP": "127.0.0.2"},
        stdout=log, stderr=log))
    children.append(subprocess.Popen(
        ["dnscache"], env={**ids, "ROOT": cache, "IP": CACHE, "IPSEND": CACHE,
                           "CACHESIZE": "1000000"},
        stdin=open("/dev/urandom", "rb"), stdout=log, stderr=log))
    for _ in range(50):
        got = subprocess.run(["dnsmx", "0.0.127.in-addr.arpa"], env=CLEAN_ENV,
                             capture_output=True, text=True)
        if "out0.soak.test" in got.stdout:
            return
        time.sleep(0.1)
    sys.exit("soak: tinydns and dnscache did not come up")


def start_server(work, children, name, port, program):
    log = open(os.path.join(work, f"{name}.log"), "w")
    server = subprocess.Popen(
        ["tcpserver", "-c", "100", "-b", "100", "-H", "-R", "-l0", "127.0.0.1", str(port)]
        + program,
        env=CLEAN_ENV, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
    children.append(server)
    return server


def expected(program, kind, ip):
    """What a client at `ip` must see: a predicate per line."""
    if kind in ACCEPTED:
        result = {"rmx": "pass" if kind == "listed" else "none", "rbl": "-"}[program]
        return [f"220 sink {result} fds+0", "221 sink"]
    name = {"rmx": "rmxsmtpd.local", "rbl": "rblsmtpd.local"}[program]
    refusal = {
        "rmx": f"451 4.7.1 Your IP [{ip}] is not listed in Reverse MX!",
        "rbl": "451 listed in the soak's RBL",
    }[program]
    return [f"220 {name}", refusal, f"221 {name}"]


async def one(port, program, kind, ip):
    """One connection: None if the transcript is right, else what was wrong."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, local_addr=(ip, 0)), 10)
    try:
        greeting = await asyncio.wait_for(reader.readline(), 10)
        writer.write(b"RCPT TO:<postmaster@soak.test>\r\nQUIT\r\n")
        rest = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    lines = (greeting + rest).decode("ascii", "replace").split("\r\n")
    want = expected(program, kind, ip)
    if lines[-1] != "" or len(lines) != len(want) + 1 or not all(
            got.startswith(w) for got, w in zip(lines, want)):
        return f"{ip} ({kind}): {lines!r}, want {want!r}"
    return None


async def load(port, program, count, concurrency):
    """`count` connections, `concurrency` at a time; (wrong, errors, samples)."""
    gate = asyncio.Semaphore(concurrency)
    wrong, errors, samples = 0, 0, []

    async def guarded(i):
        nonlocal wrong, errors
        kind, ip = SOURCES[i % len(SOURCES)]
        async with gate:
            try:
                problem = await one(port, program, kind, ip)
                if problem:
                    wrong += 1
                    samples.append(problem)
            except (OSError, asyncio.TimeoutError, EOFError) as e:
                errors += 1
                samples.append(f"{ip} ({kind}): {type(e).__name__} {e}")

    await asyncio.gather(*(guarded(i) for i in range(count)))
    return wrong, errors, samples[:5]


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def children_of(pids):
    """(zombies, live) among the processes whose parent is in `pids`."""
    zombies, live = 0, 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) in pids:
            if state == "Z":
                zombies += 1
            else:
                live += 1
    return zombies, live


def rmx_log_problems(path, per_kind):
    """rmxsmtpd's log must hold one line per connection, with its verdict."""
    counts = {}
    problems = []
    with open(path) as f:
        for line in f:
            words = line.split()
            if len(words) >= 5 and words[0] == "rmxsmtpd:" and words[1] == "pid":
                counts[words[4]] = counts.get(words[4], 0) + 1
            else:
                problems.append(line.strip())
    want = {
        "pass": per_kind.get("listed", 0),
        "none": per_kind.get("unpublished", 0),
        "fail": per_kind.get("unlisted", 0) + per_kind.get("null", 0),
    }
    if counts != want:
        problems.append(f"log results {counts}, want {want}")
    return problems[:5]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--connections", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    sink = os.path.join(args.work, "sink")
    children = []
    try:
        start_dns(args.work, children)
        servers = {
            "rmx": (2525, start_server(args.work, children, "rmx", 2525, [args.bin, sink])),
            "rbl": (2526, start_server(args.work, children, "rbl", 2526,
                                       ["rblsmtpd", "-r", RBL, sink])),
        }
        time.sleep(0.5)
        # One connection per address each, to warm dnscache; checked too.
        warm = {p: asyncio.run(load(port, p, len(SOURCES), 10))
                for p, (port, _) in servers.items()}
        for program, (wrong, errors, samples) in warm.items():
            if wrong or errors:
                sys.exit(f"soak: warm-up of {program} went wrong: {samples}")
        time.sleep(0.5)
        before = {p: fds(s.pid) for p, (_, s) in servers.items()}
        per_round = args.connections // args.rounds
        results = {p: {"rates": [], "wrong": 0, "errors": 0, "samples": []} for p in servers}
        for _ in range(args.rounds):
            for program, (port, _) in servers.items():
                started = time.monotonic()
                wrong, errors, samples = asyncio.run(
                    load(port, program, per_round, args.concurrency))
                rate = per_round / (time.monotonic() - started)
                r = results[program]
                r["rates"].append(rate)
                r["wrong"] += wrong
                r["errors"] += errors
                r["samples"] += samples
        time.sleep(1)
        pids = {s.pid for _, s in servers.values()}
        zombies, live = children_of(pids)
        after = {p: fds(s.pid) for p, (_, s) in servers.items()}
    finally:
        for child in children:
            child.kill()
            child.wait()

    connections = per_round * args.rounds
    per_kind = {}
    for i in list(range(len(SOURCES))) + list(range(per_round)) * args.rounds:
        kind = SOURCES[i % len(SOURCES)][0]
        per_kind[kind] = per_kind.get(kind, 0) + 1
    log_problems = rmx_log_problems(os.path.join(args.work, "rmx.log"), per_kind)
    names = {"rmx": "rmxsmtpd", "rbl": "rblsmtpd -r"}
    print(f"{connections} connections to each, {args.rounds} alternating rounds, "
          f"{args.concurrency} at a time, from {len(SOURCES)} addresses")
    print()
    print("| program | connections | wrong verdicts | errors | conn/s (median) | "
          "conn/s (rounds) | server fds before/after |")
    print("| --- | ---: | ---: | ---: | ---: | --- | --- |")
    failed = False
    for program, r in results.items():
        rounds = " ".join(f"{x:.0f}" for x in r["rates"])
        print(f"| {names[program]} | {connections} | {r['wrong']} | {r['errors']} | "
              f"{statistics.median(r['rates']):.0f} | {rounds} | "
              f"{before[program]}/{after[program]} |")
        failed |= bool(r["wrong"] or r["errors"] or before[program] != after[program])
    print()
    print(f"zombies: {zombies}; children left running: {live}; "
          f"descriptors past 0-2 handed to the sink: checked in every verdict; "
          f"rmxsmtpd log: {'as expected' if not log_problems else 'WRONG'}")
    failed |= bool(zombies or live or log_problems)
    for program, r in results.items():
        for sample in r["samples"]:
            print(f"{program}: {sample}")
    for problem in log_problems:
        print(f"rmx log: {problem}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
