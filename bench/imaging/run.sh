#!/bin/sh
# Image pipeline benchmark: LlamaGuardSharp vs Pillow (python3-pil) on the same deterministic inputs, in one run.
# Usage: bench/imaging/run.sh [reps]   (inputs go to /tmp/imaging-bench; needs /usr/bin/python3 with PIL)
set -eu
REPS="${1:-15}"
HERE="$(cd "$(dirname "$0")" && pwd)"
DIR=/tmp/imaging-bench
/usr/bin/python3 -c "import PIL" 2>/dev/null || { echo "python3-pil missing: apt-get install -y python3-pil" >&2; exit 1; }
/usr/bin/python3 "$HERE/pillow_timing.py" make-inputs "$DIR" >&2
IMAGES="$DIR/photo_4000x3000.jpg $DIR/wide_1000x300.png"
dotnet run -c Release "$HERE/image_timing.cs" -- --reps "$REPS" $IMAGES > "$DIR/ours.jsonl"
/usr/bin/python3 "$HERE/pillow_timing.py" time --reps "$REPS" $IMAGES > "$DIR/pillow.jsonl"
/usr/bin/python3 - "$DIR/ours.jsonl" "$DIR/pillow.jsonl" <<'PY'
import json, sys
ours = [json.loads(l) for l in open(sys.argv[1])]
pil = {d["image"]: d for d in (json.loads(l) for l in open(sys.argv[2]))}
print("| image | size -> resized | ours decode ms | Pillow decode ms | ours resize ms | ours normalize ms | ours resize+normalize ms | Pillow resize ms | resize ratio ours/Pillow |")
print("|---|---|---|---|---|---|---|---|---|")
for o in ours:
    p = pil[o["image"]]
    assert o["resized"] == p["resized"], (o, p)
    ratio = o["resize_ms"] / p["resize_ms"] if p["resize_ms"] > 0 else float("nan")
    print(f"| {o['image']} | {o['size'][0]}x{o['size'][1]} -> {o['resized'][0]}x{o['resized'][1]} | {o['decode_ms']:.2f} | {p['decode_ms']:.2f} | "
          f"{o['resize_ms']:.2f} | {o['normalize_ms']:.2f} | {o['resize_normalize_ms']:.2f} | {p['resize_ms']:.2f} | {ratio:.2f} |")
PY
