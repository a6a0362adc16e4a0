#!/usr/bin/env bash
# Fault test of the scale-out set-up (docs/deployment.md): three `llamaguard serve` replicas on a tiny synthetic model
# behind Debian's nginx running deploy/nginx/llamaguard.conf (only the replica addresses, the listen address and the
# log path replaced), driven by the service's load generator (bench/LlamaGuardSharp.LoadTest). Mid-run one replica is
# killed with SIGKILL and a second one is sent SIGTERM. Required: every request answered 200 (the concurrency is below
# one replica's queue, so a 429 would mean refusing work while a replica had room), no 5xx and no transport error at
# the clients, as many requests in nginx's log as the clients sent, the SIGTERMed replica exiting 0 after its drain,
# at least one retry in the log. Prints throughput before/after the faults, retries and status counts.
# Loopback only, free ports, bounded in time (~1–2 min after the build), everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"

CONCURRENCY=6          # < MAX_QUEUE + 1: one replica alone can hold every request in flight
MAX_QUEUE=16
DRAIN_TIMEOUT=20
LOAD_SECONDS=30
KILL_AT=10             # seconds into the load: SIGKILL replica 1
TERM_AT=18             # SIGTERM replica 2

export PATH="$PATH:/usr/sbin"
need_apt=()
command -v nginx >/dev/null 2>&1 || need_apt+=(nginx-light)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing from apt: ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

