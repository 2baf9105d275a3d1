#!/usr/bin/env bash
# deploy/nixos/example.nix against a real tsnsrv: the example's target
# settings, read from the example itself, are given to `pprof_exporter
# reduce` on the goroutine profile of a real 57-service tsnsrv host
# (tests/testdata/tsnsrv-storage/). They must count tsnsrv's servers (59,
# as the capture's README and goroutine.by-regex.json say), give ~106
# goroutines per server, and the example's alert threshold must stay quiet
# on that healthy host while the module's default (10) would fire.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CAPTURE="$ROOT/tests/testdata/tsnsrv-storage"

EXPORTER=$(exporter_bin)
if [[ -z "$EXPORTER" ]]; then
  fail "no pprof_exporter binary (bazel build //exporter:pprof_exporter, or set PPROF_EXPORTER)"
  finish; exit
fi
if ! need nix-instantiate; then
  skip_tool nix-instantiate "nix-instantiate not installed (Debian package: nix-bin); example not evaluated"
  finish; exit
fi

# The example is a plain function of config; evaluate just what it sets for
# the exporter (no nixpkgs needed), and the module's default threshold.
if ! nix-instantiate --store dummy:// --eval --strict --json -E '
  let
    ex = import '"$DEPLOY"'/nixos/example.nix {
      config = {
        networking.hostName = "storage";
        services.pprof-exporter = { prometheusJobName = "pprof-exporter";
          listenAddress = "127.0.0.1:10066"; prometheusRules = "";
          grafanaRulesFile = null; };
      };
      pprofExporterPackage = null;
    };
  in ex.services.pprof-exporter' >"$TMP/example.json" 2>"$TMP/err"; then
  fail "evaluate example.nix"; sed 's/^/    /' "$TMP/err" >&2; finish; exit
fi
pass "evaluate example.nix"

run "example's tsnsrv target counts tsnsrv's servers on the real capture" \
  python3 - "$TMP/example.json" "$EXPORTER" "$CAPTURE" <<'PY'
import json, re, subprocess, sys
ex = json.load(open(sys.argv[1]))
exporter, capture = sys.argv[2], sys.argv[3]
(t,) = [t for t in ex["targets"] if t["name"] == "tsnsrv"]
# The module's option names -> the reduce flags for the same config keys.
flags = {"services": "--services", "serviceLabel": "--service-label",
         "serviceCountRegex": "--service-count-regex"}
args = [f"{flag}={t[k]}" for k, flag in flags.items() if t.get(k) is not None]
assert len(args) == 1, f"the example must count services one way, has {args}"
out = subprocess.run([exporter, "reduce", "--kind=goroutine", "--target=tsnsrv", *args,
                      capture + "/goroutine.pb.gz"], check=True, text=True,
                     stdout=subprocess.PIPE).stdout
def value(name):
    m = re.search(rf"^{name}\{{[^}}]*\}} (\S+)$", out, re.M)
    assert m, f"{name} missing from reduce output with {args}:\n{out[:2000]}"
    return float(m.group(1))
want = json.load(open(capture + "/goroutine.by-regex.json"))
assert value("pprof_goroutines") == want["goroutines"] == 6257
services, per = value("pprof_services"), value("pprof_goroutines_per_service")
assert services == want["services"] == 59, f"{services} services, want 59 ({args})"
assert abs(per - want["goroutines_per_service"]) < 1e-9 and 105 < per < 107, per
threshold = ex["goroutinesPerServiceThreshold"]
assert per < threshold, f"example threshold {threshold} fires on healthy tsnsrv ({per:.1f})"
assert per > 10, "the module default 10 should be below healthy tsnsrv"
print(f"{services:.0f} servers, {per:.1f} goroutines per server, threshold {threshold}")
PY

finish
