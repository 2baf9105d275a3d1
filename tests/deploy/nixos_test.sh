#!/usr/bin/env bash
# deploy/nixos: module.nix and example.nix evaluated by nixpkgs' real module
# system (../shared/nixpkgs-lib, see tests/deploy/nix/eval-module.nix), so
# option types are checked and definitions merged as on NixOS. Checks: the
# default rules equal deploy/prometheus/alerts.yml and the Grafana rules
# file; thresholds reach both rule sets and the provisioned dashboard;
# every feature switched on renders the expected exporter config, unit,
# credentials and Grafana provisioning, and the real exporter starts on
# what was rendered (TLS, basic auth, archive, re-serving, file_sd); wrong
# types and unknown options are refused; assertions catch bad targets;
# example.nix evaluates together with the module.
# Without ../shared/nixpkgs-lib (a fresh clone) the evaluations are SKIPPED.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MODULE="$DEPLOY/nixos/module.nix"
EXAMPLE="$DEPLOY/nixos/example.nix"

if ! need nix-instantiate; then
  skip_tool nix-instantiate "nix-instantiate not installed (Debian package: nix-bin); NixOS checks not run"
  finish; exit
fi
# No daemon or store is needed to parse and evaluate plain expressions.
NIX=(nix-instantiate --store dummy://)

run "nix-instantiate --parse module.nix" "${NIX[@]}" --parse "$MODULE"
run "nix-instantiate --parse alerts.nix" "${NIX[@]}" --parse "$DEPLOY/nixos/alerts.nix"
run "nix-instantiate --parse example.nix" "${NIX[@]}" --parse "$EXAMPLE"

# nixpkgs' lib lives beside the checkout (Bazel's runfiles link back to it).
LIB=""
for c in "${PPROF_NIXPKGS_LIB:-}" "$ROOT/../shared/nixpkgs-lib/lib" \
         "$(dirname "$(readlink -f "$MODULE")")/../../../shared/nixpkgs-lib/lib"; do
  [[ -n "$c" && -f "$c/default.nix" ]] && { LIB=$(cd "$c" && pwd); break; }
done
if [[ -z "$LIB" ]]; then
  skip "../shared/nixpkgs-lib not found (set PPROF_NIXPKGS_LIB); module not evaluated"
  finish; exit
fi

evaluate() { # evaluate OUT CONFIG-MODULE [EXAMPLE]
  local extra=()
  [[ -z "${3:-}" ]] || extra=(--argstr example "$3")
  "${NIX[@]}" --eval --strict --json "$HERE/nix/eval-module.nix" --argstr nixpkgsLib "$LIB" \
    --argstr module "$(readlink -f "$MODULE")" --arg config "$2" "${extra[@]}" >"$1"
}
ev() { # ev NAME OUT CONFIG [EXAMPLE]: evaluate, PASS/FAIL
  if evaluate "$2" "$3" "${4:-}" 2>"$TMP/err"; then pass "$1"
  else fail "$1"; sed 's/^/    /' "$TMP/err" | tail -15 >&2; fi
}

pkg='package = pkgs.pprofExporterStub;'
ev "evaluate module.nix with default options" "$TMP/default.json" \
  "{ pkgs, ... }: { services.pprof-exporter = { enable = true; $pkg targets = [ { name = \"app\"; url = \"http://127.0.0.1:6060/debug/pprof/\"; } ]; }; }"

ev "evaluate module.nix tuned for tsnsrv" "$TMP/tsnsrv.json" '{ pkgs, ... }: {
  services.pprof-exporter = {
    enable = true; '"$pkg"'
    listenAddress = "100.64.0.5:10066";
    goroutinesPerServiceThreshold = 150;
    gcCpuRatioThreshold = 0.2;
    hotFunctionRatioThreshold = 0.25;
    profilerBusyRefusals = 5;
    stuckGoroutinesThreshold = 200;
    goroutinesGrowthPerServiceThreshold = 15;
    prometheusJobName = "pprof";
    extraFlags = [ "--web.telemetry-path=/m" ];
    grafana = { provision = true; datasourceUid = "P1809F7CD0C75ACF3"; };
    targets = [{
      name = "tsnsrv"; url = "http://127.0.0.1:9099/debug/pprof/";
      labels = { host = "storage"; };
      serviceCountRegex = "^github\\.com/boinkor-net/tsnsrv\\.\\(\\*ValidTailnetSrv\\)\\.Run$";
      profiles = { cpu.interval = "60s"; goroutine.interval = "15s"; heap = { }; };
    } {
      name = "app"; url = "http://127.0.0.1:6060/debug/pprof/";
      services = 3; profiles.cpu.seconds = 5;
    }];
  };
}'

