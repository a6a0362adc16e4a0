#!/usr/bin/env python3
"""Times the LlamaGuardSharp GEMM shapes with PyTorch on the CPU, for comparison with
`dotnet run -c Release --project bench/LlamaGuardSharp.Benchmarks -- gemm-quick`.

Each shape is C[M, N] = A[M, K] @ W[N, K]^T, timed as the median of REPS calls after a warm-up, three ways:
  fp32 aten   torch.nn.functional.linear in float32. Debian's torch sends this to the system BLAS (netlib reference
              BLAS unless OpenBLAS is installed), so it is very slow; shapes above BLAS_MAX_GFLOP are skipped.
  fp32 oneDNN the same Linear converted with torch.utils.mkldnn.to_mkldnn (oneDNN sgemm, dense in/out): PyTorch's best
              float32 CPU path in this build, the fair fp32 comparison.
  bf16        torch.nn.functional.linear with A and W in bfloat16 (oneDNN), as a bf16 inference stack would run it.
Usage:  python3 bench/pytorch_gemm.py [threads=2] [reps=3] [name-filter] [--json out.json]
Debian: apt-get install python3-torch (1.13, oneDNN/mkldnn build).
"""
import json
import statistics
import sys
import time

import torch
import torch.utils.mkldnn

SHAPES = [  # must match GemmShape.ModelShapes in src/LlamaGuardSharp/Compute/GemmBenchmark.cs
    ("vision qkv (fused)", 6432, 1280, 3840),
    ("vision o_proj", 6432, 1280, 1280),
    ("vision fc1", 6432, 1280, 5120),
    ("vision fc2", 6432, 5120, 1280),
    ("projector", 6404, 7680, 4096),
    ("cross k+v (fused)", 6404, 4096, 2048),
    ("text q+k+v prefill (fused)", 400, 4096, 6144),
    ("text q/o prefill", 400, 4096, 4096),
    ("text k/v prefill", 400, 4096, 1024),
    ("text gate+up prefill (fused)", 400, 4096, 28672),
    ("text gate/up prefill", 400, 4096, 14336),
    ("text down prefill", 400, 14336, 4096),
    ("text q/o decode", 1, 4096, 4096),
    ("text gate/up decode", 1, 4096, 14336),
    ("text down decode", 1, 14336, 4096),
    ("lm_head decode", 1, 4096, 128256),
]
SLOW_SECONDS = 30.0  # a single call slower than this is reported from that one call (no repetitions)
BLAS_MAX_GFLOP = 8.0  # the reference-BLAS fp32 path runs at ~2 GFLOP/s: skip bigger shapes


def time_call(fn, reps):
    fn()  # warm-up (also allocates the output once)
    first = time.perf_counter()
    fn()
    first = time.perf_counter() - first
    if first > SLOW_SECONDS:
        return first
    seconds = [first]
    for _ in range(reps - 1):
        t = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - t)
    return statistics.median(seconds)


def main():
    args = [x for x in sys.argv[1:] if not x.startswith("--")]
    json_path = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    if json_path in args:
        args.remove(json_path)
    threads = int(args[0]) if len(args) > 0 else 2
    reps = int(args[1]) if len(args) > 1 else 3
    name_filter = args[2] if len(args) > 2 else ""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    print(f"# torch {torch.__version__}, threads={torch.get_num_threads()}, reps={reps}, "
          f"mkldnn={torch.backends.mkldnn.is_available()}, {time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime())}")
    print(f"{'shape':<24} {'M':>6} {'K':>6} {'N':>7} {'aten fp32 GF/s':>14} {'oneDNN fp32 ms':>14} {'GF/s':>6} {'bf16 ms':>10} {'GF/s':>6}")
    results = []
    for name, m, k, n in SHAPES:
        if name_filter not in name:
            continue
        flops = 2.0 * m * k * n
        a = torch.rand(m, k, dtype=torch.float32) - 0.5
        w = (torch.rand(n, k, dtype=torch.float32) - 0.5) * 0.05
        linear = torch.nn.Linear(k, n, bias=False)
        with torch.inference_mode():
            linear.weight.copy_(w)
            onednn = torch.utils.mkldnn.to_mkldnn(linear)
            aten = time_call(lambda: torch.nn.functional.linear(a, w), reps) if flops / 1e9 <= BLAS_MAX_GFLOP else None
            fp32 = time_call(lambda: onednn(a), reps)
            a16, w16 = a.bfloat16(), w.bfloat16()
            bf16 = time_call(lambda: torch.nn.functional.linear(a16, w16), reps)
        row = {"name": name, "m": m, "k": k, "n": n, "aten_fp32_s": aten, "onednn_fp32_s": fp32, "bf16_s": bf16,
               "aten_fp32_gflops": flops / aten / 1e9 if aten else None,
               "onednn_fp32_gflops": flops / fp32 / 1e9, "bf16_gflops": flops / bf16 / 1e9}
        results.append(row)
        aten_text = f"{row['aten_fp32_gflops']:.1f}" if aten else "skipped"
        print(f"{name:<24} {m:>6} {k:>6} {n:>7} {aten_text:>14} {fp32 * 1e3:>14.2f} {row['onednn_fp32_gflops']:>6.1f} "
              f"{bf16 * 1e3:>10.2f} {row['bf16_gflops']:>6.1f}", flush=True)
        del a, w, linear, onednn
    if json_path:
        with open(json_path, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
