#!/usr/bin/env python3
"""The outbox's promise as a user would test it: lose nothing, never send twice.

usage: outbox_chaos.py --missive BIN --outbox LOCATION [--messages N] [--workers W] [--kills K]
                       [--workdir DIR] [--seed S] [--p421 P] [--pdrop P] [--timeout SECONDS]

LOCATION is an SQLite file (removed first) or a postgresql:// URL (shared: only this run's jobs,
recognised by their idempotency keys, are checked). Two chaos sinks
(tests/integration/scripts/chaos_sink.py: random 421s, and connections closed without a reply,
before or after a whole message) on free loopback ports; `missive send --batch --queue` queues N
messages, each with a unique X-Test-Id header that is also its idempotency key; W `missive
deliver` processes (half per sink, all on the same outbox) deliver them while one of them, at
random, is killed with SIGKILL K times at random moments (and replaced), until the outbox stays
idle. A last `missive deliver --once` against a sink without faults sends what may be left.

What must hold (exit 1 with every violation otherwise):
 - every job is done or held; none queued, in flight or failed (the sinks never answer 5xx);
 - never twice: no X-Test-Id reached the sinks whole more than once, counting both the copies
   they accepted (250 sent) and those they received and then dropped before replying;
 - lose nothing: each done job was accepted exactly once, and never also dropped after its data
   (a drop after the data leaves the outcome unknown, so that attempt must end held);
 - a held job reached a sink at most once: accepted (a worker killed between the 250 and its
   record, or a lease that expired after the end of data), received and dropped (the case the
   outbox exists for), or not at all (a worker killed after recording the end of data and before
   it went out): the last are counted as "held without a copy", allowed;
 - each sink record is of a job of this run (no message without its X-Test-Id);
 - a worker's report line "accepted" names a done job, once over all workers;
 - never two workers at once: in each job's attempt log (`queue show --json`), every attempt
   is finished, and starts no earlier than the previous one finished (jobs tried more than once;
   a reclaimed attempt is stamped finished when another worker takes the job over).
"""
import argparse
import collections
import datetime
import json
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
SINK = HERE.parent / "scripts" / "chaos_sink.py"


class Failed(Exception):
    """The run could not go on."""


def log(text):
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


class Sink:
    def __init__(self, name, workdir, p421, pdrop, seed):
        self.name = name
        self.log = workdir / f"sink-{name}.jsonl"
        self.stderr = open(workdir / f"sink-{name}.err", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(SINK), "--port", "0", "--log", str(self.log), "--p421",
             str(p421), "--pdrop", str(pdrop), "--seed", str(seed)],
            stdout=subprocess.PIPE, stderr=self.stderr)
        first = self.proc.stdout.readline().decode(errors="replace").strip()
        if not first.startswith("listening 127.0.0.1:"):
            self.proc.kill()
            self.proc.wait()
            raise Failed(f"sink {name} did not start: {first!r}, see {self.stderr.name}")
        self.port = int(first.rsplit(":", 1)[1])
        self.url = f"smtp://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()
        counts = (self.log.parent / f"sink-{self.name}.err").read_text().strip().splitlines()
        return counts[-1] if counts else ""

    def records(self):
        if not self.log.exists():
            return []
        out = []
        for line in self.log.read_text(encoding="utf-8").splitlines():
            out.append(json.loads(line))  # the sink flushes whole lines and was stopped
        return out


class Missive:
    def __init__(self, binary, outbox):
        self.binary = binary
        self.outbox = outbox

    def run(self, *args, timeout=300):
        p = subprocess.run([self.binary, *args, "--outbox", self.outbox], capture_output=True,
                           timeout=timeout)
        if p.returncode != 0:
            raise Failed(f"missive {' '.join(args[:3])} … exited {p.returncode}: "
                         f"{p.stderr.decode(errors='replace').strip()[:2000]}")
        return p.stdout.decode()

    def stats(self):
        return json.loads(self.run("queue", "stats", "--json"))

    def jobs(self):
        out = self.run("queue", "list", "--json", "--limit", "1000000")
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def show(self, ids):
        shown = {}
        for k in range(0, len(ids), 500):
            out = self.run("queue", "show", "--json", *map(str, ids[k:k + 500]))
            for line in out.splitlines():
                if line.strip():
                    job = json.loads(line)
                    shown[job["id"]] = job
        return shown


