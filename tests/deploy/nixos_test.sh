#!/usr/bin/env bash
# deploy/nixos: both files parse; module.nix evaluates (with a stub of
# nixpkgs' lib, since nixpkgs can't be fetched here) to rules identical to
# deploy/prometheus/alerts.yml, to the expected exporter config, to the
# systemd unit's hardening, and to failing assertions for bad targets.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MODULE="$DEPLOY/nixos/module.nix"

if ! need nix-instantiate; then
  skip_tool nix-instantiate "nix-instantiate not installed (Debian package: nix-bin); NixOS checks not run"
  finish; exit
fi
# No daemon or store is needed to parse and evaluate plain expressions.
NIX=(nix-instantiate --store dummy://)

run "nix-instantiate --parse module.nix" "${NIX[@]}" --parse "$MODULE"
run "nix-instantiate --parse example.nix" "${NIX[@]}" --parse "$DEPLOY/nixos/example.nix"

evaluate() { # evaluate OUT OVERRIDES
  "${NIX[@]}" --eval --strict --json "$HERE/nix/eval-module.nix" \
    --argstr module "$MODULE" --arg overrides "$2" >"$1"
}

base='enable = true; package = "/nix/store/00000000000000000000000000000000-pprof-exporter";'
if ! evaluate "$TMP/default.json" "{ $base }" 2>"$TMP/err"; then
  fail "evaluate module.nix with defaults"; sed 's/^/    /' "$TMP/err" >&2
  finish; exit
fi
pass "evaluate module.nix with defaults"

tsnsrv='{
  '"$base"'
  listenAddress = "100.64.0.5:10066";
  goroutinesPerServiceThreshold = 150;
  gcCpuRatioThreshold = 0.2;
  hotFunctionRatioThreshold = 0.25;
  profilerBusyRefusals = 5;
  prometheusJobName = "pprof";
  extraFlags = [ "--web.telemetry-path=/m" ];
  targets = [{
    name = "tsnsrv"; url = "http://127.0.0.1:9099/debug/pprof/";
    labels = { host = "storage"; };
    services = null; serviceLabel = "service"; serviceCountRegex = null;
    profiles = {
      cpu = { interval = "60s"; seconds = null; };
      goroutine = { interval = "15s"; seconds = null; };
      heap = { interval = null; seconds = null; };
    };
  } {
    name = "app"; url = "http://127.0.0.1:6060/debug/pprof/"; labels = { };
    services = 3; serviceLabel = null; serviceCountRegex = null;
    profiles = { cpu = { interval = null; seconds = 5; }; };
  }];
}'
run "evaluate module.nix for tsnsrv" evaluate "$TMP/tsnsrv.json" "$tsnsrv"

check() { # check NAME PYTHON-CODE (d = default eval, t = tsnsrv eval)
  run "$1" python3 - "$TMP/default.json" "$TMP/tsnsrv.json" "$DEPLOY" "$2" <<'PY'
import json, sys, yaml
d = json.load(open(sys.argv[1]))
t = json.load(open(sys.argv[2]))
deploy = sys.argv[3]
exec(sys.argv[4])
PY
}

check "default rules equal deploy/prometheus/alerts.yml" '
want = yaml.safe_load(open(deploy + "/prometheus/alerts.yml"))
assert d["rules"] == want, "rules differ; compare prometheusRules with alerts.yml"
assert json.loads(d["rulesFileText"]) == want
'

check "thresholds reach expressions and texts" '
rules = {r["alert"]: r for r in t["rules"]["groups"][0]["rules"]}
g = rules["PprofGoroutinesPerServiceHigh"]
assert g["expr"] == "pprof_goroutines_per_service > 150", g["expr"]
assert "(threshold 150)" in g["annotations"]["description"]
assert rules["PprofGCCPUShareHigh"]["expr"].startswith("pprof_cpu_gc_ratio > 0.2\n")
assert "{{ 0.2 | humanizePercentage }}" in rules["PprofGCCPUShareHigh"]["annotations"]["description"]
assert rules["PprofHotFunction"]["expr"].startswith("pprof_cpu_flat_ratio > 0.25\n")
assert rules["PprofProfilerBusy"]["expr"].endswith("[15m]) > 5")
assert rules["PprofExporterDown"]["expr"] == "up{job=\"pprof\"} == 0"
'

