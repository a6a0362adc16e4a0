#!/usr/bin/env bash
# Interleaved comparison on a shared/noisy machine: for each GEMM shape, PyTorch (bench/pytorch_gemm.py) and ours
# (gemm-quick) are run back to back, ROUNDS times, so both see the same background load. Prints both tables per shape.
# Usage: bench/compare_pytorch.sh [rounds=2] [threads=2]   (run from the repository root after a Release build)
# Ends with the ratios per shape (ours / PyTorch oneDNN fp32, ours / PyTorch bf16, per round and their median) and
# how many rounds reached the bars (faster than fp32; >= 1.5x bf16).
set -euo pipefail
rounds=${1:-2}
threads=${2:-2}
python=${PYTHON:-/usr/bin/python3}  # Debian's interpreter, where python3-torch is installed
dll=bench/LlamaGuardSharp.Benchmarks/bin/Release/net10.0/LlamaGuardSharp.Benchmarks.dll
[ -f "$dll" ] || dotnet build -c Release bench/LlamaGuardSharp.Benchmarks >/dev/null
shapes=("vision qkv (fused)" "vision o_proj" "vision fc1" "vision fc2" "projector" "cross k+v (fused)"
        "text q+k+v prefill (fused)" "text q/o prefill" "text k/v prefill" "text gate+up prefill (fused)" "text gate/up prefill"
        "text down prefill" "text q/o decode" "text gate/up decode" "text down decode" "lm_head decode")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for round in $(seq "$rounds"); do
  for shape in "${shapes[@]}"; do
    echo "## round $round: $shape  (load: $(cut -d' ' -f1-3 /proc/loadavg))"
    "$python" bench/pytorch_gemm.py "$threads" 3 "$shape" | tail -n +3 | sed 's/^/torch /'
    dotnet "$dll" gemm-quick "$threads" 3 "$shape" | tail -n +3 | sed 's/^/ours  /'
  done
done | tee "$log"
# torch rows: name M K N aten-GF/s|skipped fp32-ms fp32-GF/s bf16-ms bf16-GF/s; ours rows: name M K N ms GF/s %peak
# W-GB/s GF/CPU-s %cpu-peak. GFLOP/s ratios equal weight-GB/s ratios (same shape), so decode rows compare the same way.
awk '
  /^## round/ { round = $3; sub(/:/, "", round); next }
  /^torch / {
    name = $2; for (i = 3; i <= NF - 8; i++) name = name " " $i
    fp32[round, name] = $(NF - 2); bf16[round, name] = $NF; next
  }
  /^ours  / {
    name = $2; for (i = 3; i <= NF - 9; i++) name = name " " $i
    key = round SUBSEP name
    if (!(name in seen)) { seen[name] = 1; order[++shapes] = name }
    ours[key] = $(NF - 4)
    tk = round SUBSEP name
    rf[name, round] = ours[key] / fp32[tk]; rb[name, round] = ours[key] / bf16[tk]
    rounds = round > rounds ? round : rounds
  }
  function median(arr, name, k,   i, j, t, v) {
    for (i = 1; i <= k; i++) v[i] = arr[name, i]
    for (i = 2; i <= k; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
    return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
  }
  END {
    print ""
    print "# ratios (GFLOP/s; per round, then the median over rounds)"
    printf "%-30s %-24s %-24s %9s %9s %8s %8s\n", "shape", "ours/fp32 per round", "ours/bf16 per round", "med fp32", "med bf16", ">fp32", ">=1.5bf16"
    for (s = 1; s <= shapes; s++) {
      name = order[s]; lf = ""; lb = ""; hf = 0; hb = 0
      for (r = 1; r <= rounds; r++) {
        lf = lf sprintf("%.2f ", rf[name, r]); lb = lb sprintf("%.2f ", rb[name, r])
        if (rf[name, r] > 1) hf++
        if (rb[name, r] >= 1.5) hb++
      }
      printf "%-30s %-24s %-24s %9.2f %9.2f %5d/%-2d %5d/%-2d\n", name, lf, lb, median(rf, name, rounds), median(rb, name, rounds), hf, rounds, hb, rounds
    }
  }' "$log"