# Every feature on, the forensics kinds (issue 13) included. Paths under
# @TMP@ exist when the exporter is started on the rendered files below.
full='{ pkgs, ... }: {
  services.pprof-exporter = {
    enable = true; '"$pkg"'
    archive = { enable = true; maxAge = "2d"; maxBytes = "1GiB"; };
    enablePprofReserve = true;
    web.tls = { enable = true; certFile = "/run/secrets/pprof.crt"; keyFile = "/run/secrets/pprof.key";
                clientCaFile = "/run/secrets/ca.crt"; clientAuthType = "VerifyClientCertIfGiven"; };
    web.basicAuthUsersFile = "/run/secrets/pprof-users";
    supplementaryGroups = [ "pprof-targets" ];
    stuckGoroutinesThreshold = 50;
    targets = [ { name = "app"; url = "http://127.0.0.1:1/debug/pprof/";
                  profiles = { heap.timeout = "2s"; goroutine_dump = { interval = "5m"; stuckAfter = "10m"; };
                               goroutineleak.interval = "6h"; }; } ];
    fileSd = [ { files = [ "/etc/pprof-exporter/targets/*.json" ]; directories = [ "/var/lib/pprof-targets" ];
                 refreshInterval = "1m"; serviceLabel = "service"; labels.env = "prod";
                 profiles = { goroutine.interval = "15s"; heap = { }; }; } ];
    grafana.provision = true;
  };
}'
ev "evaluate module.nix with every feature on" "$TMP/full.json" "$full"

ev "evaluate module.nix with the forensics kinds (issue 13)" "$TMP/forensics.json" '{ pkgs, ... }: {
  services.pprof-exporter = { enable = true; '"$pkg"' stuckGoroutinesThreshold = 5;
    targets = [ { name = "app"; url = "http://127.0.0.1:1/";
      profiles = { goroutine_dump = { interval = "1m"; timeout = "20s"; stuckAfter = "10m"; }; goroutineleak.interval = "5m"; }; } ]; };
}'

ev "evaluate example.nix with module.nix" "$TMP/example.json" '{ }' "$(readlink -f "$EXAMPLE")"

check() { # check NAME PYTHON-CODE (J: name -> evaluation, deploy, ROOT)
  run "$1" python3 - "$TMP" "$DEPLOY" "$ROOT" "$2" <<'PY'
import json, os, sys, yaml
tmp, deploy, root = sys.argv[1:4]
J = {n[:-5]: json.load(open(os.path.join(tmp, n))) for n in os.listdir(tmp)
     if n.endswith(".json") and os.path.getsize(os.path.join(tmp, n))}
exec(sys.argv[4])
PY
}

check "default rules equal deploy/prometheus/alerts.yml" '
d = J["default"]
want = yaml.safe_load(open(deploy + "/prometheus/alerts.yml"))
assert d["rules"] == want, "rules differ; compare prometheusRules with alerts.yml"
assert json.loads(d["rulesFileText"]) == want
assert d["failedAssertions"] == [], d["failedAssertions"]
'

check "default Grafana rules equal deploy/grafana/provisioning/alerting/pprof-exporter.yml" '
got = J["default"]["grafanaRules"]
want = yaml.safe_load(open(deploy + "/grafana/provisioning/alerting/pprof-exporter.yml"))
for g, w in zip(got["groups"][0]["rules"], want["groups"][0]["rules"]):
    assert g == w, json.dumps([g, w], indent=1)
assert got == want
'

