#!/usr/bin/env bash
# 20-serve-interop: `llamaguard serve` on a tiny synthetic model, driven by the official npm clients `openai` (moderations:
# text, text array, text + image, typed 400/401 errors) and `llama-stack-client` (shields list, run-shield), then a short
# mixed load run and an overload run (429s, no 5xx) with bench/LlamaGuardSharp.LoadTest, then SIGTERM: the server must
# drain and exit 0.
# Loopback only, a free port, bounded in time; the trap stops the server and removes the temporary folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing nodejs and npm (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

work=$(mktemp -d /tmp/lgs-serve-interop.XXXXXX)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

timeout 600 dotnet build src/LlamaGuardSharp.Cli -c Release --nologo -v q >/dev/null
timeout 300 dotnet build bench/LlamaGuardSharp.LoadTest -c Release --nologo -v q >/dev/null
llamaguard="$root/src/LlamaGuardSharp.Cli/bin/Release/net10.0/llamaguard"
load="$root/bench/LlamaGuardSharp.LoadTest/bin/Release/net10.0/llamaguard-load"
timeout 120 "$llamaguard" synth --preset tiny --out "$work/model" 2>/dev/null

(cd tests/interop && timeout 300 npm ci --no-audit --no-fund --loglevel=error)

port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
url="http://127.0.0.1:$port"
key="interop-$RANDOM$RANDOM"
"$llamaguard" serve --model "$work/model" --urls "$url" --api-key "$key" --max-queue 4 --drain-timeout 20 >"$work/serve.log" 2>&1 &
server_pid=$!

ready=""
for _ in $(seq 1 120); do
  if node -e "fetch('$url/readyz').then(r=>process.exit(r.status===200?0:1)).catch(()=>process.exit(1))"; then ready=1; break; fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.5
done
if [[ -z "$ready" ]]; then
  echo "FAIL: the service did not become ready"; tail -n 40 "$work/serve.log"; exit 1
fi
echo "serve ready at $url"

LLAMAGUARD_URL="$url" LLAMAGUARD_API_KEY="$key" IMAGE="$root/tests/data/imaging/png_bilevel.png" \
  timeout 180 node tests/interop/interop.mjs

timeout 300 "$load" --url "$url" --api-key "$key" --concurrency 3 --requests 12 --kind mixed
# Overload: 12 clients against a queue of 4 must get answers or justified 429s, never a 5xx.
overload=$(timeout 120 "$load" --url "$url" --api-key "$key" --concurrency 12 --duration 5 --kind text --json)
echo "$overload"
echo "$overload" | grep -q '"429":' || { echo "FAIL: no 429 under overload"; exit 1; }

kill -TERM "$server_pid"
set +e
timeout 60 tail --pid="$server_pid" -f /dev/null
wait "$server_pid"
code=$?
set -e
server_pid=""
if [[ "$code" -ne 0 ]]; then
  echo "FAIL: llamaguard serve exited $code after SIGTERM"; tail -n 40 "$work/serve.log"; exit 1
fi
grep -q "Draining" "$work/serve.log" || { echo "FAIL: no drain logged"; exit 1; }
echo "PASS: openai and llama-stack-client answers well-formed, load run clean, SIGTERM drained and exited 0"