work="$(mktemp -d /tmp/lg-fault.XXXXXX)"
pids=()        # replicas and the load generator: single processes, SIGKILL is enough
nginx_pid=""   # nginx's master: SIGTERM, so that it takes its worker processes down with it
cleanup() {
  local pid
  if [ -n "$nginx_pid" ]; then
    kill -TERM "$nginx_pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$nginx_pid" 2>/dev/null || true
    { wait "$nginx_pid"; } 2>/dev/null || true
  fi
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do { wait "$pid"; } 2>/dev/null || true; done
  if [ "${KEEP_FAULT_WORKDIR:-}" = 1 ]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo "FAIL: .ci/checks/40-nginx-fault.sh line $LINENO: a command failed (exit $?)"' ERR
fail() { echo "FAIL: $*"; for f in "$work"/replica*.log "$work"/nginx-error.log "$work"/load.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done; exit 1; }

echo "building the CLI and the load generator (Release)"
for project in src/LlamaGuardSharp.Cli/LlamaGuardSharp.Cli.csproj bench/LlamaGuardSharp.LoadTest/LlamaGuardSharp.LoadTest.csproj; do
  dotnet build "$project" -c Release -nologo -v q -clp:ErrorsOnly >"$work/build.log" 2>&1 \
    || { tail -n 30 "$work/build.log"; fail "build of $project"; }
done
cli=(dotnet "$repo/src/LlamaGuardSharp.Cli/bin/Release/net10.0/llamaguard.dll")
loadgen=(dotnet "$repo/bench/LlamaGuardSharp.LoadTest/bin/Release/net10.0/llamaguard-load.dll")

"${cli[@]}" synth --preset tiny --out "$work/model" >/dev/null 2>"$work/synth.log" || fail "synth --preset tiny"

# Free loopback ports: bound to port 0 by the kernel, released just before use.
read -r -a ports <<<"$(python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()')"
nginx_port="${ports[3]}"

names=(killed terminated survivor)
replica_pids=()
for i in 0 1 2; do
  "${cli[@]}" serve --model "$work/model" --urls "http://127.0.0.1:${ports[$i]}" --max-queue "$MAX_QUEUE" \
    --drain-timeout "$DRAIN_TIMEOUT" --request-timeout 60 >"$work/replica$((i + 1)).log" 2>&1 &
  pids+=($!); replica_pids+=($!)
done
for i in 0 1 2; do
  for _ in $(seq 1 120); do
    curl -sf -o /dev/null "http://127.0.0.1:${ports[$i]}/readyz" && break
    kill -0 "${replica_pids[$i]}" 2>/dev/null || fail "replica $((i + 1)) exited while starting"
    sleep 0.5
  done
  curl -sf -o /dev/null "http://127.0.0.1:${ports[$i]}/readyz" || fail "replica $((i + 1)) not ready after 60 s"
done
# Warm-up (JIT, first classification) on each replica directly, so that "before the faults" is a steady rate.
for i in 0 1 2; do
  for _ in 1 2 3; do
    curl -sf -o /dev/null -H 'Content-Type: application/json' -d '{"turns":[{"role":"user","content":"warm-up"}]}' \
      "http://127.0.0.1:${ports[$i]}/v1/classify" || fail "warm-up request to replica $((i + 1))"
  done
done
echo "replicas ready on ports ${ports[0]}, ${ports[1]}, ${ports[2]} (warmed up)"

# nginx: the shipped file with this run's replicas (the shipped server parameters kept), listen address and log,
# inside a main config of this run's own (pid, error log, temp paths: no root needed).
awk -v servers="127.0.0.1:${ports[0]} 127.0.0.1:${ports[1]} 127.0.0.1:${ports[2]}" -v listen="127.0.0.1:$nginx_port" \
    -v logpath="$work/access.log" -f tests/deploy/nginx-test-conf.awk deploy/nginx/llamaguard.conf >"$work/llamaguard.conf"
grep -q "server 127.0.0.1:${ports[2]} max_fails" "$work/llamaguard.conf" || fail "could not place the replicas in the upstream"
mkdir -p "$work/nginx-temp"
cat >"$work/nginx.conf" <<CONF
daemon off;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log info;
events { worker_connections 256; }
http {
    client_body_temp_path $work/nginx-temp/body; proxy_temp_path $work/nginx-temp/proxy;
    fastcgi_temp_path $work/nginx-temp/fastcgi; uwsgi_temp_path $work/nginx-temp/uwsgi; scgi_temp_path $work/nginx-temp/scgi;
    include $work/llamaguard.conf;
}
CONF
nginx -t -q -p "$work" -e "$work/nginx-error.log" -c "$work/nginx.conf" || fail "nginx -t"
nginx -p "$work" -e "$work/nginx-error.log" -c "$work/nginx.conf" &
nginx_pid=$!
for _ in $(seq 1 40); do curl -s -o /dev/null "http://127.0.0.1:$nginx_port/healthz" && break; sleep 0.25; done
curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/healthz" || fail "nginx does not answer on port $nginx_port"
: >"$work/access.log" # the readiness probe above is not part of the run
echo "nginx $(nginx -v 2>&1 | sed 's/.*\///') on port $nginx_port"

{
  echo "replica 127.0.0.1:${ports[0]} ${names[0]}"
  echo "replica 127.0.0.1:${ports[1]} ${names[1]}"
  echo "replica 127.0.0.1:${ports[2]} ${names[2]}"
} >"$work/events"
now() { date +%s.%N; }

echo "load: $CONCURRENCY concurrent clients for $LOAD_SECONDS s; SIGKILL replica 1 at ${KILL_AT} s, SIGTERM replica 2 at ${TERM_AT} s"
echo "load_start $(now)" >>"$work/events"
load_start=$(date +%s)
# Text and image requests alternating (POST /v1/moderations); no client retries (--max-retries 0): every retry
# here is nginx's. --queue-limit: the load generator judges each 429 against it (nginx hides /metrics).
"${loadgen[@]}" --url "http://127.0.0.1:$nginx_port" --concurrency "$CONCURRENCY" --duration "$LOAD_SECONDS" \
  --kind mixed --max-retries 0 --queue-limit "$MAX_QUEUE" --timeout 60 --json >"$work/load.json" 2>"$work/load.log" &
loadgen_pid=$!
pids+=($loadgen_pid)

sleep $((load_start + KILL_AT - $(date +%s)))
kill -KILL "${replica_pids[0]}"
echo "kill $(now)" >>"$work/events"
{ wait "${replica_pids[0]}"; } 2>/dev/null || true
echo "SIGKILL replica 1 (pid ${replica_pids[0]})"
sleep $((load_start + TERM_AT - $(date +%s)))
kill -TERM "${replica_pids[1]}"
echo "term $(now)" >>"$work/events"
echo "SIGTERM replica 2 (pid ${replica_pids[1]})"

term_status=0
wait "${replica_pids[1]}" || term_status=$?
echo "replica 2 exited with status $term_status after its drain"
load_status=0
wait "$loadgen_pid" || load_status=$?
echo "load_end $(now)" >>"$work/events"
kill -0 "${replica_pids[2]}" 2>/dev/null || fail "replica 3 (never signalled) is not running any more"

ok=0
python3 tests/deploy/fault_report.py "$work/access.log" "$work/events" "$work/load.json" || ok=1
[ "$term_status" -eq 0 ] || { echo "FAIL: the SIGTERMed replica exited with $term_status, not 0"; ok=1; }
# X-Request-Id: nginx makes one per request (the clients send none) and passes it on; the replica that answered must
# have logged the request under the same id.
survivor="127.0.0.1:${ports[2]}"
ids=$(awk -v up="upstream=\"$survivor\"" 'index($0, up) && n < 20 && match($0, /rid=[0-9a-f]+/) {
  print substr($0, RSTART + 4, RLENGTH - 4); n++ }' "$work/access.log")
missing=0; checked=0
for id in $ids; do checked=$((checked + 1)); grep -qF "$id" "$work/replica3.log" || missing=$((missing + 1)); done
if [ "$checked" -gt 0 ] && [ "$missing" -eq 0 ]; then echo "request ids: the $checked checked are in the answering replica's log"
else echo "FAIL: $missing of $checked request ids from nginx's log are not in the answering replica's log"; ok=1; fi
[ "$load_status" -eq 0 ] || { echo "FAIL: the load generator's own checks failed (exit $load_status)"; ok=1; }
[ "$ok" -eq 0 ] || fail "fault test"

# Overload: now that every replica but one is gone, more clients than its queue holds. The surviving replica's 429s
# (queue full: every replica is busy) must reach the clients as 429s — nginx does not retry them and must not count
# them as failures, which would take the last replica out and answer 502 "no live upstreams" — and each 429 must come
# from a full queue (the load generator checks X-Queue-Depth against the limit).
overload_clients=$((MAX_QUEUE * 2 + 8))
echo "overload: $overload_clients clients for 6 s against the one replica left (queue $MAX_QUEUE)"
lines_before=$(wc -l <"$work/access.log")
overload_status=0
"${loadgen[@]}" --url "http://127.0.0.1:$nginx_port" --concurrency "$overload_clients" --duration 6 --kind text \
  --max-retries 0 --queue-limit "$MAX_QUEUE" --timeout 60 --json >"$work/overload.json" 2>"$work/load.log" \
  || overload_status=$?
python3 - "$work/overload.json" "$work/access.log" "$lines_before" "$overload_status" <<'PY' || fail "overload"
import json, re, sys
report = json.load(open(sys.argv[1]))
counts = {int(k): v for k, v in report["status_counts"].items()}
logged = [int(m.group(1)) for line in open(sys.argv[2]).readlines()[int(sys.argv[3]):]
          if (m := re.search(r" status=(\d+) ", line))]
print(f"overload: clients saw {', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))}"
      f" ({report['invalid_rate_limits']} 429s without a full queue); nginx logged {len(logged)} requests,"
      f" {sum(1 for s in logged if s >= 500)} of them 5xx")
problems = []
if not counts.get(429): problems.append("no 429 although the clients outnumbered the queue")
if not counts.get(200): problems.append("nothing answered 200 under overload")
if any(k >= 500 for k in counts) or any(s >= 500 for s in logged): problems.append("5xx under overload")
if report["invalid_rate_limits"] or report["transport_errors"]: problems.append("unjustified 429s or transport errors")
if sys.argv[4] != "0": problems.append(f"the load generator's own checks failed (exit {sys.argv[4]})")
for line in report["problems"][:5]: print("  load generator: " + " ".join(line.split())[:200])
for p in problems: print("FAIL: " + p)
sys.exit(1 if problems else 0)
PY
echo "fault test passed"
