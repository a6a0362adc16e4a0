#!/usr/bin/env python3
"""Checks the rendered Kubernetes manifests of deploy/k8s against the rules docs/deployment.md states.

Usage: check_k8s_manifests.py VARIANT FILE.yaml   (VARIANT: base | download-init | gateway | monitoring)
FILE is the output of `kubectl kustomize` for that variant (several YAML documents). Prints one line per failed rule
and exits 1 if any failed. Rendering only proves the YAML is well-formed; these rules catch a manifest that renders
but would not work: probes on the wrong path, a grace period shorter than the drain, selectors that match nothing.
"""
import re
import sys

import yaml

GIB = 1024 ** 3
# 21.3 GB of mapped bf16 weights plus ≈ 2.1 GB of anonymous memory (docs/performance.md, README "The model").
MIN_MEMORY_BYTES = 22 * GIB

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def quantity_bytes(value):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?", str(value))
    if not match:
        raise ValueError(f"unreadable memory quantity {value!r}")
    units = {None: 1, "Ki": 1024, "Mi": 1024 ** 2, "Gi": GIB, "Ti": 1024 ** 4, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
    return float(match.group(1)) * units[match.group(2)]


def option(args, name):
    """Value of `--name VALUE` in a container's args, or None."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def one(docs, kind):
    found = [d for d in docs if d.get("kind") == kind]
    check(len(found) == 1, f"expected exactly one {kind}, found {len(found)}")
    return found[0] if found else None


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_deployment(deployment, variant):
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    check(matches(spec["selector"]["matchLabels"], labels), "Deployment selector does not match its pod labels")
    check(spec.get("strategy", {}).get("rollingUpdate", {}).get("maxUnavailable") == 0,
          "rolling update must keep every replica until its successor is ready (maxUnavailable: 0)")
    server = next((c for c in pod["containers"] if c.get("args", [None])[0] == "serve"), None)
    if not check(server is not None, "no container runs `serve`"):
        return labels
    args = server["args"]
    urls = option(args, "--urls") or ""
    port = next((p for p in server.get("ports", []) if p.get("name") == "http"), None)
    check(port is not None, "the serving container has no port named http")
    if port:
        check(urls.endswith(f":{port['containerPort']}"), f"--urls {urls} does not listen on port {port['containerPort']}")
        check(urls.startswith("http://0.0.0.0:") or urls.startswith("http://[::]:") or urls.startswith("http://+:"),
              f"--urls {urls} must listen on every interface inside the pod")
    drain = float(option(args, "--drain-timeout") or 0)
    request_timeout = float(option(args, "--request-timeout") or 0)
    check(drain > 0, "--drain-timeout must be set explicitly")
    check(request_timeout > 0, "--request-timeout must be set explicitly")
    pre_stop = server.get("lifecycle", {}).get("preStop", {})
    sleep = 0.0
    if "exec" in pre_stop and pre_stop["exec"]["command"][:1] == ["sleep"]:
        sleep = float(pre_stop["exec"]["command"][1])
    elif "sleep" in pre_stop:
        sleep = float(pre_stop["sleep"]["seconds"])
    grace = float(pod.get("terminationGracePeriodSeconds", 30))
    check(grace >= sleep + drain, f"terminationGracePeriodSeconds {grace} < preStop {sleep} + drain timeout {drain}")

    def probe(name, path):
        p = server.get(name)
        if check(p is not None, f"{name} missing"):
            get = p.get("httpGet", {})
            check(get.get("path") == path, f"{name} must GET {path}, not {get.get('path')}")
            check(get.get("port") in ("http", port and port["containerPort"]), f"{name} must use the http port")
        return p or {}

    startup = probe("startupProbe", "/readyz")
    probe("readinessProbe", "/readyz")
    liveness = probe("livenessProbe", "/healthz")
    window = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
    check(window >= 300, f"startup probe allows only {window} s for loading a 21 GB checkpoint (want ≥ 300 s)")
    check(liveness.get("periodSeconds", 10) * liveness.get("failureThreshold", 3) >= 60,
          "liveness must tolerate a minute of slow answers (every core busy in a classification)")

    resources = server.get("resources", {})
    requests, limits = resources.get("requests", {}), resources.get("limits", {})
    # The pod is Guaranteed only if every container, init containers included, has requests equal to limits.
    for container in pod["containers"] + pod.get("initContainers", []):
        own = container.get("resources", {})
        own_requests, own_limits = own.get("requests", {}), own.get("limits", {})
        for r in ("cpu", "memory"):
            check(r in own_requests and own_requests.get(r) == own_limits.get(r),
                  f"{container['name']}: {r} requests must equal limits (Guaranteed QoS)")
    if "memory" in limits:
        check(quantity_bytes(limits["memory"]) >= MIN_MEMORY_BYTES,
              f"memory limit {limits['memory']} is below mapped weights + activations (22Gi)")

    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    model_mount = next((m for m in server.get("volumeMounts", []) if m["mountPath"] == "/models"), None)
    if check(model_mount is not None, "the serving container does not mount /models"):
        check(model_mount.get("readOnly") is True, "the model volume must be mounted read-only")
        check(option(args, "--model", ).startswith("/models/"), "--model must point into /models")
        volume = volumes.get(model_mount["name"], {})
        inits = pod.get("initContainers", [])
        if variant == "download-init":
            check("emptyDir" in volume and "persistentVolumeClaim" not in volume,
                  "download-init: the model volume must be the pod's own emptyDir")
            check(volume.get("emptyDir", {}).get("medium") != "Memory", "download-init: emptyDir must not be tmpfs")
            download = next((c for c in inits if c.get("args", [None])[0] == "download"), None)
            if check(download is not None, "download-init: no init container runs `download`"):
                check(option(download["args"], "--local-dir") == option(args, "--model"),
                      "download-init: --local-dir differs from the served --model")
        else:
            check(volume.get("persistentVolumeClaim", {}).get("readOnly") is True,
                  "the model claim must be mounted read-only")
            check(not inits, "unexpected init containers")
    return labels


def main():
    variant, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    deployment = one(docs, "Deployment")
    service = one(docs, "Service")
    pdb = one(docs, "PodDisruptionBudget")
    hpa = one(docs, "HorizontalPodAutoscaler")
    labels = check_deployment(deployment, variant) if deployment else {}
    if service:
        check(matches(service["spec"]["selector"], labels), "Service selector matches no pod")
        names = {p["name"]: p for p in service["spec"]["ports"]}
        check("http" in names and "metrics" in names, "Service needs ports named http and metrics")
        check(all(p.get("targetPort") == "http" for p in names.values()), "Service ports must target the http port")
    if pdb:
        check(matches(pdb["spec"]["selector"]["matchLabels"], labels), "PodDisruptionBudget selects no pod")
        check(pdb["spec"].get("maxUnavailable") == 1, "PodDisruptionBudget must allow one replica down at a time")
    if hpa and deployment:
        ref = hpa["spec"]["scaleTargetRef"]
        check(ref["kind"] == "Deployment" and ref["name"] == deployment["metadata"]["name"], "HPA targets another object")
        check(hpa["spec"].get("minReplicas", 1) >= 2, "HPA minReplicas must be ≥ 2 (one replica may die)")
        kinds = [m["type"] for m in hpa["spec"]["metrics"]]
        check("Resource" in kinds, "HPA must scale on CPU")
        if variant == "monitoring":
            check("Pods" in kinds, "monitoring: HPA must also scale on the queue-depth metric")
    pvcs = [d for d in docs if d.get("kind") == "PersistentVolumeClaim"]
    if variant == "download-init":
        check(not pvcs, "download-init: no shared claim expected")
    else:
        check(len(pvcs) == 1 and pvcs[0]["spec"]["accessModes"] == ["ReadOnlyMany"], "one ReadOnlyMany claim expected")
    if variant == "gateway":
        route = one(docs, "HTTPRoute")
        if route:
            for rule in route["spec"]["rules"]:
                retry = rule.get("retry", {})
                check(503 in retry.get("codes", []) and 502 in retry.get("codes", []), "HTTPRoute must retry 502/503")
                check(429 not in retry.get("codes", []), "HTTPRoute must not retry 429")
                check(1 <= retry.get("attempts", 0) <= 3, "HTTPRoute retries must be bounded (1–3)")
                check(all(b["name"] == service["metadata"]["name"] and b["port"] in [p["port"] for p in service["spec"]["ports"]]
                          for b in rule["backendRefs"]), "HTTPRoute backend is not the Service")
    if variant == "monitoring":
        monitor = one(docs, "ServiceMonitor")
        if monitor and service:
            check(matches(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"]),
                  "ServiceMonitor selects no Service")
            check(all(e["port"] in [p["name"] for p in service["spec"]["ports"]] and e["path"] == "/metrics"
                      for e in monitor["spec"]["endpoints"]), "ServiceMonitor endpoint is not the metrics port")
    for message in failures:
        print(f"{variant}: {message}")
    if not failures:
        print(f"{variant}: {len(docs)} objects, every rule holds")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
