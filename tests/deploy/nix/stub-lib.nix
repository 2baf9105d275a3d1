# Just enough of nixpkgs' lib to evaluate deploy/nixos/module.nix here,
# where nixpkgs cannot be fetched. Options evaluate to their declarations
# (eval-module.nix fills config from their defaults) and types are inert
# names: this checks what the module computes, not the module system's
# type checking.
rec {
  mkOption = attrs: attrs // { _type = "option"; };
  mkEnableOption = name: mkOption { default = false; description = "Whether to enable ${name}."; };
  mkIf = condition: content: { _type = "if"; inherit condition content; };
  literalExpression = text: { _type = "literalExpression"; inherit text; };

  filterAttrs = pred: set: builtins.listToAttrs (builtins.concatMap
    (name: if pred name set.${name} then [{ inherit name; value = set.${name}; }] else [ ])
    (builtins.attrNames set));
  unique = builtins.foldl' (acc: x: if builtins.elem x acc then acc else acc ++ [ x ]) [ ];
  escapeShellArg = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] s + "'";
  escapeShellArgs = args: builtins.concatStringsSep " " (map escapeShellArg args);

  types =
    let type = name: { _type = "optionType"; inherit name; };
    in {
      bool = type "bool";
      str = type "str";
      path = type "path";
      package = type "package";
      strMatching = _: type "strMatching";
      enum = _: type "enum";
      nullOr = _: type "nullOr";
      listOf = _: type "listOf";
      attrsOf = _: type "attrsOf";
      submodule = module: type "submodule" // { inherit module; };
      ints = { positive = type "positive"; unsigned = type "unsigned"; };
      numbers = { nonnegative = type "nonnegative"; between = _: _: type "between"; };
    };
}
