#!/usr/bin/env python3
"""Judges and reports one run of .ci/checks/40-nginx-fault.sh from nginx's access log (log_format llamaguard of
deploy/nginx/llamaguard.conf) and the load generator's own counts.

Usage: fault_report.py ACCESS_LOG EVENTS_FILE LOAD_JSON
EVENTS_FILE: lines "NAME EPOCH_SECONDS" (load_start, kill, term, load_end) and "replica ADDRESS NAME" lines that name
each replica's address (killed, terminated, survivor). LOAD_JSON: the load generator's `--json` report — what the clients saw; the keys read are LOAD_KEYS.
Prints the figures (throughput before/between/after the faults, retries, status counts) and one line per broken rule;
exits 1 if any rule is broken.
"""
import collections
import json
import re
import sys

LINE = re.compile(r't=(?P<t>[\d.]+) "(?P<method>\S+) (?P<path>\S+) [^"]*" status=(?P<status>\d+) .*?'
                  r'upstream="(?P<upstream>[^"]*)" ustatus="(?P<ustatus>[^"]*)"')

# The load generator's --json report (bench/LlamaGuardSharp.LoadTest, LoadReport): the fields this judgement reads.
LOAD_KEYS = ("requests", "status_counts", "transport_errors", "malformed_answers", "invalid_rate_limits", "retries_total",
             "throughput_per_second", "latency_ms", "problems")


def main():
    log_path, events_path, load_path = sys.argv[1:4]
    events, replicas = {}, {}
    for line in open(events_path, encoding="utf-8"):
        parts = line.split()
        if parts[0] == "replica":
            replicas[parts[2]] = parts[1]
        else:
            events[parts[0]] = float(parts[1])
    load = json.load(open(load_path, encoding="utf-8"))
    missing = [key for key in LOAD_KEYS if key not in load]
    if missing:
        sys.exit(f"error: the load generator's --json report has no {', '.join(missing)} (keys: {', '.join(load)})")

    requests = []
    for line in open(log_path, encoding="utf-8"):
        m = LINE.search(line)
        if m and m["path"].startswith("/v1/"):
            requests.append(m)
    broken = []

    def rule(ok, message):
        if not ok:
            broken.append(message)

    statuses = collections.Counter(int(m["status"]) for m in requests)
    retried = [m for m in requests if "," in m["ustatus"]]
    # Why each retry happened: the status nginx recorded for each failed attempt ("502" = connection refused, reset
    # or closed before the answer; "503" = the replica refused: draining), by replica.
    causes = collections.Counter()
    names = {address: name for name, address in replicas.items()}
    for m in retried:
        addresses = [a.strip() for a in m["upstream"].split(",")]
        codes = [c.strip() for c in m["ustatus"].split(",")]
        for address, code in zip(addresses[:-1], codes[:-1]):
            causes[f"{names.get(address, address)} {code}"] += 1

    def throughput(start, end):
        done = [m for m in requests if start <= float(m["t"]) < end and m["status"] == "200"]
        return len(done), (len(done) / (end - start) if end > start else 0.0)

    t0, tk, tt, t1 = events["load_start"], events["kill"], events["term"], events["load_end"]
    windows = [("before the faults (3 replicas)", t0, tk), ("after SIGKILL (2 replicas)", tk, tt),
               ("after SIGTERM (1 replica)", tt, t1)]
    print(f"requests: clients sent {load['requests']}, nginx logged {len(requests)}")
    print("statuses at the clients: " + ", ".join(f"{k}: {v}" for k, v in sorted(load["status_counts"].items()))
          + f"; transport errors: {load['transport_errors']}; malformed 200s: {load['malformed_answers']}"
          + f"; client retries: {load['retries_total']}")
    latency = load["latency_ms"]
    print(f"whole run at the clients: {load['throughput_per_second']:.1f} answers/s; latency of 200s p50 {latency['p50']:.0f} ms,"
          f" p95 {latency['p95']:.0f} ms, p99 {latency['p99']:.0f} ms, max {latency['max']:.0f} ms")
    for problem in load["problems"]:
        print("  load generator: " + " ".join(problem.split())[:200])
    print("statuses in nginx's log: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))
    for name, start, end in windows:
        n, rate = throughput(start, end)
        print(f"throughput {name}: {rate:.1f} requests/s ({n} answered 200 in {end - start:.1f} s)")
    print("  (every replica shares this machine's cores, so fewer replicas are not slower here: the figures show "
          "that service went on, not how it scales)")
    print(f"retried requests: {len(retried)}; failed attempts before the answer, by replica and status: "
          + (", ".join(f"{k} ×{v}" for k, v in sorted(causes.items())) or "none")
          + " (502 = refused, reset or closed without an answer; 503 = refused by a draining replica)")
    drained = [m for m in requests if float(m["t"]) >= tt
               and names.get(m["upstream"].split(",")[-1].strip()) == "terminated"]
    print(f"answered by the SIGTERMed replica during its drain: {len(drained)}")
    per_replica = collections.Counter(names.get(m["upstream"].split(",")[-1].strip(), "?") for m in requests)
    print("answered by: " + ", ".join(f"{k}: {v}" for k, v in sorted(per_replica.items())))

    client_statuses = {int(k): v for k, v in load["status_counts"].items()}
    answered = sum(client_statuses.values())
    rule(load["transport_errors"] == 0, f"{load['transport_errors']} requests got no HTTP answer at the client")
    rule(answered == load["requests"], f"clients sent {load['requests']} requests but got {answered} answers (lost requests)")
    rule(len(requests) == load["requests"], f"nginx logged {len(requests)} requests, clients sent {load['requests']}")
    rule(all(s < 500 for s in client_statuses), f"5xx at the clients: {client_statuses}")
    # The load's concurrency is below one replica's queue (max-queue + 1), so no replica was ever full: a 429
    # could only mean that requests were refused while capacity was left.
    rule(client_statuses.get(429, 0) == 0, f"{client_statuses.get(429, 0)} 429s although a replica always had room")
    rule(set(client_statuses) <= {200}, f"statuses other than 200 at the clients: {client_statuses}")
    rule(set(statuses) <= {200}, f"statuses other than 200 in nginx's log: {dict(statuses)}")
    rule(load["malformed_answers"] == 0, f"{load['malformed_answers']} 200 answers were not well-formed")
    rule(load["invalid_rate_limits"] == 0, f"{load['invalid_rate_limits']} 429s without a full queue")
    rule(load["retries_total"] == 0, "the clients retried: every retry must be nginx's")
    # With CONCURRENCY clients over three replicas, the killed one always has requests in flight when it dies:
    # each of them must have been answered by another replica.
    rule(any(key.startswith("killed ") for key in causes),
         "no request was retried away from the SIGKILLed replica: the fault was not exercised")
    for name, start, end in windows:
        rule(throughput(start, end)[0] > 0, f"nothing answered {name}")
    for message in broken:
        print("FAIL: " + message)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
