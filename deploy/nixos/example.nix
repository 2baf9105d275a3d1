# Example: profile a multi-service tsnsrv on the same host and alert on it.
#
# tsnsrv (the NixOS module of the tsnsrv flake, multi-service mode) runs all
# services in one process, tsnsrv-all.service, and serves Prometheus metrics
# and net/http/pprof on prometheusAddr.
#
# Counting tsnsrv's services: its goroutines carry NO pprof labels (it does
# not use pprof.Do), so serviceLabel would count 0 services and
# pprof_goroutines_per_service would never exist. Every tailnet server runs
# exactly one goroutine in tsnsrv's (*ValidTailnetSrv).Run, so count those
# (or set `services = N` by hand). On a real 57-service host
# (tests/testdata/tsnsrv-storage/) that regex finds 59 servers.
#
# What healthy looks like there: 6,257 goroutines, about 106 per server
# (wireguard-go alone keeps ~16 per tsnet server). The module's default alert
# threshold of 10 goroutines per service would fire on that healthy host, so
# the threshold is set per deployment: look at pprof_goroutines_per_service
# for a week and set it well above the usual level. tests/deploy/
# tsnsrv_example_test.sh runs these target settings on that capture.
#
# Import next to the tsnsrv module, e.g. in a flake:
#   modules = [ tsnsrv.nixosModules.default ./deploy/nixos/module.nix ./deploy/nixos/example.nix ];
#
# pprofExporterPackage is the build of this repository (it ships no Nix
# package yet); pass it in with specialArgs or _module.args.
{ config, pprofExporterPackage, ... }:

{
  services.tsnsrv = {
    enable = true;
    defaults = {
      authKeyPath = "/run/secrets/tsnsrv-authkey";
      # tsnsrv's default is ":9099", every interface; profiles and metrics
      # of the tailnet proxy should not be reachable from the network.
      prometheusAddr = "127.0.0.1:9099";
    };
    services = {
      grafana.toURL = "http://127.0.0.1:3000";
      prometheus.toURL = "http://127.0.0.1:9090";
    };
  };

  services.pprof-exporter = {
    enable = true;
    package = pprofExporterPackage;
    targets = [{
      name = "tsnsrv";
      url = "http://127.0.0.1:9099/debug/pprof/";
      labels.host = config.networking.hostName;
      serviceCountRegex = ''^github\.com/boinkor-net/tsnsrv\.\(\*ValidTailnetSrv\)\.Run$'';
      profiles = {
        cpu = { interval = "60s"; seconds = 10; };
        goroutine.interval = "15s";
        heap = { };
        allocs = { };
        # No mutex or block: tsnsrv never sets a mutex or block profile
        # rate, so those profiles are always empty.
      };
    }];
    # Keep the profiles behind each alert and serve them again: the
    # alerts' evidence_url links to /debug/pprof/tsnsrv/<kind>/archive.
    archive.enable = true;
    enablePprofReserve = true;
    # Healthy tsnsrv: ~106 goroutines per server (see above); the default
    # of 10 would always fire. Set this from your own host's level.
    goroutinesPerServiceThreshold = 150;
  };

  # The profiles only exist while tsnsrv runs; ordering avoids a burst of
  # connect errors at boot but does not tie the exporter's life to tsnsrv.
  systemd.services.pprof-exporter.after = [ "tsnsrv-all.service" ];

  services.prometheus = {
    enable = true;
    rules = [ config.services.pprof-exporter.prometheusRules ];
    scrapeConfigs = [{
      job_name = config.services.pprof-exporter.prometheusJobName;
      scrape_interval = "15s";
      static_configs = [{ targets = [ config.services.pprof-exporter.listenAddress ]; }];
    }];
  };
}