check "thresholds reach both rule sets and the provisioned dashboard" '
t = J["tsnsrv"]
rules = {r["alert"]: r for r in t["rules"]["groups"][0]["rules"]}
g = rules["PprofGoroutinesPerServiceHigh"]
assert g["expr"] == "pprof_goroutines_per_service > 150", g["expr"]
assert "(threshold 150)" in g["annotations"]["description"]
assert rules["PprofGCCPUShareHigh"]["expr"].startswith(
    "pprof_cpu_gc_ratio - (pprof_cpu_gc_idle_ratio or pprof_cpu_gc_ratio * 0) > 0.2\n")
assert rules["PprofGoroutinesStuck"]["expr"] == "pprof_goroutines_stuck > 200"
assert "(threshold 200)" in rules["PprofGoroutinesStuck"]["annotations"]["description"]
assert rules["PprofGoroutinesGrowing"]["expr"] == "delta(pprof_goroutines_per_service[6h]) > 15"
assert "{{ 0.2 | humanizePercentage }}" in rules["PprofGCCPUShareHigh"]["annotations"]["description"]
assert rules["PprofHotFunction"]["expr"].startswith("pprof_cpu_flat_ratio > 0.25\n")
assert rules["PprofProfilerBusy"]["expr"].endswith("[15m]) > 5")
assert rules["PprofExporterDown"]["expr"] == "up{job=\"pprof\"} == 0"
gr = {r["title"]: r for r in t["grafanaRules"]["groups"][0]["rules"]}
cond = lambda n: gr[n]["data"][2]["model"]["conditions"][0]["evaluator"]["params"][0]
assert (cond("PprofGoroutinesPerServiceHigh"), cond("PprofGCCPUShareHigh"), cond("PprofHotFunction"),
        cond("PprofProfilerBusy"), cond("PprofGoroutinesStuck"),
        cond("PprofGoroutinesGrowing")) == (150, 0.2, 0.25, 5, 200, 15)
assert gr["PprofExporterDown"]["data"][0]["model"]["expr"] == "up{job=\"pprof\"}"
assert {r["data"][0]["datasourceUid"] for r in gr.values()} == {"P1809F7CD0C75ACF3"}
prov = t["grafanaProvision"]
assert prov["enable"] and prov["alertingRules"] == t["grafanaRules"]
(p,) = prov["dashboards"]
dash = json.loads(p["options"]["files"]["pprof-exporter.json"])
v = {x["name"]: x for x in dash["templating"]["list"]}
assert v["goroutines_per_service_threshold"]["query"] == "150", v["goroutines_per_service_threshold"]
assert v["gc_ratio_threshold"]["current"]["value"] == "0.2"
assert v["stuck_goroutines_threshold"]["query"] == "200" and v["goroutines_growth_threshold"]["query"] == "15"
shipped = json.load(open(root + "/dashboards/pprof-exporter.json"))
assert len(dash["panels"]) == len(shipped["panels"])
'

check "exporter config from targets" '
t = J["tsnsrv"]
want = {
  "global": {"scrape_interval": "60s", "scrape_timeout": "10s", "top": 10},
  "targets": [
    {"name": "tsnsrv", "url": "http://127.0.0.1:9099/debug/pprof/",
     "labels": {"host": "storage"},
     "service_count_regex": "^github\\.com/boinkor-net/tsnsrv\\.\\(\\*ValidTailnetSrv\\)\\.Run$",
     "profiles": {"cpu": {"interval": "60s", "seconds": 10},
                  "goroutine": {"interval": "15s"}, "heap": {}}},
    {"name": "app", "url": "http://127.0.0.1:6060/debug/pprof/", "services": 3,
     "profiles": {"cpu": {"seconds": 5}}},
  ],
}
assert t["exporterConfig"] == want, json.dumps(t["exporterConfig"], indent=1)
assert t["failedAssertions"] == [], t["failedAssertions"]
'

check "every feature: exporter config, credentials, state directory, provisioning" '
f = J["full"]
assert f["failedAssertions"] == [], f["failedAssertions"]
c = f["exporterConfig"]
assert c["global"]["archive"] == {"dir": "/var/lib/pprof-exporter", "max_age": "2d", "max_bytes": "1GiB"}
assert c["targets"][0]["profiles"] == {"heap": {"timeout": "2s"},
    "goroutine_dump": {"interval": "5m", "stuck_after": "10m"}, "goroutineleak": {"interval": "6h"}}, c["targets"]
