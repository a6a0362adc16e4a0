#!/usr/bin/env bash
# The AVX-512 kernels must be exercised wherever the CPU has AVX-512. Their tests (named "[AVX-512 <variant>]") skip,
# with the reason in the report, on hosts without it; on an AVX-512 host this check runs them again with
# LLAMAGUARD_REQUIRE_AVX512=1, which turns a skip into a failure (e.g. a runtime with AVX-512 switched off), and
# requires that they ran and none was skipped. Runs after the Release build (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! grep -qw avx512f /proc/cpuinfo; then
  echo "no AVX-512 on this CPU: the AVX-512 kernel tests are reported as skipped by dotnet test; nothing to require"
  exit 0
fi
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
LLAMAGUARD_REQUIRE_AVX512=1 dotnet test tests/LlamaGuardSharp.Tests/LlamaGuardSharp.Tests.csproj -c Release --no-build \
  --filter "DisplayName~AVX-512" --logger "trx;LogFileName=avx512.trx" --results-directory "$results" > "$results/log.txt" 2>&1 \
  || { tail -n 40 "$results/log.txt"; echo "AVX-512 kernel tests failed on an AVX-512 host"; exit 1; }
counters=$(grep -o '<Counters [^>]*>' "$results/avx512.trx" | head -n 1)
executed=$(echo "$counters" | grep -o ' executed="[0-9]*"' | grep -o '[0-9]*')
passed=$(echo "$counters" | grep -o ' passed="[0-9]*"' | grep -o '[0-9]*')
total=$(echo "$counters" | grep -o ' total="[0-9]*"' | grep -o '[0-9]*')
echo "AVX-512 kernel tests: $passed passed of $total ($executed executed)"
if [ "${total:-0}" -lt 50 ] || [ "${passed:-0}" -ne "${total:-0}" ]; then
  echo "expected every AVX-512 kernel test to run and pass on this AVX-512 host"
  exit 1
fi
