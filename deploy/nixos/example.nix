# Example: profile a multi-service tsnsrv on the same host and alert on it.
#
# tsnsrv (the NixOS module of the tsnsrv flake, multi-service mode) runs all
# services in one process, tsnsrv-all.service, and serves Prometheus metrics
# and net/http/pprof on prometheusAddr. Its goroutines carry the pprof label
# service=<name>, which is how pprof_exporter counts services here.
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
      serviceLabel = "service";
      profiles = {
        cpu = { interval = "60s"; seconds = 10; };
        goroutine.interval = "15s";
        heap = { };
        allocs = { };
        mutex = { };
        block = { };
      };
    }];
    # A tsnsrv with many services was measured at ~110 goroutines per
    # service when healthy, so the seed default of 10 would always fire.
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
