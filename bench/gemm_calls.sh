#!/usr/bin/env bash
# Per-call timing of the packed GEMM's micro-kernel (diagnostic build with GEMM_CALL_TIMING; see
# src/LlamaGuardSharp/Compute/GemmCallTiming.cs): which calls wait for memory, by their place in the blocking.
# Usage: bench/gemm_calls.sh [threads=1] [reps=3] [shape-substring]    (from the repository root)
set -euo pipefail
root=$(git rev-parse --show-toplevel)
out="$root/bench/LlamaGuardSharp.Benchmarks/bin/calls"
log=$(mktemp)
if ! dotnet build -c Release "$root/bench/LlamaGuardSharp.Benchmarks" -p:GemmCallTiming=true -o "$out" >"$log" 2>&1; then
  grep -E "error" "$log" | sort -u | head -20 >&2
  echo "gemm_calls.sh: the diagnostic build failed" >&2
  rm -f "$log"; exit 1
fi
rm -f "$log"
dotnet "$out/LlamaGuardSharp.Benchmarks.dll" gemm-calls "${1:-1}" "${2:-3}" "${3:-}"