class Worker:
    """One `missive deliver` process; its report (JSON Lines) goes to a file of its own."""
    serial = 0

    def __init__(self, missive, sink, workdir, settings):
        Worker.serial += 1
        self.name = f"w{Worker.serial}-{sink.name}"
        self.sink = sink
        self.report = workdir / f"{self.name}.out"
        self.stderr = workdir / f"{self.name}.err"
        with open(self.report, "wb") as out, open(self.stderr, "wb") as err:
            self.proc = subprocess.Popen(
                [missive.binary, "deliver", "--server", sink.url, "--outbox", missive.outbox,
                 "--json", *settings], stdout=out, stderr=err)
        self.killed = False


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--missive", required=True)
    ap.add_argument("--outbox", required=True)
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--workers", type=int, default=4, help="deliver processes, half per sink")
    ap.add_argument("--kills", type=int, default=8)
    ap.add_argument("--workdir", help="kept; default a temporary directory (kept on failure)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--p421", type=float, default=0.03)
    ap.add_argument("--pdrop", type=float, default=0.03)
    ap.add_argument("--timeout", type=float, default=900, help="seconds for the delivery")
    args = ap.parse_args()
    if args.workers < 2:
        ap.error("--workers must be at least 2 (one group per sink)")
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rnd = random.Random(seed)
    if args.workdir:
        workdir = pathlib.Path(args.workdir)
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
    else:
        workdir = pathlib.Path(tempfile.mkdtemp(prefix="outbox_chaos."))
    postgres = args.outbox.startswith(("postgresql://", "postgres://"))
    if not postgres:
        for suffix in ("", "-wal", "-shm", "-journal"):
            pathlib.Path(args.outbox + suffix).unlink(missing_ok=True)
    run = f"chaos{seed:x}{os.getpid():x}{int(time.time()) & 0xffff:x}"
    log(f"seed {seed}, outbox {args.outbox}, work directory {workdir}, run {run}")

    missive = Missive(args.missive, args.outbox)
    sinks, workers, problems = [], [], []
    began = time.monotonic()
    try:
        problems, summary = chaos(args, rnd, workdir, run, missive, sinks, workers, postgres)
    except Failed as e:
        problems, summary = [str(e)], None
    finally:
        for w in workers:
            if w.proc.poll() is None:
                w.proc.kill()
                w.proc.wait()
        for s in sinks:
            if s.proc.poll() is None:
                s.stop()
    if summary:
        summary["seconds"] = round(time.monotonic() - began, 1)
        print("summary: " + json.dumps(summary), flush=True)
    if problems:
        print(f"FAILED ({len(problems)} problems; seed {seed}; files in {workdir}):", flush=True)
        for p in problems[:50]:
            print("  - " + p)
        if len(problems) > 50:
            print(f"  … and {len(problems) - 50} more")
        return 1
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    print("PASSED", flush=True)
    return 0


