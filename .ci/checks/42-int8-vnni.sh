#!/usr/bin/env bash
# The int8 path (docs/int8.md). On an AVX-VNNI host: its kernel and model tests (named "[AVX-VNNI <variant>]") must all
# run and pass with LLAMAGUARD_REQUIRE_AVX512=1 (which also turns their skips into failures), and the CLI must quantize
# a synthetic tiny checkpoint and classify with --precision int8. Without AVX-VNNI: --precision int8 must fail with one
# clear error line. Runs after the Release build (.ci/run); bounded (tiny model, ~1 min).
set -euo pipefail
cd "$(dirname "$0")/../.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cli=(dotnet src/LlamaGuardSharp.Cli/bin/Release/net10.0/llamaguard.dll)
timeout 120 "${cli[@]}" synth --preset tiny --out "$work/tiny" > /dev/null 2>&1
timeout 120 "${cli[@]}" quantize --model "$work/tiny" --json > "$work/quantize.json" 2> "$work/quantize.err" \
  || { cat "$work/quantize.err"; echo "quantize failed"; exit 1; }
grep -q '"layout_version":"1"' "$work/quantize.json" || { cat "$work/quantize.json"; echo "quantize: no summary"; exit 1; }
if ! grep -qw avx_vnni /proc/cpuinfo; then
  if timeout 120 "${cli[@]}" classify --model "$work/tiny" --user "Hello" --precision int8 > /dev/null 2> "$work/err"; then
    echo "--precision int8 succeeded on a CPU without AVX-VNNI"; exit 1
  fi
  tail -n 1 "$work/err" | grep -q '^error: .*AVX-VNNI' || { cat "$work/err"; echo "expected one clear error line"; exit 1; }
  echo "no AVX-VNNI on this CPU: --precision int8 refused with a clear error; kernel tests are reported as skipped"
  exit 0
fi
timeout 120 "${cli[@]}" classify --model "$work/tiny" --user "Hello" --precision int8 --json > "$work/verdict.json" 2> "$work/err" \
  || { cat "$work/err"; echo "classify --precision int8 failed"; exit 1; }
grep -q '"verdict"' "$work/verdict.json" || { cat "$work/verdict.json"; echo "no verdict"; exit 1; }
LLAMAGUARD_REQUIRE_AVX512=1 timeout 600 dotnet test tests/LlamaGuardSharp.Tests/LlamaGuardSharp.Tests.csproj -c Release --no-build \
  --filter "DisplayName~AVX-VNNI" --logger "trx;LogFileName=vnni.trx" --results-directory "$work" > "$work/log.txt" 2>&1 \
  || { tail -n 40 "$work/log.txt"; echo "AVX-VNNI tests failed on an AVX-VNNI host"; exit 1; }
counters=$(grep -o '<Counters [^>]*>' "$work/vnni.trx" | head -n 1)
passed=$(echo "$counters" | grep -o ' passed="[0-9]*"' | grep -o '[0-9]*')
total=$(echo "$counters" | grep -o ' total="[0-9]*"' | grep -o '[0-9]*')
echo "AVX-VNNI tests: $passed passed of $total; quantize + classify --precision int8 ok"
if [ "${total:-0}" -lt 30 ] || [ "${passed:-0}" -ne "${total:-0}" ]; then
  echo "expected every AVX-VNNI test to run and pass on this AVX-VNNI host"
  exit 1
fi
