#!/usr/bin/env bash
# The deployment manifests: every kustomization under deploy/k8s renders (`kubectl kustomize`), and the rendered
# objects obey the rules docs/deployment.md states (tests/deploy/check_k8s_manifests.py: probes, grace period vs
# drain timeout, memory vs mapped weights, selectors, retries). The nginx config passes `nginx -t` as Debian's
# nginx.conf would include it. Installs what is missing from apt: nginx-light and python3-yaml (required), and kubectl
# (Debian's kubernetes-client) only when no kubectl is present, in an apt call of its own: not every release's sources
# carry it, and without it the overlays are reported as not rendered instead of failing the required installs.
set -euo pipefail
cd "$(dirname "$0")/../.."

need_apt=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx-light)
python3 -c 'import yaml' 2>/dev/null || need_apt+=(python3-yaml)
apt_updated=0
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing from apt: ${need_apt[*]}"
  apt-get update -qq && apt_updated=1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! command -v kubectl >/dev/null 2>&1; then
  echo "installing from apt: kubernetes-client"
  { [ "$apt_updated" -eq 1 ] || apt-get update -qq; } &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client >/dev/null ||
    echo "WARNING: kubernetes-client could not be installed from apt; continuing without kubectl"
fi
export PATH="$PATH:/usr/sbin"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0

# kubectl's built-in kustomize renders directories as resources and `patches:` from v3 on; Debian bookworm's
# kubernetes-client (1.20, kustomize v2) does not. Without a recent one the base's files are checked as they are
# (the base uses no kustomize feature besides `images`) and the overlays are reported as not rendered.
kustomize_version="$(kubectl version --client -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("kustomizeVersion",""))' || true)"
major="${kustomize_version#v}"; major="${major%%.*}"
if [[ "$major" =~ ^[0-9]+$ ]] && [ "$major" -ge 4 ]; then
  echo "kubectl kustomize ($kustomize_version)"
  for variant in base download-init gateway monitoring; do
    dir=deploy/k8s; [ "$variant" = base ] || dir="deploy/k8s/overlays/$variant"
    if ! kubectl kustomize "$dir" > "$work/$variant.yaml" 2> "$work/$variant.err"; then
      echo "FAIL: kubectl kustomize $dir"; cat "$work/$variant.err"; failed=1; continue
    fi
    if grep -qi warning "$work/$variant.err"; then echo "FAIL: kubectl kustomize $dir warns:"; cat "$work/$variant.err"; failed=1; fi
    python3 tests/deploy/check_k8s_manifests.py "$variant" "$work/$variant.yaml" || failed=1
  done
else
  echo "WARNING: no kubectl with kustomize >= v4 (found '${kustomize_version:-none}'): overlays NOT rendered;"
  echo "         checking the base's files directly"
  for f in deploy/k8s/base/*.yaml; do [ "$(basename "$f")" = kustomization.yaml ] || { cat "$f"; echo "---"; }; done > "$work/base.yaml"
  python3 tests/deploy/check_k8s_manifests.py base "$work/base.yaml" || failed=1
  unrendered="NOT rendered: the base's kustomization and the overlays download-init, gateway, monitoring"
fi

# nginx -t: the config as shipped, included in an http block like Debian's nginx.conf does, with this run's own
# prefix, pid, error log and temp paths (so it runs as any user); the access log path is the one shipped.
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<CONF
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 64; }
http {
    client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy; fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
    include $PWD/deploy/nginx/llamaguard.conf;
}
CONF
# The shipped access log lives in /var/log/nginx (created by the package); test with a writable copy of that path
# when this user cannot write there.
if [ ! -w /var/log/nginx ]; then
  sed "s#/var/log/nginx/#$work/nginx/#" deploy/nginx/llamaguard.conf > "$work/nginx/llamaguard.conf"
  sed -i "s#include $PWD/deploy/nginx/llamaguard.conf#include $work/nginx/llamaguard.conf#" "$work/nginx/nginx.conf"
fi
if nginx -t -q -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf"; then
  echo "nginx -t: deploy/nginx/llamaguard.conf is valid ($(nginx -v 2>&1))"
else
  echo "FAIL: nginx -t deploy/nginx/llamaguard.conf"; failed=1
fi

if [ "$failed" -eq 0 ]; then
  if [ -n "${unrendered:-}" ]; then
    echo "k8s + nginx config checks passed for the base's files as written and nginx -t; $unrendered (needs kubectl with kustomize >= v4)"
  else
    echo "k8s + nginx config checks passed: the base and every overlay rendered and checked; nginx -t"
  fi
fi
exit "$failed"