def chaos(args, rnd, workdir, run, missive, sinks, workers, postgres):
    # 1. Two sinks that fail at random, and one that never does for the last pass.
    for name in ("a", "b"):
        sinks.append(Sink(name, workdir, args.p421, args.pdrop, rnd.randrange(1 << 30)))
    log("sinks " + ", ".join(f"{s.name} on {s.port}" for s in sinks))

    # 2. Queue the messages.
    keys = [f"{run}-{i}" for i in range(args.messages)]
    batch = workdir / "batch.jsonl"
    with open(batch, "w") as f:
        for i, key in enumerate(keys):
            f.write(json.dumps({
                "id": key, "from": "chaos@example.org", "to": f"r{i}@example.net",
                "subject": f"chaos {i}", "text": f"Message {i} of {run}.\n" + "x" * rnd.randrange(
                    0, 2000), "headers": {"X-Test-Id": key}}) + "\n")
    t = time.monotonic()
    missive.run("send", "--batch", str(batch), "--queue", "-q", timeout=600)
    queued_in = time.monotonic() - t
    log(f"queued {args.messages} messages in {queued_in:.1f} s")

    # 3. Deliver with workers killed at random.
    settings = ["--workers", "1", "--lease", "2s", "--backoff", "0.1s", "--max-backoff", "0.5s",
                "--poll", "0.1s", "--max-age", "7d", "--progress-interval", "5"]
    for k in range(args.workers):
        workers.append(Worker(missive, sinks[k % 2], workdir, settings))
    t_deliver = time.monotonic()
    kills = 0
    # Kills spread over the run: each when the share of this run's messages no longer waiting
    # passes a random mark, at least 0.3 s after the previous one (the replacement has started).
    marks = sorted(rnd.uniform(0.02, 0.9) for _ in range(args.kills))
    next_kill = time.monotonic() + rnd.uniform(0.3, 1.0)
    done_share = 0.0
    idle_since = None
    late = []  # a run that never gets idle still goes on to the checks: they say what is wrong
    while True:
        now = time.monotonic()
        if now - t_deliver > args.timeout:
            late.append(f"the outbox was not idle after {args.timeout:.0f} s of delivery: "
                        f"{missive.stats()} (then a last deliver --once ran)")
            break
        for w in [w for w in workers if not w.killed and w.proc.poll() is not None]:
            raise Failed(f"deliver {w.name} exited {w.proc.returncode} by itself: "
                         f"{w.stderr.read_text(errors='replace')[-2000:]}")
        if kills < args.kills and now >= next_kill and done_share >= marks[kills]:
            victim = rnd.choice([w for w in workers if not w.killed])
            victim.proc.send_signal(signal.SIGKILL)
            victim.proc.wait()
            victim.killed = True
            kills += 1
            workers.append(Worker(missive, victim.sink, workdir, settings))
            log(f"kill {kills}/{args.kills}: SIGKILL to {victim.name} (pid {victim.proc.pid}); "
                f"{workers[-1].name} replaces it")
            next_kill = now + rnd.uniform(0.3, 1.0)
            idle_since = None
            continue
        s = missive.stats()
        busy = s["queued"] + s["deferred"] + s["in_flight"]
        done_share = max(0.0, 1.0 - busy / args.messages)
        if busy == 0 and kills >= args.kills:
            idle_since = idle_since or now
            if now - idle_since >= 3:  # longer than a lease: no claim left to expire
                break
        else:
            idle_since = None
        time.sleep(0.5)
    delivered_in = time.monotonic() - t_deliver
    for w in workers:
        if not w.killed:
            w.proc.send_signal(signal.SIGTERM)
    for w in workers:
        if not w.killed:
            try:
                rc = w.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                raise Failed(f"deliver {w.name} did not stop within 30 s of SIGTERM")
            if rc != 0:
                raise Failed(f"deliver {w.name} exited {rc} after SIGTERM: "
                             f"{w.stderr.read_text(errors='replace')[-2000:]}")
    log(f"outbox idle after {delivered_in:.1f} s: {missive.stats()}")

    # 4. What might be left (nothing, if all went well) through a sink without faults.
    clean = Sink("clean", workdir, 0.0, 0.0, 0)
    sinks.append(clean)
    last = subprocess.run([missive.binary, "deliver", "--once", "--server", clean.url,
                           "--outbox", missive.outbox, "--json", *settings],
                          capture_output=True, timeout=600)
    (workdir / "final.out").write_bytes(last.stdout)
    if last.returncode != 0:
        raise Failed(f"the final deliver --once exited {last.returncode}: "
                     f"{last.stderr.decode(errors='replace')[-2000:]}")
    final_lines = [ln for ln in last.stdout.decode().splitlines() if ln.strip()]

    sink_counts = {s.name: s.stop() for s in sinks}
    problems, summary = check(args, run, keys, missive, sinks, workers, workdir, postgres, {
        "messages": args.messages, "kills": kills, "queue_seconds": round(queued_in, 1),
        "deliver_seconds": round(delivered_in, 1), "final_pass_reports": len(final_lines),
        "sinks": sink_counts})
    return late + problems, summary