assert {r["alert"]: r["expr"] for r in f["rules"]["groups"][0]["rules"]}["PprofGoroutinesStuck"] == "pprof_goroutines_stuck > 50"
(sd,) = c["file_sd_configs"]
assert sd["files"] == ["/etc/pprof-exporter/targets/*.json", "/var/lib/pprof-targets/*.json",
                       "/var/lib/pprof-targets/*.yml", "/var/lib/pprof-targets/*.yaml"], sd["files"]
assert sd["refresh_interval"] == "1m" and sd["service_label"] == "service" and sd["labels"] == {"env": "prod"}
sc = f["service"]["serviceConfig"]
assert sc["StateDirectory"] == "pprof-exporter" and sc["DynamicUser"] is True
assert sc["LoadCredential"] == ["tls.crt:/run/secrets/pprof.crt", "tls.key:/run/secrets/pprof.key",
    "client_ca.crt:/run/secrets/ca.crt", "basic_auth_users:/run/secrets/pprof-users"], sc["LoadCredential"]
assert sc["SupplementaryGroups"] == ["pprof-targets"]
assert sc["RuntimeDirectory"] == "pprof-exporter" and sc["ExecStartPre"].startswith("/nix/store/")
assert "--web.enable-pprof-reserve" in sc["ExecStart"]
assert "--web.config.file=/run/pprof-exporter/web.yml" in sc["ExecStart"]
# No secret and no secret path content is in the store: only credential names.
assert "/run/secrets" not in f["webConfigScript"] and "$2" not in f["webConfigScript"]
assert "StateDirectory" not in J["default"]["service"]["serviceConfig"]
assert "--web.config.file" not in J["default"]["service"]["serviceConfig"]["ExecStart"]
'

check "forensics kinds render as config keys (issue 13)" '
f = J["forensics"]
assert f["failedAssertions"] == [], f["failedAssertions"]
assert f["exporterConfig"]["targets"][0]["profiles"] == {
  "goroutine_dump": {"interval": "1m", "timeout": "20s", "stuck_after": "10m"},
  "goroutineleak": {"interval": "5m"}}, f["exporterConfig"]["targets"][0]["profiles"]
'

check "example.nix: tsnsrv counted by regex, rules wired, unit ordered after tsnsrv" '
e = J["example"]
assert e["failedAssertions"] == [], e["failedAssertions"]
(t,) = e["exporterConfig"]["targets"]
assert t["service_count_regex"].endswith("ValidTailnetSrv\\)\\.Run$") and "service_label" not in t
assert "mutex" not in t["profiles"] and "block" not in t["profiles"]
assert e["exporterConfig"]["global"]["archive"]["dir"] == "/var/lib/pprof-exporter"
assert "--web.enable-pprof-reserve" in e["service"]["serviceConfig"]["ExecStart"]
assert json.loads(e["prometheus"]["rules"][0])["groups"][0]["rules"][0]["expr"] == "pprof_goroutines_per_service > 150"
assert "tsnsrv-all.service" in e["service"]["after"] and "network-online.target" in e["service"]["after"]
'

check "systemd service: command line, reload, hardening equal to the unit file" '
t, d = J["tsnsrv"], J["default"]
sc = t["service"]["serviceConfig"]
import shlex
assert shlex.split(sc["ExecStart"]) == [
    "/nix/store/00000000000000000000000000000000-pprof-exporter/bin/pprof_exporter",
    "--config.file=/etc/pprof-exporter/config.yml", "--web.listen-address=100.64.0.5:10066",
    "--log.level=info", "--web.telemetry-path=/m"], sc["ExecStart"]
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

EXPORTER=$(exporter_bin)
if [[ -z "$EXPORTER" ]]; then
  fail "no pprof_exporter binary (bazel build //exporter:pprof_exporter, or set PPROF_EXPORTER)"
