# Evaluates deploy/nixos/module.nix with stub-lib.nix: every option at its
# default, then `overrides` on top. Returns what nixos_test.sh compares:
#   nix-instantiate --eval --strict --json --store dummy:// eval-module.nix \
#     --argstr module /abs/path/module.nix --arg overrides '{ enable = true; }'
{ module, overrides ? { } }:
let
  modulePath = if builtins.isString module then /. + module else module;
  lib = import ./stub-lib.nix;
  store = name: "/nix/store/00000000000000000000000000000000-${name}";
  pkgs = {
    writeText = name: text: { inherit name text; outPath = store name; };
    coreutils = store "coreutils";
  };
  # Lazy: the option declarations don't depend on config, so config can be
  # built from the defaults they declare.
  evaluated = import modulePath {
    inherit lib pkgs;
    config.services.pprof-exporter = defaults // overrides;
  };
  options = evaluated.options.services.pprof-exporter;
  defaults = builtins.mapAttrs (_: o: o.default or null) options;
  content = evaluated.config.content;
in
{
  enabled = evaluated.config.condition;
  rules = builtins.fromJSON options.prometheusRules.default;
  rulesFileText = options.prometheusRulesFile.default.text;
  exporterConfig = builtins.fromJSON content.environment.etc."pprof-exporter/config.yml".source.text;
  assertions = content.assertions;
  service = content.systemd.services.pprof-exporter;
}
