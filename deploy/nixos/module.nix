# NixOS module for pprof_exporter: scrapes Go pprof endpoints and exports
# reduced numbers for Prometheus.
#
#   imports = [ ./deploy/nixos/module.nix ];
#   services.pprof-exporter = {
#     enable = true;
#     package = <a derivation that provides bin/pprof_exporter>;
#     targets = [ { name = "app"; url = "http://127.0.0.1:6060/debug/pprof/"; } ];
#   };
#   services.prometheus.rules = [ config.services.pprof-exporter.prometheusRules ];
#
# deploy/nixos/example.nix wires it to tsnsrv; deploy/README.md has more.
{ config, lib, pkgs, ... }:

let
  inherit (lib) literalExpression mkEnableOption mkIf mkOption types;

  cfg = config.services.pprof-exporter;

  profileNames = [ "cpu" "goroutine" "heap" "allocs" "mutex" "block" ];

  defaultPort = 10066;

  evidence = kind:
    "http://{{ $labels.instance }}/debug/pprof/{{ $labels.target }}/${kind}/archive";

  runbook = anchor:
    "https://github.com/pprof-exporter/pprof_exporter/blob/main/deploy/README.md#${anchor}";

  profileModule = types.submodule {
    options = {
      interval = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "15s";
        description = "How often to fetch this profile. null: the global scrapeInterval.";
      };
      seconds = mkOption {
        type = types.nullOr types.ints.positive;
        default = null;
        description = ''
          cpu only: how long one CPU profile records. null: cpuProfileSeconds.
          Go serves one CPU profile at a time, so this is also how long other
          CPU profilers of the target are refused.
        '';
      };
    };
  };

  targetModule = types.submodule {
    options = {
      name = mkOption {
        type = types.strMatching "[A-Za-z0-9_.:-]+";
        example = "tsnsrv";
        description = "Value of the `target` label on this target's metrics.";
      };
      url = mkOption {
        type = types.str;
        example = "http://127.0.0.1:9099/debug/pprof/";
        description = "Base URL of the target's net/http/pprof handlers.";
      };
      labels = mkOption {
        type = types.attrsOf types.str;
        default = { };
        example = { host = "storage"; };
        description = "Constant labels added to every metric of this target.";
      };
      services = mkOption {
        type = types.nullOr types.ints.positive;
        default = null;
        example = 57;
        description = "Fixed number of services the process hosts.";
      };
      serviceLabel = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "service";
        description = ''
          Count services as the distinct values of this pprof goroutine label,
          and export pprof_service_goroutines per value.
        '';
      };
      serviceCountRegex = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = ''
          Count services as the goroutines whose stack has a function matching
          this regex (one such goroutine per service).
        '';
      };
      profiles = mkOption {
        type = types.attrsOf profileModule;
        default = {
          cpu = { };
          goroutine = { interval = "15s"; };
          heap = { };
          allocs = { };
          mutex = { };
          block = { };
        };
        description = ''
          Profiles to fetch, by name (${builtins.concatStringsSep ", " profileNames}).
          A profile left out is not fetched. Setting this replaces the default set.
        '';
      };
    };
  };

  nonNull = lib.filterAttrs (_: v: v != null);

  targetConfig = t: nonNull {
    inherit (t) name url;
    labels = if t.labels == { } then null else t.labels;
    services = t.services;
    service_label = t.serviceLabel;
    service_count_regex = t.serviceCountRegex;
    profiles = builtins.mapAttrs
      (name: p: nonNull {
        interval = p.interval;
        seconds =
          if name != "cpu" then null
          else if p.seconds != null then p.seconds
          else cfg.cpuProfileSeconds;
      })
      t.profiles;
  };

  # JSON is YAML, and toJSON needs no YAML generator from nixpkgs.
  configFile = pkgs.writeText "pprof-exporter.yml" (builtins.toJSON {
    global = {
      scrape_interval = cfg.scrapeInterval;
      scrape_timeout = cfg.scrapeTimeout;
      top = cfg.top;
    };
    targets = map targetConfig cfg.targets;
  });

  # toString would print 0.05 as "0.050000"; toJSON prints "0.05".
  num = builtins.toJSON;

  busyGuard = ''
    and on (job, instance, target)
      pprof_cpu_sampled_seconds / pprof_cpu_duration_seconds > ${num cfg.alertMinCpuCores}
  '';

  # Mirrors deploy/prometheus/alerts.yml; tests/deploy checks that with the
  # default options the two are identical.
  rules = {
    groups = [{
      name = "pprof-exporter";
      rules = [
        {
          alert = "PprofGoroutinesPerServiceHigh";
          expr = "pprof_goroutines_per_service > ${num cfg.goroutinesPerServiceThreshold}";
          for = "30m";
          labels.severity = "warning";
          annotations = {
            summary = "{{ $labels.target }}: {{ $value | humanize }} goroutines per service";
            description = builtins.concatStringsSep " " [
              "Target {{ $labels.target }} ({{ $labels.instance }}) has averaged"
              "{{ $value | humanize }} goroutines per hosted service for 30 minutes"
              "(threshold ${num cfg.goroutinesPerServiceThreshold})."
              ''pprof_service_goroutines{target="{{ $labels.target }}"}''
              "shows which service holds them."
            ];
            runbook_url = runbook "pprofgoroutinesperservicehigh";
            evidence_url = evidence "goroutine";
          };
        }
        {
          alert = "PprofGCCPUShareHigh";
          expr = ''
            pprof_cpu_gc_ratio > ${num cfg.gcCpuRatioThreshold}
          '' + busyGuard;
          for = "30m";
          labels.severity = "warning";
          annotations = {
            summary = "{{ $labels.target }}: GC uses {{ $value | humanizePercentage }} of CPU";
            description = builtins.concatStringsSep " " [
              "Garbage collection accounted for {{ $value | humanizePercentage }} of"
              "the CPU sampled in target {{ $labels.target }} ({{ $labels.instance }})"
              "for 30 minutes (threshold {{ ${num cfg.gcCpuRatioThreshold} | humanizePercentage }})."
              "pprof_heap_flat_ratio and pprof_allocs_flat_ratio name the allocating"
              "functions."
            ];
            runbook_url = runbook "pprofgccpusharehigh";
            evidence_url = evidence "cpu";
          };
        }
        {
          alert = "PprofTargetDown";
          expr = ''
            pprof_up == 0
            unless on (job, instance, target, profile)
              increase(pprof_scrape_errors_total{reason="profiler_busy"}[15m]) > 0
          '';
          for = "10m";
          labels.severity = "warning";
          annotations = {
            summary = "{{ $labels.target }}: {{ $labels.profile }} profile not scraped";
            description = builtins.concatStringsSep " " [
              "pprof_exporter at {{ $labels.instance }} has failed to fetch the"
              "{{ $labels.profile }} profile of target {{ $labels.target }} for 10"
              ''minutes. pprof_scrape_errors_total{target="{{ $labels.target }}"} says''
              "why (connect, timeout, http_status, too_large, decode)."
            ];
            runbook_url = runbook "pproftargetdown";
            evidence_url = evidence "{{ $labels.profile }}";
          };
        }
        {
          alert = "PprofProfilerBusy";
          expr = ''increase(pprof_scrape_errors_total{profile="cpu", reason="profiler_busy"}[15m]) > ${num cfg.profilerBusyRefusals}'';
          for = "15m";
          labels.severity = "info";
          annotations = {
            summary = "{{ $labels.target }}: CPU profiler busy ({{ $value | humanize }} refusals in 15m)";
            description = builtins.concatStringsSep " " [
              "Target {{ $labels.target }} refused {{ $value | humanize }} CPU profile"
              "requests from {{ $labels.instance }} in the last 15 minutes because"
              "another CPU profile was running. CPU metrics for this target are stale"
              "until the other profiler stops or the intervals are moved apart."
            ];
            runbook_url = runbook "pprofprofilerbusy";
            evidence_url = evidence "cpu";
          };
        }
        {
          alert = "PprofHotFunction";
          expr = ''
            pprof_cpu_flat_ratio > ${num cfg.hotFunctionRatioThreshold}
          '' + busyGuard;
          for = "30m";
          labels.severity = "info";
          annotations = {
            summary = "{{ $labels.target }}: {{ $labels.function }} uses {{ $value | humanizePercentage }} of CPU";
            description = builtins.concatStringsSep " " [
              "Function {{ $labels.function }} has spent {{ $value | humanizePercentage }}"
              "of the sampled CPU of target {{ $labels.target }} ({{ $labels.instance }})"
              "in its own code (flat) for 30 minutes (threshold"
              "{{ ${num cfg.hotFunctionRatioThreshold} | humanizePercentage }})."
            ];
            runbook_url = runbook "pprofhotfunction";
            evidence_url = evidence "cpu";
          };
        }
        {
          alert = "PprofExporterDown";
          expr = ''up{job="${cfg.prometheusJobName}"} == 0'';
          for = "5m";
          labels.severity = "warning";
          annotations = {
            summary = "pprof_exporter {{ $labels.instance }} is down";
            description = builtins.concatStringsSep " " [
              "Prometheus has not been able to scrape pprof_exporter at"
              "{{ $labels.instance }} for 5 minutes; no profile metrics are being"
              "collected from its targets."
            ];
            runbook_url = runbook "pprofexporterdown";
          };
        }
      ];
    }];
  };

  rulesText = builtins.toJSON rules;

  targetNames = map (t: t.name) cfg.targets;
