#!/usr/bin/env python3
"""Checks deploy/kubernetes/*.yaml: parse, and wire together.

The sidecar must run locked down and reach the app on loopback; the
Service must select the pod and name the sidecar's port; the ServiceMonitor
must select the Service, scrape that port, and set job="pprof-exporter"
(the job PprofExporterDown watches).

  check_kubernetes.py SIDECAR_YAML SERVICEMONITOR_YAML PORT
"""

import sys

import yaml


def main(sidecar_path, monitor_path, port):
    port = int(port)
    errors = []

    def expect(cond, msg):
        if not cond:
            errors.append(msg)

    docs = {}
    for path in (sidecar_path, monitor_path):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc is None:
                    continue
                for key in ("apiVersion", "kind", "metadata"):
                    expect(key in doc, f"{path}: document without {key}")
                docs[doc.get("kind")] = doc

    deploy = docs.get("Deployment")
    service = docs.get("Service")
    monitor = docs.get("ServiceMonitor")
    for kind, doc in (("Deployment", deploy), ("Service", service), ("ServiceMonitor", monitor)):
        expect(doc is not None, f"no {kind}")
    if errors:
        return errors

    pod = deploy["spec"]["template"]
    expect(deploy["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items(),
           "Deployment selector does not match its pod labels")
    containers = {c["name"]: c for c in pod["spec"]["containers"]}
    expect("app" in containers, "no app container")
    sidecar = containers.get("pprof-exporter")
    expect(sidecar is not None, "no pprof-exporter container")
    if sidecar is None:
        return errors

    args = sidecar.get("args", [])
    expect(any(a.startswith("--target=app=http://127.0.0.1:6060") for a in args),
           "sidecar does not scrape the app on 127.0.0.1:6060")
    expect(f"--web.listen-address=0.0.0.0:{port}" in args,
           f"sidecar must listen on 0.0.0.0:{port} (the default is loopback)")
    ports = {p.get("name"): p.get("containerPort") for p in sidecar.get("ports", [])}
    expect(ports.get("metrics") == port, f"sidecar port 'metrics' must be {port}")

    sc = sidecar.get("securityContext", {})
    expect(sc.get("runAsNonRoot") is True, "runAsNonRoot must be true")
    expect(sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem must be true")
    expect(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation must be false")
    expect("ALL" in sc.get("capabilities", {}).get("drop", []), "capabilities must drop ALL")
    res = sidecar.get("resources", {})
    for kind in ("requests", "limits"):
        expect("memory" in res.get(kind, {}), f"resources.{kind}.memory missing")

    svc_ports = {p["name"]: p for p in service["spec"].get("ports", [])}
    expect(service["spec"].get("selector", {}).items() <= pod["metadata"]["labels"].items(),
           "Service selector does not match the pod")
    metrics = svc_ports.get("metrics")
    expect(metrics is not None and metrics.get("targetPort") in ("metrics", port),
           "Service port 'metrics' must target the sidecar's metrics port")

    spec = monitor["spec"]
    expect(spec["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items(),
           "ServiceMonitor selector does not match the Service")
    endpoints = spec.get("endpoints", [])
    expect(any(e.get("port") == "metrics" for e in endpoints), "ServiceMonitor does not scrape port 'metrics'")
    expect(any(r.get("targetLabel") == "job" and r.get("replacement") == "pprof-exporter"
               for e in endpoints for r in e.get("relabelings", [])),
           'ServiceMonitor must set job="pprof-exporter"')
    return errors


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    problems = main(*sys.argv[1:])
    for p in problems:
        print(p, file=sys.stderr)
    sys.exit(1 if problems else 0)
