#!/usr/bin/env bash
# End-to-end check of issue 23 on the built CLI (run from the repo root after the Release build): hostile inputs —
# devices, a FIFO without a writer, a sparse 6 GB file, a folder, parse errors, out-of-range options, a reader that
# closes stdout — each end quickly with exit code 1 and exactly one "error:" line on stderr, nothing on stdout.
set -uo pipefail
cli="src/LlamaGuardSharp.Cli/bin/Release/net10.0/llamaguard.dll"
[ -f "$cli" ] || { echo "missing $cli (build Release first)"; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkfifo "$work/fifo"
truncate -s 6G "$work/sparse.png"
failures=0

expect_one_error() { # name expected-substring command...
  local name="$1" expected="$2"; shift 2
  local out="$work/out" err="$work/err" code
  timeout 30 dotnet "$cli" "$@" >"$out" 2>"$err" </dev/null
  code=$?
  local lines; lines=$(grep -c '^error:' "$err")
  if [ "$code" -ne 1 ] || [ "$lines" -ne 1 ] || [ -s "$out" ] || ! grep -q -- "$expected" "$err"; then
    echo "FAIL $name: exit $code, $lines error lines, stdout $(wc -c <"$out") bytes: $(head -c 300 "$err")"
    failures=$((failures + 1))
  else
    echo "ok   $name: $(grep '^error:' "$err" | head -c 160)"
  fi
}

expect_one_error "image /dev/zero" "character device" preprocess --image /dev/zero
expect_one_error "image FIFO" "named pipe" preprocess --image "$work/fifo"
expect_one_error "image sparse 6 GB" "larger than the limit" preprocess --image "$work/sparse.png"
expect_one_error "image folder" "is a directory" preprocess --image "$work"
expect_one_error "categories /dev/urandom" "character device" prompt --user hi --categories /dev/urandom
expect_one_error "tokenizer FIFO" "named pipe" tokenize --tokenizer "$work/fifo"
expect_one_error "prompt file sparse" "larger than the limit" generate --model "$work" --prompt-file "$work/sparse.png"
expect_one_error "parse error" "Unrecognized command or argument" preprocess --imag x
expect_one_error "no command" "Required command was not provided"
expect_one_error "max tiles" "--max-tiles must be in 1..16" preprocess --image x --max-tiles 1000000
expect_one_error "tile size" "--tile-size must be in 1..1120" preprocess --image x --tile-size 100000
expect_one_error "max new tokens" "--max-new-tokens must be in 1..128" classify --model "$work" --user x --max-new-tokens 100000
expect_one_error "shard bytes" "--max-shard-bytes must be in" synth --preset tiny --out "$work/o" --max-shard-bytes 0

# A reader that goes away: tokenize stops at once with a non-zero exit instead of writing into a closed pipe.
seq 1 300000 | sed 's/.*/{"text": "line &"}/' >"$work/lines.jsonl"
start=$(date +%s)
timeout 60 dotnet "$cli" tokenize --tokenizer tests/data/golden/tokenizer/tokenizer.json --jsonl <"$work/lines.jsonl" 2>"$work/err" | head -n 1 >/dev/null
codes=("${PIPESTATUS[@]}")
if [ "${codes[0]}" -eq 0 ] || [ "${codes[0]}" -eq 124 ] || ! grep -q "broken pipe" "$work/err"; then
  echo "FAIL closed stdout: exit ${codes[0]} after $(( $(date +%s) - start )) s: $(head -c 300 "$work/err")"
  failures=$((failures + 1))
else
  echo "ok   closed stdout: exit ${codes[0]} after $(( $(date +%s) - start )) s: $(head -c 160 "$work/err")"
fi

[ "$failures" -eq 0 ] && echo "all hostile inputs refused" || { echo "$failures failed"; exit 1; }
