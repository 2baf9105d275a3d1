# Evaluates deploy/nixos/module.nix (and optionally example.nix) with
# nixpkgs' real module system (lib.evalModules from ../shared/nixpkgs-lib),
# next to declarations of the few NixOS options the module sets, typed as
# NixOS types them. Wrong types and unknown options are errors, as on NixOS.
#   nix-instantiate --eval --strict --json --store dummy:// eval-module.nix \
#     --argstr nixpkgsLib /abs/nixpkgs-lib/lib --argstr module /abs/module.nix \
#     --arg config '{ pkgs, ... }: { services.pprof-exporter = { ... }; }'
{ nixpkgsLib, module, example ? null, config ? { } }:
let
  lib = import (/. + nixpkgsLib);
  inherit (lib) mkOption types;
  store = name: "/nix/store/00000000000000000000000000000000-${name}";
  drv = name: extra: { type = "derivation"; inherit name; outPath = store name; } // extra;
  # Store-writing builders return their text instead of writing it.
  pkgs = {
    writeText = name: text: drv name { inherit text; };
    writeShellScript = name: text: drv name { text = "#!/bin/sh\n" + text; };
    writeTextDir = path: text: drv (baseNameOf path) { files.${path} = text; };
    coreutils = drv "coreutils" { };
    gnused = drv "gnused" { };
    pprofExporterStub = drv "pprof-exporter" { };
  };

  strList = mkOption { type = types.listOf types.str; default = [ ]; };
  # NixOS's systemd unit option values: atoms or lists of atoms.
  atom = types.oneOf [ types.bool types.int types.str types.path ];
  nixos = {
    options = {
      assertions = mkOption {
        type = types.listOf (types.submodule {
          options.assertion = mkOption { type = types.bool; };
          options.message = mkOption { type = types.str; };
        });
        default = [ ];
      };
      environment.etc = mkOption {
        type = types.attrsOf (types.submodule { options.source = mkOption { type = types.path; }; });
        default = { };
      };
      systemd.services = mkOption {
        type = types.attrsOf (types.submodule {
          options = {
            description = mkOption { type = types.str; default = ""; };
            documentation = strList;
            wantedBy = strList;
            wants = strList;
            after = strList;
            reloadTriggers = mkOption { type = types.listOf atom; default = [ ]; };
            restartTriggers = mkOption { type = types.listOf atom; default = [ ]; };
            serviceConfig = mkOption {
              type = types.attrsOf (types.either atom (types.listOf atom));
              default = { };
            };
          };
        });
        default = { };
      };
      services.grafana.provision = {
        enable = mkOption { type = types.bool; default = false; };
        dashboards.settings = mkOption {
          type = types.nullOr (types.submodule {
            options.providers = mkOption { type = types.listOf (types.attrsOf types.anything); default = [ ]; };
          });
          default = null;
        };
        alerting.rules.path = mkOption { type = types.nullOr types.path; default = null; };
      };
      networking.hostName = mkOption { type = types.str; default = "storage"; };
      # Only example.nix sets these; their own modules are not here.
      services.prometheus = mkOption { type = types.attrsOf types.anything; default = { }; };
      services.tsnsrv = mkOption { type = types.attrsOf types.anything; default = { }; };
    };
  };

  evaluated = lib.evalModules {
    modules = [
      (/. + module)
      nixos
      { _module.args = { inherit pkgs; pprofExporterPackage = pkgs.pprofExporterStub; }; }
      config
    ] ++ lib.optional (example != null) (/. + example);
  };
  c = evaluated.config;
  p = c.services.pprof-exporter;
in
{
  enabled = p.enable;
  rules = builtins.fromJSON p.prometheusRules;
  rulesFileText = p.prometheusRulesFile.text;
  grafanaRules = builtins.fromJSON p.grafanaRulesFile.text;
  exporterConfig = if p.enable then builtins.fromJSON c.environment.etc."pprof-exporter/config.yml".source.text else null;
  failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) c.assertions);
  service = c.systemd.services.pprof-exporter or null;
  webConfigScript = p.webConfigScript.text;
  grafanaProvision = c.services.grafana.provision // {
    dashboards = if c.services.grafana.provision.dashboards.settings == null then null
      else map (pr: pr // { options = pr.options // { files = pr.options.path.files or null; }; })
        c.services.grafana.provision.dashboards.settings.providers;
    alertingRules = if c.services.grafana.provision.alerting.rules.path == null then null
      else builtins.fromJSON c.services.grafana.provision.alerting.rules.path.text;
  };
  prometheus = c.services.prometheus;
}