check "exporter config from targets" '
want = {
  "global": {"scrape_interval": "60s", "scrape_timeout": "10s", "top": 10},
  "targets": [
    {"name": "tsnsrv", "url": "http://127.0.0.1:9099/debug/pprof/",
     "labels": {"host": "storage"}, "service_label": "service",
     "profiles": {"cpu": {"interval": "60s", "seconds": 10},
                  "goroutine": {"interval": "15s"}, "heap": {}}},
    {"name": "app", "url": "http://127.0.0.1:6060/debug/pprof/", "services": 3,
     "profiles": {"cpu": {"seconds": 5}}},
  ],
}
assert t["exporterConfig"] == want, json.dumps(t["exporterConfig"], indent=1)
assert d["exporterConfig"]["targets"] == []
assert all(a["assertion"] for a in t["assertions"]), t["assertions"]
'

check "systemd service: command line, reload, hardening equal to the unit file" '
sc = t["service"]["serviceConfig"]
assert sc["ExecStart"] == ("'"'"'/nix/store/00000000000000000000000000000000-pprof-exporter/bin/pprof_exporter'"'"' "
    "'"'"'--config.file=/etc/pprof-exporter/config.yml'"'"' '"'"'--web.listen-address=100.64.0.5:10066'"'"' "
    "'"'"'--log.level=info'"'"' '"'"'--web.telemetry-path=/m'"'"'"), sc["ExecStart"]
assert "127.0.0.1:10066" in d["service"]["serviceConfig"]["ExecStart"]
assert sc["ExecReload"].endswith("/bin/kill -HUP $MAINPID")
assert t["service"]["reloadTriggers"], "config changes must reload"

unit = {}
section = None
for line in open(deploy + "/systemd/pprof-exporter.service"):
    line = line.strip()
    if line.startswith("["):
        section = line
    elif section == "[Service]" and line and not line.startswith("#"):
        k, _, v = line.partition("=")
        unit.setdefault(k, []).append(v)
skip = {"ExecStart", "ExecReload", "ConfigurationDirectory", "ConfigurationDirectoryMode"}
def norm(v):
    if v is True: return ["yes"]
    if v is False: return ["no"]
    if isinstance(v, list):
        return [" ".join(v)] if all(x.startswith("AF_") for x in v) else [str(x) for x in v]
    return [str(v)]
nix = {k: norm(v) for k, v in sc.items() if k not in skip}
unit = {k: v for k, v in unit.items() if k not in skip}
diff = {k: (unit.get(k), nix.get(k)) for k in set(unit) | set(nix) if unit.get(k) != nix.get(k)}
assert not diff, "unit file vs module (unit, nix): %r" % diff
'

# The module's assertions must reject bad targets.
bad_target() { # bad_target NAME TARGET-ATTRS...
  local name=$1
  shift
  local targets=""
  for attrs in "$@"; do
    targets+="({ url = \"http://127.0.0.1:1/debug/pprof/\"; labels = { };
      services = null; serviceLabel = null; serviceCountRegex = null;
      profiles = { heap = { interval = null; seconds = null; }; }; } // { $attrs }) "
  done
  if ! evaluate "$TMP/bad.json" "{ $base targets = [ $targets ]; }" 2>"$TMP/err"; then
    fail "evaluate with $name"; sed 's/^/    /' "$TMP/err" >&2; return
  fi
  run "assertions reject $name" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["assertions"]
sys.exit(0 if not all(x["assertion"] for x in a) else 1)' "$TMP/bad.json"
}
bad_target "two ways of counting services" 'name = "a"; services = 2; serviceLabel = "service";'
bad_target "an unknown profile name" 'name = "a"; profiles = { threads = { interval = null; seconds = null; }; };'
bad_target "duplicate target names" 'name = "a";' 'name = "a";'

if need promtool; then
  python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["rules"], open(sys.argv[2], "w"))' \
    "$TMP/default.json" "$TMP/alerts.yml"
  cp "$DEPLOY/prometheus/alerts_test.yml" "$TMP/alerts_test.yml"
  run "promtool test rules on the module's default rules" promtool test rules "$TMP/alerts_test.yml"
  python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["rules"], open(sys.argv[2], "w"))' \
    "$TMP/tsnsrv.json" "$TMP/tsnsrv_rules.yml"
  run "promtool check rules on the module's tuned rules" promtool check rules "$TMP/tsnsrv_rules.yml"
fi

finish
