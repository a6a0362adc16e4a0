#!/usr/bin/env bash
# Packaging: packs the solution (LlamaGuardSharp, LlamaGuardSharp.Extensions.AI, the tool LlamaGuardSharp.Cli) into a
# temp feed with a version of its own, checks each package's metadata (README, licence expression, repository,
# symbols), installs the tool from the feed and runs `llamaguard --help`, then builds both samples against the packed
# packages through a temp nuget.config (the local feed + nuget.org; no project references) and runs them on a tiny
# synthetic model: the console chat guarded in-process, and the web API guarded through the installed tool's
# `llamaguard serve` (both on loopback, port 0). Cleans up everything it started or wrote, including the packed
# version's folders in the NuGet cache.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v unzip >/dev/null || ! command -v curl >/dev/null; then # package contents; HTTP to the samples
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unzip curl >/dev/null
fi

work="$(mktemp -d)"
version="0.1.0-check.$(date +%s).$$"
cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
  for id in llamaguardsharp llamaguardsharp.extensions.ai llamaguardsharp.cli; do
    rm -rf "$cache/$id/$version"
    rmdir --ignore-fail-on-non-empty "$cache/$id" 2>/dev/null || true
  done
}
trap cleanup EXIT

echo "packing $version"
dotnet pack LlamaGuardSharp.slnx -c Release -o "$work/feed" -p:Version="$version" -v:q -nologo

for id in LlamaGuardSharp LlamaGuardSharp.Extensions.AI LlamaGuardSharp.Cli; do
  pkg="$work/feed/$id.$version.nupkg"
  [ -f "$pkg" ] || { echo "FAIL: $pkg missing"; ls "$work/feed"; exit 1; }
  [ -f "$work/feed/$id.$version.snupkg" ] || { echo "FAIL: no symbols package for $id"; exit 1; }
  nuspec="$(unzip -p "$pkg" "$id.nuspec")"
  for needle in '<license type="expression">MIT</license>' '<readme>README.md</readme>' '<repository type="git"'; do
    grep -qF "$needle" <<<"$nuspec" || { echo "FAIL: $id.nuspec lacks $needle"; exit 1; }
  done
  # Listings are read whole before grep -q (with pipefail, grep quitting early would fail unzip with SIGPIPE).
  files="$(unzip -l "$pkg")"
  grep -q ' README.md$' <<<"$files" || { echo "FAIL: $id has no README.md"; exit 1; }
done
tool_nuspec="$(unzip -p "$work/feed/LlamaGuardSharp.Cli.$version.nupkg" LlamaGuardSharp.Cli.nuspec)"
grep -q '<packageType name="DotnetTool"' <<<"$tool_nuspec" || { echo "FAIL: LlamaGuardSharp.Cli is not a .NET tool package"; exit 1; }
tool_files="$(unzip -l "$work/feed/LlamaGuardSharp.Cli.$version.nupkg")"
if grep -q 'native/.*\.pdb' <<<"$tool_files"; then
  echo "FAIL: the tool package carries native debug symbols"; exit 1
fi
ls -la "$work/feed"

echo "installing the tool"
dotnet tool install --tool-path "$work/tool" --add-source "$work/feed" LlamaGuardSharp.Cli --version "$version"
help="$("$work/tool/llamaguard" --help)"
for command in classify serve synth tokenize; do
  grep -q "$command" <<<"$help" || { echo "FAIL: llamaguard --help does not list $command"; echo "$help"; exit 1; }
done
echo "llamaguard --help: ok"

echo "building the samples against the packages"
cp -r samples "$work/samples"
rm -rf "$work"/samples/*/bin "$work"/samples/*/obj
cat > "$work/samples/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$work/feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
XML
for sample in ConsoleChat GuardedWebApi; do
  project="$work/samples/$sample/$sample.csproj"
  if grep -q '<ProjectReference' "$project"; then echo "FAIL: $sample uses a project reference"; exit 1; fi
  dotnet build "$project" -c Release -p:LlamaGuardSharpVersion="$version" -nologo -v:q
  grep -q "\"LlamaGuardSharp.Extensions.AI/$version\"" "$work/samples/$sample/obj/project.assets.json" \
    || { echo "FAIL: $sample did not restore LlamaGuardSharp.Extensions.AI $version from the feed"; exit 1; }
done
# The URL a process logs as "Now listening on: …" (it was started on port 0), within 60 s.
listening_url() {
  local log="$1" pid="$2" url=""
  for _ in $(seq 1 120); do
    url="$(grep -o 'Now listening on: http://127.0.0.1:[0-9]*' "$log" | head -n 1 | sed 's/Now listening on: //')" || true
    [ -n "$url" ] && { echo "$url"; return 0; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  echo "FAIL: no listening address in $log" >&2; tail -n 30 "$log" >&2; return 1
}

# 200 from URL within 60 s.
wait_ready() {
  for _ in $(seq 1 120); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = "200" ] && return 0
    sleep 0.5
  done
  echo "FAIL: $1 did not answer 200"; return 1
}

echo "running the samples on a tiny synthetic model"
"$work/tool/llamaguard" synth --preset tiny --out "$work/model" 2>/dev/null
out="$(printf 'Hello\n\n' | timeout 120 dotnet "$work/samples/ConsoleChat/bin/Release/net10.0/ConsoleChat.dll" "$work/model" 2>"$work/console.err")" \
  || { echo "FAIL: ConsoleChat exited non-zero"; cat "$work/console.err"; exit 1; }
# Random weights: the verdict is whatever the model writes; either way the guard decided (refusal or the stand-in's echo).
if ! grep -q 'blocked by Llama Guard' "$work/console.err" && ! grep -q 'You said: Hello' <<<"$out"; then
  echo "FAIL: ConsoleChat neither answered nor refused"; echo "$out"; cat "$work/console.err"; exit 1
fi
echo "ConsoleChat: ok ($(tail -n 1 "$work/console.err"))"

"$work/tool/llamaguard" serve --model "$work/model" --urls http://127.0.0.1:0 >"$work/serve.log" 2>&1 &
pids+=($!)
guard_url="$(listening_url "$work/serve.log" "${pids[-1]}")"
wait_ready "$guard_url/readyz"
(cd "$work/samples/GuardedWebApi/bin/Release/net10.0" && LlamaGuard__Endpoint="$guard_url/" ASPNETCORE_URLS=http://127.0.0.1:0 \
  exec dotnet GuardedWebApi.dll >"$work/web.log" 2>&1) &
pids+=($!)
web_url="$(listening_url "$work/web.log" "${pids[-1]}")"
wait_ready "$web_url/readyz" # healthy only while the guard service is ready
status="$(curl -s -o "$work/chat.json" -w '%{http_code}' "$web_url/chat" -H 'content-type: application/json' -d '{"message":"Hello"}')"
case "$status" in
  200) grep -q '"answer":"You said: Hello"' "$work/chat.json" ;;
  422) grep -q '"blocked":"' "$work/chat.json" ;;
  *) false ;;
esac || { echo "FAIL: POST /chat answered $status: $(cat "$work/chat.json")"; tail -n 30 "$work/web.log"; exit 1; }
echo "GuardedWebApi through llamaguard serve: ok ($status $(cat "$work/chat.json"))"
echo "packages: ok"
