#!/usr/bin/env bash
# A series of GEMM tables (gemm-quick) spread over time, summarised per shape: on a shared host one table reflects the
# minute it ran in (the same code read 65-92 % of the probe in tables a minute apart), so the per-shape median over
# several tables is the figure to quote, with how many tables reached 80 %.
# Usage: bench/gemm_series.sh [tables=6] [pause-seconds=60] [threads=2] [reps=5] [shape-substring]   (repository root)
# Each table's raw output is kept under ${GEMM_SERIES_DIR:-/tmp/gemm-series}/ (one file per table).
set -euo pipefail
tables=${1:-6}; pause=${2:-60}; threads=${3:-2}; reps=${4:-5}; filter=${5:-}
root=$(git rev-parse --show-toplevel)
dll="$root/bench/LlamaGuardSharp.Benchmarks/bin/Release/net10.0/LlamaGuardSharp.Benchmarks.dll"
[ -f "$dll" ] || dotnet build -c Release "$root/bench/LlamaGuardSharp.Benchmarks" >/dev/null
dir=${GEMM_SERIES_DIR:-/tmp/gemm-series}
mkdir -p "$dir"
stamp=$(date -u +%Y%m%dT%H%M%S)
for t in $(seq "$tables"); do
  f="$dir/$stamp-$t.txt"
  dotnet "$dll" gemm-quick "$threads" "$reps" "$filter" >"$f"
  head -1 "$f" >&2
  [ "$t" -lt "$tables" ] && sleep "$pause"
done
# Rows: name (may contain spaces) then 9 numbers: M K N ms GFLOP/s %peak W-GB/s GF/CPU-s %cpu-peak.
cat "$dir/$stamp"-*.txt | awk '
  /^#/ || /^shape/ { next }
  {
    name = $1; for (i = 2; i <= NF - 9; i++) name = name " " $i
    peak = $(NF - 3); cpu = $NF; sub(/%/, "", peak); sub(/%/, "", cpu)
    if (!(name in n)) order[++shapes] = name
    n[name]++; p[name, n[name]] = peak + 0; c[name, n[name]] = cpu + 0
  }
  function median(arr, name, k,   i, j, t, v) {
    for (i = 1; i <= k; i++) v[i] = arr[name, i]
    for (i = 2; i <= k; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
    return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
  }
  END {
    printf "%-30s %6s %9s %7s %7s %8s %11s\n", "shape", "tables", "median %", "min %", "max %", ">= 80 %", "median cpu%"
    for (s = 1; s <= shapes; s++) {
      name = order[s]; k = n[name]; lo = 1e9; hi = -1; hit = 0
      for (i = 1; i <= k; i++) { v = p[name, i]; if (v < lo) lo = v; if (v > hi) hi = v; if (v >= 80) hit++ }
      printf "%-30s %6d %8.1f%% %6.1f%% %6.1f%% %5d/%-2d %10.1f%%\n", name, k, median(p, name, k), lo, hi, hit, k, median(c, name, k)
    }
  }'
