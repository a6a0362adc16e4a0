#!/bin/sh
# Image pipeline benchmark: LlamaGuardSharp vs Pillow (python3-pil) on the same deterministic inputs, in one run.
# Usage: bench/imaging/run.sh [reps=15] [rounds=3]
# Inputs are generated into /tmp/imaging-bench (needs /usr/bin/python3 with PIL). Each round times ours then Pillow (medians of
# `reps` runs after 2 warm-ups); rounds alternate so that load changes on a shared machine hit both sides. The table reports the
# median over rounds, and the resize ratio per round.
set -eu
REPS="${1:-15}"
ROUNDS="${2:-3}"
HERE="$(cd "$(dirname "$0")" && pwd)"
DIR=/tmp/imaging-bench
/usr/bin/python3 -c "import PIL" 2>/dev/null || { echo "python3-pil missing: apt-get install -y python3-pil" >&2; exit 1; }
/usr/bin/python3 "$HERE/pillow_timing.py" make-inputs "$DIR" >&2
IMAGES="$DIR/photo_4000x3000.jpg $DIR/wide_1000x300.png"
dotnet build -c Release "$HERE/image_timing.cs" >/dev/null 2>&1 || true
: > "$DIR/ours.jsonl"
: > "$DIR/pillow.jsonl"
i=0
while [ "$i" -lt "$ROUNDS" ]; do
  dotnet run -c Release "$HERE/image_timing.cs" -- --reps "$REPS" $IMAGES >> "$DIR/ours.jsonl"
  /usr/bin/python3 "$HERE/pillow_timing.py" time --reps "$REPS" $IMAGES >> "$DIR/pillow.jsonl"
  i=$((i + 1))
done
/usr/bin/python3 - "$DIR/ours.jsonl" "$DIR/pillow.jsonl" <<'PY'
import json, statistics, sys
ours = [json.loads(l) for l in open(sys.argv[1])]
pil = [json.loads(l) for l in open(sys.argv[2])]
names = list(dict.fromkeys(o["image"] for o in ours))
med = lambda rows, key: statistics.median(r[key] for r in rows)
print(f"rounds: {len(ours) // len(names)}, reps per round: {ours[0]['reps']}, Pillow {pil[0]['pillow']}")
print("| image | size -> resized | ours decode ms | Pillow decode ms | ours resize ms | ours normalize ms | ours resize+normalize ms | Pillow resize ms | resize ratio ours/Pillow (per round) |")
print("|---|---|---|---|---|---|---|---|---|")
for name in names:
    o = [r for r in ours if r["image"] == name]
    p = [r for r in pil if r["image"] == name]
    assert all(a["resized"] == b["resized"] for a, b in zip(o, p)), (o, p)
    ratios = [a["resize_ms"] / b["resize_ms"] for a, b in zip(o, p)]
    print(f"| {name} | {o[0]['size'][0]}x{o[0]['size'][1]} -> {o[0]['resized'][0]}x{o[0]['resized'][1]} | {med(o, 'decode_ms'):.2f} | "
          f"{med(p, 'decode_ms'):.2f} | {med(o, 'resize_ms'):.2f} | {med(o, 'normalize_ms'):.2f} | {med(o, 'resize_normalize_ms'):.2f} | "
          f"{med(p, 'resize_ms'):.2f} | {statistics.median(ratios):.2f} ({', '.join(f'{r:.2f}' for r in ratios)}) |")
PY
