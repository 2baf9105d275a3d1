# NixOS module for pprof_exporter: scrapes Go pprof endpoints and exports
# reduced numbers for Prometheus.
#
#   imports = [ ./deploy/nixos/module.nix ];
#   services.pprof-exporter = {
#     enable = true;
#     package = <a derivation with bin/pprof_exporter; see the option>;
#     targets = [ { name = "app"; url = "http://127.0.0.1:6060/debug/pprof/"; } ];
#   };
#   services.prometheus.rules = [ config.services.pprof-exporter.prometheusRules ];
#
# Every feature of the exporter has an option: targets and file_sd
# discovery, the archive (a StateDirectory, so it works with DynamicUser),
# re-serving, TLS and basic auth (secrets through LoadCredential, never the
# Nix store), alert thresholds for Prometheus or Grafana-managed rules, and
# Grafana provisioning. deploy/nixos/example.nix wires it to tsnsrv;
# deploy/README.md ("NixOS") has more. tests/deploy/nixos_test.sh evaluates
# it with nixpkgs' real module system and starts the real exporter on what
# it renders.
#
# It is long because every option carries its type and description, as
# NixOS options do; the alert rules live in alerts.nix.
{ config, lib, pkgs, ... }:

let
  inherit (lib) literalExpression mkEnableOption mkIf mkMerge mkOption optional types;

  cfg = config.services.pprof-exporter;

  # goroutine_dump and goroutineleak: the forensics kinds (issue 13).
  profileNames = [ "cpu" "goroutine" "heap" "allocs" "mutex" "block" "goroutine_dump" "goroutineleak" ];

  defaultPort = 10066;

  # systemd's credentials directory of the unit (LoadCredential targets).
  credentials = "/run/credentials/pprof-exporter.service";
  stateDir = "/var/lib/pprof-exporter";
  webConfigPath = "/run/pprof-exporter/web.yml";

  duration = types.strMatching "([0-9]+(ms|s|m|h|d|w|y))+";

  # A file the unit reads at run time, named as a string so that Nix never
  # copies it (and a secret in it) into the world-readable store.
  runtimePath = types.strMatching "/.*" // { description = "absolute path (a string, not copied to the Nix store)"; };

  profileModule = types.submodule {
    options = {
      interval = mkOption {
        type = types.nullOr duration;
        default = null;
        example = "15s";
        description = "How often to fetch this profile. null: the global scrapeInterval.";
      };
      timeout = mkOption {
        type = types.nullOr duration;
        default = null;
        description = "Timeout of one fetch. null: scrapeTimeout (CPU: seconds × 1.5 + scrapeTimeout).";
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
      stuckAfter = mkOption {
        type = types.nullOr duration;
        default = null;
        example = "10m";
        description = ''
          goroutine_dump only: a goroutine blocked longer than this counts as
          stuck (`stuck_after`; null: the exporter's 10m). PprofGoroutinesStuck
          compares their count with stuckGoroutinesThreshold.
        '';
      };
    };
  };

  # Keys a static target and file_sd defaults share.
  countingOptions = {
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
        Count services as the distinct values of this pprof goroutine label
        (goroutines started inside pprof.Do). tsnsrv sets none: use
        serviceCountRegex there.
      '';
    };
    serviceCountRegex = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = ''^github\.com/boinkor-net/tsnsrv\.\(\*ValidTailnetSrv\)\.Run$'';
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

  targetModule = types.submodule {
    options = countingOptions // {
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
    };
  };

  fileSdModule = types.submodule {
    options = countingOptions // {
      files = mkOption {
        type = types.listOf runtimePath;
        default = [ ];
        example = [ "/etc/pprof-exporter/targets/*.json" ];
        description = ''
          file_sd files (Prometheus's format; wildcards in the file name only).
          The exporter runs as a dynamic user: the files must be readable by
          others or by one of supplementaryGroups, and not under /home, /root
          or /run/user, which the unit's ProtectHome hides.
        '';
      };
      directories = mkOption {
        type = types.listOf runtimePath;
        default = [ ];
        example = [ "/var/lib/pprof-targets" ];
        description = "Directories whose *.json, *.yml and *.yaml files are file_sd files.";
      };
      refreshInterval = mkOption {
        type = duration;
        default = "5m";
        description = "Re-read the files this often even without an inotify event.";
      };
    };
  };

  nonNull = lib.filterAttrs (_: v: v != null);

  countingConfig = t: nonNull {
    labels = if t.labels == { } then null else t.labels;
    services = t.services;
    service_label = t.serviceLabel;
    service_count_regex = t.serviceCountRegex;
    profiles = builtins.mapAttrs
      (name: p: nonNull {
        inherit (p) interval timeout;
        stuck_after = p.stuckAfter;
        seconds =
          if name != "cpu" then null
          else if p.seconds != null then p.seconds
          else cfg.cpuProfileSeconds;
      })
      t.profiles;
  };

  fileSdConfig = sd: countingConfig sd // {
    files = sd.files ++ lib.concatMap (d: map (ext: "${d}/*.${ext}") [ "json" "yml" "yaml" ]) sd.directories;
    refresh_interval = sd.refreshInterval;
  };

  exporterConfig = nonNull {
    global = nonNull {
      scrape_interval = cfg.scrapeInterval;
      scrape_timeout = cfg.scrapeTimeout;
      top = cfg.top;
      archive = if !cfg.archive.enable then null else {
        dir = stateDir;
        max_age = cfg.archive.maxAge;
        max_bytes = cfg.archive.maxBytes;
      };
    };
    targets = map (t: { inherit (t) name url; } // countingConfig t) cfg.targets;
    file_sd_configs = if cfg.fileSd == [ ] then null else map fileSdConfig cfg.fileSd;
  };

  # JSON is YAML, and toJSON needs no YAML generator from nixpkgs.
  configFile = pkgs.writeText "pprof-exporter.yml" (builtins.toJSON exporterConfig);

  web = cfg.web;
  webEnabled = web.tls.enable || web.basicAuthUsersFile != null;
  # Holds only paths into the credentials directory, no secrets.
  webConfigHead = builtins.concatStringsSep "\n" (lib.optionals web.tls.enable ([
    "tls_server_config:"
    "  cert_file: ${credentials}/tls.crt"
    "  key_file: ${credentials}/tls.key"
    "  min_version: ${web.tls.minVersion}"
  ] ++ lib.optionals (web.tls.clientCaFile != null) [
    "  client_ca_file: ${credentials}/client_ca.crt"
    "  client_auth_type: ${web.tls.clientAuthType}"
  ]));
  # The bcrypt hashes stay out of the store: systemd hands the users file
  # over as a credential, and this joins it to the TLS part at each start.
  webConfigScript = pkgs.writeShellScript "pprof-exporter-web-config" ''
    set -eu
    umask 077
    {
      printf '%s\n' ${lib.escapeShellArg webConfigHead}
      ${lib.optionalString (web.basicAuthUsersFile != null) ''
        echo 'basic_auth_users:'
        ${pkgs.gnused}/bin/sed -e '/^[[:space:]]*\(#\|$\)/d' -e 's/^[[:space:]]*/  /' \
          "$CREDENTIALS_DIRECTORY/basic_auth_users"
      ''}
    } > "$RUNTIME_DIRECTORY/web.yml"
  '';

  rules = import ./alerts.nix { inherit cfg; };
  rulesText = builtins.toJSON rules.prometheus;
  grafanaRulesText = builtins.toJSON rules.grafana;

  # The shipped dashboard with its threshold lines at the alert thresholds.
  dashboard =
    let
      json = builtins.fromJSON (builtins.readFile ../../dashboards/pprof-exporter.json);
      thresholds = {
        goroutines_per_service_threshold = num cfg.goroutinesPerServiceThreshold;
        gc_ratio_threshold = num cfg.gcCpuRatioThreshold;
        stuck_goroutines_threshold = num cfg.stuckGoroutinesThreshold;
        goroutines_growth_threshold = num cfg.goroutinesGrowthPerServiceThreshold;
      };
      set = v: if thresholds ? ${v.name}
        then v // { query = thresholds.${v.name}; current = (v.current or { }) // { text = thresholds.${v.name}; value = thresholds.${v.name}; }; }
        else v;
    in
    json // { templating = json.templating // { list = map set json.templating.list; }; };
  num = builtins.toJSON;
  dashboardDir = pkgs.writeTextDir "pprof-exporter.json" (builtins.toJSON dashboard);

  targetNames = map (t: t.name) cfg.targets;
  everyCounting = cfg.targets ++ cfg.fileSd;
in
{
  options.services.pprof-exporter = {
    enable = mkEnableOption "pprof_exporter, which exports Go pprof profiles as Prometheus metrics";

    package = mkOption {
      type = types.package;
      description = ''
        A derivation with an executable bin/pprof_exporter built from this
        repository. There is no default: nixpkgs has no pprof_exporter, and
        this repository ships no package expression yet. deploy/README.md
        ("Which `package`?") says exactly what the binary needs. Any build
        works that takes the flags of ExecStart (--config.file,
        --web.listen-address, --log.level, --web.config.file,
        --web.enable-pprof-reserve).
      '';
    };

    listenAddress = mkOption {
      type = types.str;
      default = "127.0.0.1:${toString defaultPort}";
      example = "[::]:${toString defaultPort}";
      description = ''
        Address for /metrics. Loopback by default: profiles name your code's
        functions. Open the port in networking.firewall yourself if Prometheus
        scrapes from another machine, and set web.tls and web.basicAuthUsersFile.
      '';
    };

    logLevel = mkOption {
      type = types.enum [ "debug" "info" "warn" "error" ];
      default = "info";
      description = "Passed as --log.level.";
    };

    scrapeInterval = mkOption {
      type = duration;
      default = "60s";
      description = "Default interval between fetches of each profile.";
    };

    scrapeTimeout = mkOption {
      type = duration;
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
          serviceCountRegex = '''^github\.com/boinkor-net/tsnsrv\.\(\*ValidTailnetSrv\)\.Run$''';
        }]
      '';
      description = "Go processes to profile.";
    };

    fileSd = mkOption {
      type = types.listOf fileSdModule;
      default = [ ];
      description = ''
        Targets discovered from files (file_sd_configs), with defaults for
        the targets they list. Changes to the files apply without a reload.
      '';
    };

    supplementaryGroups = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "pprof-targets" ];
      description = "Groups of the (dynamic) service user, e.g. to read file_sd files that are not world-readable.";
    };

    archive = {
      enable = mkEnableOption "the archive of every fetched profile in ${stateDir} (a StateDirectory; works with DynamicUser)";
      maxAge = mkOption {
        type = duration;
        default = "7d";
        description = "Delete archived profiles older than this.";
      };
      maxBytes = mkOption {
        type = types.strMatching "[0-9]+(B|KiB|MiB|GiB|TiB)?";
        default = "10GiB";
        description = "Delete the oldest archived profiles while the archive is larger than this.";
      };
    };

    enablePprofReserve = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Serve the scraped profiles again under /debug/pprof/<target>/<kind>
        (--web.enable-pprof-reserve), with the archive under .../archive when
        archive.enable is set. The alerts' evidence links point there.
      '';
    };

    web = {
      tls = {
        enable = mkEnableOption "TLS on the exporter's endpoints";
        certFile = mkOption {
          type = runtimePath;
          example = "/run/secrets/pprof-exporter.crt";
          description = "PEM certificate (chain), handed to the unit with LoadCredential.";
        };
        keyFile = mkOption {
          type = runtimePath;
          example = "/run/secrets/pprof-exporter.key";
          description = "PEM private key, handed to the unit with LoadCredential; never put it in the Nix store.";
        };
        clientCaFile = mkOption {
          type = types.nullOr runtimePath;
          default = null;
          description = "CAs that client certificates must chain to; enables clientAuthType.";
        };
        clientAuthType = mkOption {
          type = types.enum [ "RequestClientCert" "RequireAnyClientCert" "VerifyClientCertIfGiven" "RequireAndVerifyClientCert" ];
          default = "RequireAndVerifyClientCert";
          description = "How client certificates are checked (with clientCaFile).";
        };
        minVersion = mkOption {
          type = types.enum [ "TLS10" "TLS11" "TLS12" "TLS13" ];
          default = "TLS12";
          description = "Lowest TLS version accepted.";
        };
      };
      basicAuthUsersFile = mkOption {
        type = types.nullOr runtimePath;
        default = null;
        example = "/run/secrets/pprof-exporter-users";
        description = ''
          File of `user: bcrypt-hash` lines (htpasswd -nbBC 12 USER PASSWORD,
          with the colon), handed to the unit with LoadCredential and joined
          into the web config at start. Every endpoint then needs a password.
        '';
      };
    };

    extraFlags = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "--web.telemetry-path=/pprof-metrics" ];
      description = "Extra command-line flags for pprof_exporter.";
    };

    # Alert thresholds. Defaults are starting points: a healthy tsnsrv runs
    # ~106 goroutines per server, so set goroutinesPerServiceThreshold per
    # deployment (deploy/README.md, "Changing alert thresholds").
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

    # Forensics (issue 13). A healthy server keeps some goroutines blocked
    # for ever (accept loops in IO wait, signal and ticker loops), so the
    # stuck count has a floor per deployment: set the threshold above it.
    stuckGoroutinesThreshold = mkOption {
      type = types.ints.unsigned;
      default = 10;
      example = 200;
      description = ''
        PprofGoroutinesStuck (needs the goroutine_dump profile; see stuckAfter)
        fires above this many goroutines blocked longer than stuckAfter.
      '';
    };

    goroutinesGrowthPerServiceThreshold = mkOption {
      type = types.numbers.nonnegative;
      default = 10;
      description = ''
        PprofGoroutinesGrowing fires when goroutines per service rose by more
        than this over 6 hours, for an hour: a leak on a host whose healthy
        level is far above goroutinesPerServiceThreshold.
      '';
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

    grafanaRulesFile = mkOption {
      type = types.path;
      readOnly = true;
      default = pkgs.writeText "pprof-exporter-grafana-rules.yml" grafanaRulesText;
      defaultText = literalExpression "Grafana-managed alert rules built from the threshold options";
      description = ''
        The same alerts as Grafana-managed rules (Grafana's alerting
        provisioning format); grafana.provision wires it in. Use either these
        or prometheusRules, not both.
      '';
    };

    webConfigScript = mkOption {
      type = types.path;
      internal = true;
      readOnly = true;
      default = webConfigScript;
      description = "ExecStartPre script that writes the web config (exposed for tests/deploy).";
    };

    grafana = {
      provision = mkEnableOption ''
        provisioning of the dashboard (threshold lines at the options' values)
        into services.grafana.provision.dashboards, and with
        grafana.alertRules of the Grafana-managed rules into
        services.grafana.provision.alerting.rules
      '';
      alertRules = mkOption {
        type = types.bool;
        default = true;
        description = "With grafana.provision: also provision grafanaRulesFile (Grafana-managed alerting).";
      };
      datasourceUid = mkOption {
        type = types.strMatching "[A-Za-z0-9_-]{1,40}";
        default = "prometheus";
        description = "UID of the Grafana datasource of the Prometheus that scrapes the exporter.";
      };
      folder = mkOption {
        type = types.str;
        default = "pprof-exporter";
        description = "Grafana folder of the dashboard and the rules.";
      };
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      assertions = [
        {
          assertion = builtins.length targetNames == builtins.length (lib.unique targetNames);
          message = "services.pprof-exporter.targets: names must be unique.";
        }
        {
          assertion = cfg.targets != [ ] || cfg.fileSd != [ ];
          message = "services.pprof-exporter: set targets or fileSd (the exporter would scrape its built-in default target).";
        }
        {
          assertion = !(web.tls.enable && lib.hasPrefix builtins.storeDir web.tls.keyFile)
            && !(web.basicAuthUsersFile != null && lib.hasPrefix builtins.storeDir web.basicAuthUsersFile);
          message = "services.pprof-exporter.web: keep keyFile and basicAuthUsersFile out of the Nix store (it is world-readable).";
        }
      ] ++ map
        (t: {
          assertion = builtins.length (builtins.filter (v: v != null)
            [ t.services t.serviceLabel t.serviceCountRegex ]) <= 1;
          message = "services.pprof-exporter (${t.name or "fileSd"}): set at most one of services, serviceLabel, serviceCountRegex.";
        })
        everyCounting
      ++ map
        (t: {
          assertion = builtins.all (p: builtins.elem p profileNames) (builtins.attrNames t.profiles);
          message = "services.pprof-exporter (${t.name or "fileSd"}): profiles may only be ${builtins.concatStringsSep ", " profileNames}.";
        })
        everyCounting
      ++ map
        (sd: {
          assertion = sd.files != [ ] || sd.directories != [ ];
          message = "services.pprof-exporter.fileSd: each entry needs files or directories.";
        })
        cfg.fileSd
      ++ map
        (path: {
          assertion = !(builtins.any (p: lib.hasPrefix p path) [ "/home/" "/root/" "/run/user/" ]);
          message = "services.pprof-exporter.fileSd: ${path} is hidden from the service by ProtectHome.";
        })
        (lib.concatMap (sd: sd.files ++ sd.directories) cfg.fileSd);

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
        # The web config and re-serving are read at start only.
        restartTriggers = [ webConfigHead (builtins.toJSON cfg.enablePprofReserve) ];
        serviceConfig = {
          Type = "exec";
          ExecStart = lib.escapeShellArgs ([
            "${cfg.package}/bin/pprof_exporter"
            "--config.file=/etc/pprof-exporter/config.yml"
            "--web.listen-address=${cfg.listenAddress}"
            "--log.level=${cfg.logLevel}"
          ] ++ optional webEnabled "--web.config.file=${webConfigPath}"
            ++ optional cfg.enablePprofReserve "--web.enable-pprof-reserve"
            ++ cfg.extraFlags);
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
    }

    (mkIf cfg.archive.enable {
      # /var/lib/private/pprof-exporter, owned by the dynamic user and
      # reachable as /var/lib/pprof-exporter; writable despite ProtectSystem.
      systemd.services.pprof-exporter.serviceConfig = {
        StateDirectory = "pprof-exporter";
        StateDirectoryMode = "0750";
      };
    })

    (mkIf (cfg.supplementaryGroups != [ ]) {
      systemd.services.pprof-exporter.serviceConfig.SupplementaryGroups = cfg.supplementaryGroups;
    })

    (mkIf webEnabled {
      systemd.services.pprof-exporter.serviceConfig = {
        LoadCredential =
          lib.optionals web.tls.enable [ "tls.crt:${web.tls.certFile}" "tls.key:${web.tls.keyFile}" ]
          ++ optional (web.tls.enable && web.tls.clientCaFile != null) "client_ca.crt:${web.tls.clientCaFile}"
          ++ optional (web.basicAuthUsersFile != null) "basic_auth_users:${web.basicAuthUsersFile}";
        RuntimeDirectory = "pprof-exporter";
        RuntimeDirectoryMode = "0700";
        ExecStartPre = "${cfg.webConfigScript}";
      };
    })

    (mkIf cfg.grafana.provision {
      services.grafana.provision = {
        enable = true;
        dashboards.settings.providers = [{
          name = "pprof-exporter";
          type = "file";
          folder = cfg.grafana.folder;
          options.path = dashboardDir;
        }];
      };
    })

    (mkIf (cfg.grafana.provision && cfg.grafana.alertRules) {
      services.grafana.provision.alerting.rules.path = cfg.grafanaRulesFile;
    })
  ]);
}
