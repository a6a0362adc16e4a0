#!/usr/bin/env bash
# End-to-end check of `llamaguard eval` (issue 21): a tiny synthetic model classifies a labelled file, the run is
# interrupted and resumed, the metrics/plots/report are written, and the report is loaded in headless Chromium, which
# must lay out all five plots; then `eval compare` renders its two overlaid curves. Installs chromium when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

cli=src/LlamaGuardSharp.Cli/bin/Release/net10.0/llamaguard.dll
[ -f "$cli" ] || dotnet build src/LlamaGuardSharp.Cli/LlamaGuardSharp.Cli.csproj -c Release -v quiet
work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

timeout 120 dotnet "$cli" synth --preset tiny --out "$work/model" >/dev/null 2>&1
for i in $(seq 0 29); do
  label=safe; cats=''
  if [ $((i % 3)) -eq 0 ]; then label=unsafe; cats=', "categories": ["S1"]'; fi
  agent=''
  if [ $((i % 4)) -eq 1 ]; then agent=", \"agent\": \"answer $i\""; fi
  echo "{\"id\": \"q$i\", \"user\": \"question $i\"$agent, \"label\": \"$label\"$cats}"
done > "$work/input.jsonl"

args=(eval --model "$work/model" --input "$work/input.jsonl" --out "$work/out" --bootstrap 200 --target-fpr 0.1)
# Interrupt the first run once a few results are written, then resume it.
dotnet "$cli" "${args[@]}" >/dev/null 2>"$work/first.err" & pid=$!
for _ in $(seq 1 600); do
  [ -f "$work/out/results.jsonl" ] && [ "$(wc -l < "$work/out/results.jsonl")" -ge 3 ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""
killed_at=$(wc -l < "$work/out/results.jsonl")
[ "$killed_at" -lt 30 ] || { echo "the first run finished before it was interrupted"; exit 1; }
timeout 300 dotnet "$cli" "${args[@]}" > "$work/table.txt" 2> "$work/second.err"
lines=$(wc -l < "$work/out/results.jsonl")
unique=$(grep -o '"id":"[^"]*"' "$work/out/results.jsonl" | sort -u | wc -l)
[ "$lines" -eq 30 ] && [ "$unique" -eq 30 ] || { echo "results.jsonl: $lines lines, $unique ids (want 30)"; exit 1; }
for field in '"at_threshold"' '"auprc"' '"roc_auc"' '"per_category"' '"by_task"' '"confidence_intervals"'; do
  grep -q "$field" "$work/out/metrics.json" || { echo "metrics.json lacks $field"; exit 1; }
done
for plot in pr_curve roc_curve score_histogram reliability per_category; do
  [ -s "$work/out/$plot.png" ] && [ -s "$work/out/$plot.svg" ] || { echo "missing plot $plot"; exit 1; }
done

dom() { timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --dump-dom "file://$1" 2>/dev/null; }
dom "$work/out/report.html" | grep -q 'data-plots-rendered="5"' || { echo "report.html: chromium did not lay out all 5 plots"; exit 1; }

timeout 120 dotnet "$cli" eval compare "$work/out/results.jsonl" "$work/out/results.jsonl" --out "$work/compare" > "$work/compare.txt"
grep -q 'agreement 1.000' "$work/compare.txt" || { echo "compare: a file against itself should agree fully"; cat "$work/compare.txt"; exit 1; }
dom "$work/compare/report.html" | grep -q 'data-plots-rendered="2"' || { echo "compare report: plots missing"; exit 1; }
echo "eval report check passed: $(head -n 3 "$work/table.txt" | tail -n 2 | tr -s ' ' | head -c 200)"