in
{
  options.services.pprof-exporter = {
    enable = mkEnableOption "pprof_exporter, which exports Go pprof profiles as Prometheus metrics";

    package = mkOption {
      type = types.package;
      example = literalExpression "pkgs.callPackage ./pprof-exporter.nix { }";
      description = "Package providing bin/pprof_exporter.";
    };

    listenAddress = mkOption {
      type = types.str;
      default = "127.0.0.1:${toString defaultPort}";
      example = "[::]:${toString defaultPort}";
      description = ''
        Address for /metrics. Loopback by default: profiles name your code's
        functions. Open the port in networking.firewall yourself if Prometheus
        scrapes from another machine.
      '';
    };

    logLevel = mkOption {
      type = types.enum [ "debug" "info" "warn" "error" ];
      default = "info";
      description = "Passed as --log.level.";
    };

    scrapeInterval = mkOption {
      type = types.str;
      default = "60s";
      description = "Default interval between fetches of each profile.";
    };

    scrapeTimeout = mkOption {
      type = types.str;
      default = "10s";
      description = "Timeout of one profile fetch (a CPU profile also waits its seconds).";
    };

    cpuProfileSeconds = mkOption {
      type = types.ints.positive;
      default = 10;
      description = "Length of each CPU profile, unless a target's profiles.cpu.seconds says otherwise.";
    };

    top = mkOption {
      type = types.ints.positive;
      default = 10;
      description = "How many functions the per-function metrics list per profile.";
    };

    targets = mkOption {
      type = types.listOf targetModule;
      default = [ ];
      example = literalExpression ''
        [{
          name = "tsnsrv";
          url = "http://127.0.0.1:9099/debug/pprof/";
          labels.host = "storage";
          serviceLabel = "service";
        }]
      '';
      description = "Go processes to profile.";
    };

    extraFlags = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "--web.telemetry-path=/pprof-metrics" ];
      description = "Extra command-line flags for pprof_exporter.";
    };

    # Alert thresholds. Defaults are starting points; a tsnsrv hosting many
    # services was measured at ~110 goroutines per service.
    goroutinesPerServiceThreshold = mkOption {
      type = types.numbers.nonnegative;
      default = 10;
      example = 150;
      description = "PprofGoroutinesPerServiceHigh fires above this many goroutines per service.";
    };

    gcCpuRatioThreshold = mkOption {
      type = types.numbers.between 0 1;
      default = 0.05;
      description = "PprofGCCPUShareHigh fires above this share (0..1) of sampled CPU in GC.";
    };

    hotFunctionRatioThreshold = mkOption {
      type = types.numbers.between 0 1;
      default = 0.1;
      description = "PprofHotFunction fires when one function's flat CPU share (0..1) is above this.";
    };

    alertMinCpuCores = mkOption {
      type = types.numbers.nonnegative;
      default = 0.05;
      description = ''
        The GC and hot-function alerts stay quiet unless the sampled CPU profile
        shows more than this many busy cores: shares of a near-idle process are noise.
      '';
    };

    profilerBusyRefusals = mkOption {
      type = types.ints.unsigned;
      default = 3;
      description = "PprofProfilerBusy fires above this many refused CPU profiles in 15 minutes.";
    };

    prometheusJobName = mkOption {
      type = types.str;
      default = "pprof-exporter";
      description = "Prometheus job that scrapes the exporter; PprofExporterDown watches its `up`.";
    };

    prometheusRules = mkOption {
      type = types.str;
      readOnly = true;
      default = rulesText;
      defaultText = literalExpression "alert rules built from the threshold options";
      description = ''
        The alert rules as a Prometheus rule file (JSON, which Prometheus reads
        as YAML). Use as
        `services.prometheus.rules = [ config.services.pprof-exporter.prometheusRules ];`.
      '';
    };

    prometheusRulesFile = mkOption {
      type = types.path;
      readOnly = true;
      default = pkgs.writeText "pprof-exporter-rules.yml" rulesText;
      defaultText = literalExpression "a file containing prometheusRules";
      description = ''
        prometheusRules as a file, for
        `services.prometheus.ruleFiles = [ config.services.pprof-exporter.prometheusRulesFile ];`.
      '';
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = builtins.length targetNames == builtins.length (lib.unique targetNames);
        message = "services.pprof-exporter.targets: names must be unique.";
      }
    ] ++ map
      (t: {
        assertion = builtins.length (builtins.filter (v: v != null)
          [ t.services t.serviceLabel t.serviceCountRegex ]) <= 1;
        message = "services.pprof-exporter.targets (${t.name}): set at most one of services, serviceLabel, serviceCountRegex.";
      })
      cfg.targets
    ++ map
      (t: {
        assertion = builtins.all (p: builtins.elem p profileNames) (builtins.attrNames t.profiles);
        message = "services.pprof-exporter.targets (${t.name}): profiles may only be ${builtins.concatStringsSep ", " profileNames}.";
      })
      cfg.targets;

    # A fixed path lets a config change reload the running exporter (SIGHUP)
    # instead of restarting it, which would reset its counters.
    environment.etc."pprof-exporter/config.yml".source = configFile;

    systemd.services.pprof-exporter = {
      description = "pprof_exporter: Go pprof profiles as Prometheus metrics";
      documentation = [ "https://github.com/pprof-exporter/pprof_exporter/blob/main/deploy/README.md" ];
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      reloadTriggers = [ configFile ];
      serviceConfig = {
        Type = "exec";
        ExecStart = lib.escapeShellArgs ([
          "${cfg.package}/bin/pprof_exporter"
          "--config.file=/etc/pprof-exporter/config.yml"
          "--web.listen-address=${cfg.listenAddress}"
          "--log.level=${cfg.logLevel}"
        ] ++ cfg.extraFlags);
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
        Restart = "on-failure";
        RestartSec = "5s";

        # Same hardening as deploy/systemd/pprof-exporter.service.
        DynamicUser = true;
        UMask = "0077";
        CapabilityBoundingSet = "";
        AmbientCapabilities = "";
        NoNewPrivileges = true;
        RestrictSUIDSGID = true;
        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        PrivateMounts = true;
        DevicePolicy = "closed";
        ProtectProc = "invisible";
        ProcSubset = "pid";
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectClock = true;
        ProtectHostname = true;
        RestrictAddressFamilies = [ "AF_INET" "AF_INET6" "AF_UNIX" ];
        RestrictNamespaces = true;
        PrivateUsers = true;
        LockPersonality = true;
        MemoryDenyWriteExecute = true;
        RestrictRealtime = true;
        RemoveIPC = true;
        SystemCallArchitectures = "native";
        SystemCallFilter = [ "@system-service" "~@privileged @resources" ];
        SystemCallErrorNumber = "EPERM";
        MemoryMax = "512M";
        TasksMax = 64;
      };
    };
  };
}