elif ! need openssl; then
  skip_tool openssl "openssl missing; the exporter was not started on the rendered config"
else
  run "the real exporter starts on the rendered config, web config and credentials" \
    python3 "$HERE/nixos_exporter_start.py" "$EXPORTER" "$TMP/full.json" "$TMP/start" \
      "$ROOT/tests/security"
fi

# The module system must refuse wrong types and unknown options, naming them.
refused() { # refused NAME ERROR-PATTERN PPROF-OPTIONS
  local err="$TMP/refused.err"
  if evaluate "$TMP/refused.json" "{ pkgs, ... }: { services.pprof-exporter = { enable = true; $pkg $3 }; }" 2>"$err"; then
    fail "module system accepts $1"
  elif grep -qE "$2" "$err"; then
    pass "module system refuses $1"
  else
    fail "module system refuses $1, but not with /$2/"; tail -5 "$err" | sed 's/^/    /' >&2
  fi
}
refused "top = \"ten\"" "services.pprof-exporter.top.*is not of type|is not of type.*positive integer" 'top = "ten";'
refused "a target name with a space" "targets.*name.*is not of type|is not of type.*string matching" \
  'targets = [ { name = "my app"; url = "http://127.0.0.1:1/"; } ];'
refused "a duration without a unit" "scrapeInterval.*is not of type|is not of type.*string matching" 'scrapeInterval = "60";'
refused "a Nix path for the TLS key" "keyFile.*is not of type|is not of type" \
  'web.tls = { enable = true; certFile = "/run/c"; keyFile = ./module.nix; };'
refused "an unknown option" "services.pprof-exporter.tpo.*does not exist|does not exist.*tpo" 'tpo = 10;'
refused "a ratio above 1" "gcCpuRatioThreshold.*is not of type|is not of type" 'gcCpuRatioThreshold = 5;'

# The module's assertions must reject bad targets.
bad() { # bad NAME MESSAGE-PATTERN PPROF-OPTIONS
  if ! evaluate "$TMP/bad.json" "{ pkgs, ... }: { services.pprof-exporter = { enable = true; $pkg $3 }; }" 2>"$TMP/err"; then
    fail "evaluate with $1"; tail -5 "$TMP/err" | sed 's/^/    /' >&2; return
  fi
  run "assertions reject $1" python3 -c '
import json, re, sys
a = json.load(open(sys.argv[1]))["failedAssertions"]
sys.exit(0 if any(re.search(sys.argv[2], m) for m in a) else 1)' "$TMP/bad.json" "$2"
}
t='url = "http://127.0.0.1:1/";'
bad "two ways of counting services" "at most one of" "targets = [ { name = \"a\"; $t services = 2; serviceLabel = \"service\"; } ];"
bad "an unknown profile name" "profiles may only be" "targets = [ { name = \"a\"; $t profiles.threads = { }; } ];"
bad "duplicate target names" "names must be unique" "targets = [ { name = \"a\"; $t } { name = \"a\"; $t } ];"
bad "no target at all" "set targets or fileSd" ""
bad "a TLS key in the Nix store" "out of the Nix store" \
  "targets = [ { name = \"a\"; $t } ]; web.tls = { enable = true; certFile = \"/run/c\"; keyFile = \"/nix/store/x-key\"; };"
bad "a file_sd file under /home" "hidden from the service" \
  "fileSd = [ { files = [ \"/home/alice/targets.json\" ]; } ];"

if need promtool; then
  python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["rules"], open(sys.argv[2], "w"))' \
    "$TMP/default.json" "$TMP/alerts.yml"
  cp "$DEPLOY/prometheus/alerts_test.yml" "$TMP/alerts_test.yml"
  run "promtool test rules on the module's default rules" promtool test rules "$TMP/alerts_test.yml"
  python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["rules"], open(sys.argv[2], "w"))' \
    "$TMP/tsnsrv.json" "$TMP/tsnsrv_rules.yml"
  run "promtool check rules on the module's tuned rules" promtool check rules "$TMP/tsnsrv_rules.yml"
else
  skip_tool promtool "promtool missing (Debian package: prometheus); rules not checked"
fi

finish