def check(args, run, keys, missive, sinks, workers, workdir, postgres, summary):
    problems = []
    known = set(keys)
    jobs = [j for j in missive.jobs() if j.get("idempotency_key", "") in known]
    by_key = {}
    for j in jobs:
        if j["idempotency_key"] in by_key:
            problems.append(f"two jobs with the key {j['idempotency_key']}: "
                            f"{by_key[j['idempotency_key']]['id']} and {j['id']}")
        by_key[j["idempotency_key"]] = j
    missing = [k for k in keys if k not in by_key]
    if missing:
        problems.append(f"{len(missing)} messages were never queued (lost at enqueue), e.g. "
                        f"{missing[:5]}")
    states = collections.Counter(j["state"] for j in jobs)
    for j in jobs:
        if j["state"] not in ("done", "held"):
            problems.append(f"job {j['id']} ({j['idempotency_key']}) ended {j['state']}: "
                            f"{j['last_error']!r}")
        wanted = {"done": "accepted", "held": "unknown"}.get(j["state"])
        for r in j["recipients"]:
            if wanted and r["state"] != wanted:
                problems.append(f"job {j['id']} is {j['state']} but its recipient "
                                f"{r['address']} is {r['state']}")

    # Copies at the sinks, by X-Test-Id.
    accepted = collections.Counter()
    dropped = collections.Counter()
    refused = 0
    for s in sinks:
        for rec in s.records():
            tid = rec["id"]
            if tid not in known:
                if postgres and tid and not tid.startswith(run + "-"):
                    continue  # another run's job left in a shared outbox
                problems.append(f"sink {s.name} received a message that is no job of this run "
                                f"(X-Test-Id {tid!r}, case {rec['case']}): a truncated or "
                                f"foreign message")
                continue
            if rec["case"] == "accepted":
                accepted[tid] += 1
            elif rec["case"] == "dropped_after_data":
                dropped[tid] += 1
            else:
                refused += 1
    held = {"accepted": 0, "dropped_after_data": 0, "no_copy": 0}
    for key, j in by_key.items():
        a, d = accepted[key], dropped[key]
        if a + d > 1:
            problems.append(f"job {j['id']} ({key}, {j['state']}) reached the sinks {a + d} "
                            f"times ({a} accepted, {d} dropped after the data): sent twice")
            continue
        if j["state"] == "done":
            if a == 0:
                problems.append(f"job {j['id']} ({key}) is done but no sink accepted it "
                                f"({d} copies dropped after the data): lost")
            elif d:
                problems.append(f"job {j['id']} ({key}) is done though a sink dropped it "
                                f"after the data: the outcome was unknown, it must be held")
        elif j["state"] == "held":
            held["accepted" if a else "dropped_after_data" if d else "no_copy"] += 1
            if "outcome unknown" not in j["last_error"]:
                problems.append(f"held job {j['id']} gives no outcome-unknown reason: "
                                f"{j['last_error']!r}")
    duplicates = sum(1 for k in by_key if accepted[k] + dropped[k] > 1)

    # The workers' reports: "accepted" only for done jobs, once over all workers.
    ids = {j["id"]: j for j in jobs}
    reported = collections.Counter()
    lines = 0
    outs = [w.report for w in workers] + [workdir / "final.out"]
    for out in outs:
        for line in out.read_text(errors="replace").splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue  # the last line of a killed worker
            lines += 1
            if r.get("state") == "accepted" and r.get("id") in ids:
                reported[r["id"]] += 1
    for jid, n in reported.items():
        if n > 1:
            problems.append(f"job {jid} was reported accepted {n} times")
        if ids[jid]["state"] != "done":
            problems.append(f"job {jid} was reported accepted but is {ids[jid]['state']}")

    # Never two workers at once: the attempt logs of the jobs tried more than once.
    retried = sorted(j["id"] for j in jobs if j["attempts"] > 1 or j["state"] == "held")
    shown = missive.show(retried) if retried else {}
    overlaps = unfinished = 0
    # Leases lost by workers that were never killed (a lease not renewed in time): allowed, but
    # each costs an attempt, and after the end of data a hold where the message was delivered.
    killed = {str(w.proc.pid) for w in workers if w.killed}
    live_abandoned = live_held = 0
    for jid in retried:
        log_ = shown.get(jid, {}).get("attempt_log")
        if log_ is None:
            problems.append(f"queue show gave no attempt log for job {jid}")
            continue
        if len(log_) != ids[jid]["attempts"]:
            problems.append(f"job {jid}: {ids[jid]['attempts']} attempts counted, "
                            f"{len(log_)} in its log")
        previous = None
        for n, a in enumerate(log_):
            started, finished = parse_time(a["started"]), parse_time(a["finished"])
            if finished is None:
                unfinished += 1
                problems.append(f"job {jid} ({ids[jid]['state']}): attempt {n + 1} by "
                                f"{a['worker']} never finished")
            if previous is not None and started < previous:
                overlaps += 1
                problems.append(f"job {jid}: attempt {n + 1} by {a['worker']} started "
                                f"{a['started']}, before attempt {n} finished "
                                f"({log_[n - 1]['finished']}): two workers at once")
            previous = finished or previous
            pid = a["worker"].split(":")[-2] if a["worker"].count(":") >= 2 else ""
            if pid not in killed and a["error"].startswith("abandoned"):
                live_abandoned += 1
            if pid not in killed and "lease expired after the end of the data" in a["error"]:
                live_held += 1
    summary.update({
        "jobs": len(jobs), "delivered": states.get("done", 0), "held": states.get("held", 0),
        "held_by_copy": held, "other_states": {k: v for k, v in states.items()
                                               if k not in ("done", "held")},
        "duplicates": duplicates, "refused_after_data": refused,
        "attempts": sum(j["attempts"] for j in jobs), "attempt_logs_checked": len(retried),
        "overlapping_attempts": overlaps, "unfinished_attempts": unfinished,
        "leases_lost_by_live_workers": {"abandoned": live_abandoned, "held": live_held},
        "report_lines": lines})
    d = summary["deliver_seconds"]
    summary["delivered_per_second"] = round(states.get("done", 0) / d, 1) if d else None
    return problems, summary


if __name__ == "__main__":
    sys.exit(main())
