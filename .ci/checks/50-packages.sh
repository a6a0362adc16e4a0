#!/usr/bin/env bash
# Packaging: packs the solution (LlamaGuardSharp, LlamaGuardSharp.Extensions.AI, the tool LlamaGuardSharp.Cli) into a
# temp feed with a version of its own, checks each package's metadata (README, licence expression, repository,
# symbols), installs the tool from the feed and runs `llamaguard --help`, then builds both samples against the packed
# packages through a temp nuget.config (the local feed + nuget.org; no project references). Cleans up everything,
# including the packed version's folders in the NuGet cache.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v unzip >/dev/null; then # reads the packages' contents
  apt-get update -qq && apt-get install -y -qq unzip >/dev/null
fi

work="$(mktemp -d)"
version="0.1.0-check.$(date +%s).$$"
cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
cleanup() {
  rm -rf "$work"
  for id in llamaguardsharp llamaguardsharp.extensions.ai llamaguardsharp.cli; do
    rm -rf "$cache/$id/$version"
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
echo "packages: ok"
