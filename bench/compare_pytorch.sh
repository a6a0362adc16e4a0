#!/usr/bin/env bash
# Interleaved comparison on a shared/noisy machine: for each GEMM shape, PyTorch (bench/pytorch_gemm.py) and ours
# (gemm-quick) are run back to back, ROUNDS times, so both see the same background load. Prints both tables per shape.
# Usage: bench/compare_pytorch.sh [rounds=2] [threads=2]   (run from the repository root after a Release build)
set -euo pipefail
rounds=${1:-2}
threads=${2:-2}
python=${PYTHON:-/usr/bin/python3}  # Debian's interpreter, where python3-torch is installed
dll=bench/LlamaGuardSharp.Benchmarks/bin/Release/net10.0/LlamaGuardSharp.Benchmarks.dll
[ -f "$dll" ] || dotnet build -c Release bench/LlamaGuardSharp.Benchmarks >/dev/null
shapes=("vision qkv (fused)" "vision o_proj" "vision fc1" "vision fc2" "projector" "cross k+v (fused)"
        "text q+k+v prefill (fused)" "text q/o prefill" "text k/v prefill" "text gate+up prefill (fused)" "text gate/up prefill"
        "text down prefill" "text q/o decode" "text gate/up decode" "text down decode" "lm_head decode")
for round in $(seq "$rounds"); do
  for shape in "${shapes[@]}"; do
    echo "## round $round: $shape  (load: $(cut -d' ' -f1-3 /proc/loadavg))"
    "$python" bench/pytorch_gemm.py "$threads" 3 "$shape" | tail -n +3 | sed 's/^/torch /'
    dotnet "$dll" gemm-quick "$threads" 3 "$shape" | tail -n +3 | sed 's/^/ours  /'
  done
done
