#!/usr/bin/env bash
# Interleaved A/B of a compute kernel against its version at a git revision (robust to a noisy, shared host: both
# versions run alternately in one process, so they see the same background load; read the current/baseline ratio).
# Usage: bench/ab.sh REV gemm|gemm-cold|attention [rounds=5] [threads=2] [shape-substring]
#   e.g. bench/ab.sh HEAD gemm 5 2 "text"      (uncommitted GemmPacked.cs vs the committed one)
#   gemm-cold: the packed shapes' calls cycle through weight copies (>= 1 GiB), so no call finds its weights in the caches
#   GEMM_AB_ROWS=N in the environment: the text prefill shapes with N rows instead of 400
# The baseline source is generated into bench/LlamaGuardSharp.Benchmarks/Baseline/ (git-ignored) with its class
# renamed; it must still compile against the current library (internal helpers it uses may have changed since REV).
set -euo pipefail
rev=${1:?usage: bench/ab.sh REV gemm|gemm-cold|attention [rounds] [threads] [filter]}
kind=${2:?usage: bench/ab.sh REV gemm|gemm-cold|attention [rounds] [threads] [filter]}
rounds=${3:-5}; threads=${4:-2}; filter=${5:-}
case "$kind" in
  gemm|gemm-cold|attention) ;;
  *) echo "unknown kernel '$kind' (gemm, gemm-cold or attention)" >&2; exit 2 ;;
esac
root=$(git rev-parse --show-toplevel)
out="$root/bench/LlamaGuardSharp.Benchmarks/Baseline"
mkdir -p "$out"
# All baselines are generated (the A/B harness references them all), whichever kernel is timed.
# AttentionTiled hands calls with >= 48 rows per KV head to AttentionLanes (since 2026-11-28): its baseline calls the
# baseline AttentionLanes when REV has one. A kernel file missing at REV gets no baseline.
rm -f "$out"/*Baseline.cs
for cls in GemmPacked AttentionTiled GemmRowDot AttentionLanes; do
  git -C "$root" cat-file -e "$rev:src/LlamaGuardSharp/Compute/$cls.cs" 2>/dev/null || continue
  git -C "$root" show "$rev:src/LlamaGuardSharp/Compute/$cls.cs" \
    | sed -e 's/^namespace LlamaGuardSharp.Compute;/using LlamaGuardSharp.Compute;\nnamespace LlamaGuardSharp.Benchmarks.Baseline;/' \
          -e "s/internal static unsafe class $cls\b/internal static unsafe class ${cls}Baseline/" \
          -e 's/\bAttentionLanes\.\(Supports\|Run\)/AttentionLanesBaseline.\1/g' \
          -e 's/<see cref="\([A-Za-z]*\)"\/>/\1/g' > "$out/${cls}Baseline.cs"
done
log=$(mktemp)
if ! dotnet build -c Release "$root/bench/LlamaGuardSharp.Benchmarks" -p:AbBaseline=true -o "$root/bench/LlamaGuardSharp.Benchmarks/bin/ab" >"$log" 2>&1; then
  # Usually the baseline calls an internal helper whose signature has changed since REV.
  grep -E "error" "$log" | sort -u | head -20 >&2
  echo "ab.sh: the A/B build failed (baseline from $rev)" >&2
  rm -f "$log"; exit 1
fi
rm -f "$log"
dotnet "$root/bench/LlamaGuardSharp.Benchmarks/bin/ab/LlamaGuardSharp.Benchmarks.dll" "$kind-ab" "$rounds" "$threads" "$filter"
