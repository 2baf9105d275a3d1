#include "exporter/config.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "exporter/config_target.h"
#include "exporter/config_yaml.h"
#include "exporter/duration.h"
#include "exporter/url.h"
#include "yaml-cpp/yaml.h"

// The config file as a document: its sections, the list of targets and of
// file SD entries, and the archive. What each target may set is in
// config_target.cc.
namespace exporter {
namespace {

using config_internal::ConfigMap;
using config_internal::ConfigNode;
using config_internal::ParseProfiles;
using config_internal::ParseTargetSettings;
using config_internal::ParseYamlDocument;
using config_internal::ReadConfigFile;

constexpr char kDefaultTargetName[] = "default";
constexpr char kDefaultTargetUrl[] = "http://127.0.0.1:9099/debug/pprof/";

constexpr absl::string_view kTopLevelKeys[] = {"global", "targets",
                                               "file_sd_configs"};
constexpr absl::string_view kGlobalKeys[] = {
    "scrape_interval", "scrape_timeout", "top", "series_limit", "gc_regex",
    "gc_idle_regex", "archive"};
constexpr absl::string_view kArchiveKeys[] = {"dir", "max_age", "max_bytes"};
constexpr absl::string_view kTargetKeys[] = {
    "name",     "url",          "labels",        "top",
    "gc_regex", "gc_idle_regex", "services",     "service_label",
    "service_count_regex", "profiles", "series_limit", "basic_auth",
    "authorization", "tls_config"};
// Every key of a target but name and url, plus the file SD keys.
std::vector<absl::string_view> FileSdKeys() {
  std::vector<absl::string_view> keys = {"files", "refresh_interval"};
  for (absl::string_view key : kTargetKeys) {
    if (key != "name" && key != "url") keys.push_back(key);
  }
  return keys;
}

// An absolute path ending in .json, .yml or .yaml, with glob(3) wildcards
// in the last path element only (its directory is what inotify watches).
absl::Status CheckFileSdPattern(absl::string_view pattern) {
  const size_t slash = pattern.rfind('/');
  const absl::string_view dir =
      slash == absl::string_view::npos ? "" : pattern.substr(0, slash);
  const absl::string_view base =
      slash == absl::string_view::npos ? pattern : pattern.substr(slash + 1);
  if (base.empty()) return absl::InvalidArgumentError("names no file");
  if (dir.find_first_of("*?[") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "wildcards are only allowed in the last path element");
  }
  if (!absl::EndsWith(base, ".json") && !absl::EndsWith(base, ".yml") &&
      !absl::EndsWith(base, ".yaml")) {
    return absl::InvalidArgumentError(
        "must end in .json, .yml or .yaml (as in Prometheus's file_sd)");
  }
  for (char c : pattern) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError("must not contain control characters");
    }
  }
  return absl::OkStatus();
}

// A byte count: digits, optionally followed by B, KiB, MiB, GiB or TiB.
absl::StatusOr<int64_t> ParseBytes(const ConfigNode& node) {
  absl::StatusOr<std::string> text = node.String();
  if (!text.ok()) return text.status();
  const size_t digits = text->find_first_not_of("0123456789");
  const std::string number = text->substr(0, digits);
  const std::string unit =
      digits == std::string::npos ? "" : text->substr(digits);
  int shift = -1;
  for (const auto& [name, bits] :
       {std::pair<const char*, int>{"", 0}, {"B", 0}, {"KiB", 10},
        {"MiB", 20}, {"GiB", 30}, {"TiB", 40}}) {
    if (unit == name) shift = bits;
  }
  int64_t value = 0;
  if (number.empty() || shift < 0 || !absl::SimpleAtoi(number, &value) ||
      value > (std::numeric_limits<int64_t>::max() >> shift)) {
    return node.Error(absl::StrFormat(
        "bad byte size \"%s\": want an integer, optionally followed by B, "
        "KiB, MiB, GiB or TiB, e.g. 10GiB",
        absl::CEscape(*text)));
  }
  if (value == 0) return node.Error("must be greater than 0");
  return value << shift;
}

absl::Status ParseArchive(const ConfigNode& node, Config& config) {
  absl::StatusOr<ConfigMap> fields = node.Map(kArchiveKeys);
  if (!fields.ok()) return fields.status();
  ArchiveConfig archive;
  const ConfigNode* dir = fields->Find("dir");
  if (dir == nullptr) return node.Error("dir is required");
  absl::StatusOr<std::string> path = dir->Path();
  if (!path.ok()) return path.status();
  archive.dir = *std::move(path);
  if (const ConfigNode* max_age = fields->Find("max_age")) {
    absl::StatusOr<absl::Duration> parsed = max_age->PositiveDuration();
    if (!parsed.ok()) return parsed.status();
    archive.max_age = *parsed;
  }
  if (const ConfigNode* max_bytes = fields->Find("max_bytes")) {
    absl::StatusOr<int64_t> parsed = ParseBytes(*max_bytes);
    if (!parsed.ok()) return parsed.status();
    archive.max_bytes = *parsed;
  }
  config.archive = std::move(archive);
  return absl::OkStatus();
}

absl::Status ParseGlobal(const ConfigNode& node, Config& config) {
  absl::StatusOr<ConfigMap> fields = node.Map(kGlobalKeys);
  if (!fields.ok()) return fields.status();
  absl::Status status = ParseTargetSettings(*fields, "", config.global);
  if (!status.ok()) return status;
  if (const ConfigNode* archive = fields->Find("archive")) {
    return ParseArchive(*archive, config);
  }
  return absl::OkStatus();
}

// `name` and `url` of an item of `targets:`. Target names must be unique:
// `line_of_name` holds those seen so far (name -> line) and gets this one.
absl::Status ParseNameAndUrl(
    const ConfigNode& node, const ConfigMap& fields, TargetConfig& target,
    absl::flat_hash_map<std::string, int>& line_of_name) {
  for (absl::string_view required : {"name", "url"}) {
    if (fields.Find(required) == nullptr) {
      return node.Error(
          absl::StrFormat("missing required key \"%s\"", required));
    }
  }
  const ConfigNode& name_node = *fields.Find("name");
  absl::StatusOr<std::string> name = name_node.String();
  if (!name.ok()) return name.status();
  if (name->empty()) return name_node.Error("must not be empty");
  const auto [first, inserted] = line_of_name.emplace(*name, name_node.line());
  if (!inserted) {
    return name_node.Error(
        absl::StrFormat("duplicate target name \"%s\" (first at line %d)",
                        *name, first->second));
  }
  target.name = *std::move(name);

  const ConfigNode& url_node = *fields.Find("url");
  absl::StatusOr<std::string> url = url_node.String();
  if (!url.ok()) return url.status();
  absl::StatusOr<std::string> base_url = NormalizePprofBaseUrl(*url);
  if (!base_url.ok()) return url_node.Error(base_url.status().message());
  target.url = *std::move(base_url);
  return absl::OkStatus();
}

// One item of `targets:`: `global` plus its own keys.
absl::StatusOr<TargetConfig> ParseTarget(
    const ConfigNode& node, const TargetSettings& global,
    absl::flat_hash_map<std::string, int>& line_of_name) {
  if (node.IsNull()) return node.Error("expected a map, got nothing");
  absl::StatusOr<ConfigMap> fields = node.Map(kTargetKeys);
  if (!fields.ok()) return fields.status();
  TargetConfig target;
  static_cast<TargetSettings&>(target) = global;
  absl::Status status = ParseNameAndUrl(node, *fields, target, line_of_name);
  if (!status.ok()) return status;
  status = ParseTargetSettings(*fields, target.url, target);
  if (!status.ok()) return status;
  absl::StatusOr<std::vector<ProfileSchedule>> profiles =
      ParseProfiles(fields->Find("profiles"), node, target);
  if (!profiles.ok()) return profiles.status();
  target.profiles = *std::move(profiles);
  return target;
}

// One item of `file_sd_configs:`: its files and refresh_interval, and as
// the defaults of its discovered targets `global` plus every other key.
absl::StatusOr<FileSdConfig> ParseFileSdConfig(const ConfigNode& node,
                                               const TargetSettings& global) {
  if (node.IsNull()) return node.Error("expected a map, got nothing");
  absl::StatusOr<ConfigMap> fields = node.Map(FileSdKeys());
  if (!fields.ok()) return fields.status();
  FileSdConfig sd;

  const ConfigNode* files = fields->Find("files");
  if (files == nullptr) return node.Error("missing required key \"files\"");
  absl::StatusOr<std::vector<ConfigNode>> patterns = files->List();
  if (!patterns.ok()) return patterns.status();
  if (patterns->empty()) return files->Error("must list at least one file");
  for (const ConfigNode& pattern_node : *patterns) {
    absl::StatusOr<std::string> pattern = pattern_node.Path();
    if (!pattern.ok()) return pattern.status();
    absl::Status problem = CheckFileSdPattern(*pattern);
    if (!problem.ok()) return pattern_node.Error(problem.message());
    sd.files.push_back(*std::move(pattern));
  }
  if (const ConfigNode* refresh = fields->Find("refresh_interval")) {
    absl::StatusOr<absl::Duration> parsed = refresh->PositiveDuration();
    if (!parsed.ok()) return parsed.status();
    // Every file is re-read each time: keep that from spinning.
    if (*parsed < absl::Seconds(1)) {
      return refresh->Error("must be at least 1s");
    }
    sd.refresh_interval = *parsed;
  }
  // name and url come from the files; an empty url skips the check that
  // tls_config goes with https:// (done per discovered target instead).
  sd.defaults = global;
  absl::Status status = ParseTargetSettings(*fields, "", sd.defaults);
  if (!status.ok()) return status;
  absl::StatusOr<std::vector<ProfileSchedule>> profiles =
      ParseProfiles(fields->Find("profiles"), node, sd.defaults);
  if (!profiles.ok()) return profiles.status();
  sd.defaults.profiles = *std::move(profiles);
  return sd;
}

absl::StatusOr<Config> ParseDocument(const ConfigNode& root) {
  absl::StatusOr<ConfigMap> sections = root.Map(kTopLevelKeys);
  if (!sections.ok()) return sections.status();
  Config config;
  if (const ConfigNode* global = sections->Find("global")) {
    absl::Status status = ParseGlobal(*global, config);
    if (!status.ok()) return status;
  }
  if (const ConfigNode* sd = sections->Find("file_sd_configs")) {
    absl::StatusOr<std::vector<ConfigNode>> sd_items = sd->List();
    if (!sd_items.ok()) return sd_items.status();
    for (const ConfigNode& item : *sd_items) {
      absl::StatusOr<FileSdConfig> parsed =
          ParseFileSdConfig(item, config.global);
      if (!parsed.ok()) return parsed.status();
      config.file_sd_configs.push_back(*std::move(parsed));
    }
  }
  const ConfigNode* targets = sections->Find("targets");
  if (targets == nullptr) return config;
  absl::StatusOr<std::vector<ConfigNode>> items = targets->List();
  if (!items.ok()) return items.status();
  absl::flat_hash_map<std::string, int> line_of_name;
  for (const ConfigNode& item : *items) {
    absl::StatusOr<TargetConfig> target =
        ParseTarget(item, config.global, line_of_name);
    if (!target.ok()) return target.status();
    config.targets.push_back(*std::move(target));
  }
  return config;
}

}  // namespace

absl::StatusOr<Config> ParseConfig(absl::string_view yaml_text,
                                   absl::string_view filename) {
  return ParseYamlDocument<Config>(yaml_text, filename, ParseDocument);
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  absl::StatusOr<std::string> contents = ReadConfigFile(path);
  if (!contents.ok()) return contents.status();
  return ParseConfig(*contents, path);
}

absl::StatusOr<TargetConfig> TargetFromFlag(absl::string_view name_eq_url,
                                            const Config& defaults) {
  auto flag_error = [name_eq_url](absl::string_view message) {
    // Never echo a URL that may hold a password.
    return absl::InvalidArgumentError(absl::StrFormat(
        "--target=%s: %s",
        ShownOrHidden(name_eq_url),
        message));
  };
  const size_t equals = name_eq_url.find('=');
  if (equals == absl::string_view::npos) return flag_error("expected NAME=URL");
  TargetConfig target;
  static_cast<TargetSettings&>(target) = defaults.global;
  target.name = std::string(name_eq_url.substr(0, equals));
  if (target.name.empty()) return flag_error("NAME must not be empty");
  absl::StatusOr<std::string> url =
      NormalizePprofBaseUrl(name_eq_url.substr(equals + 1));
  if (!url.ok()) return flag_error(url.status().message());
  target.url = *std::move(url);

  // `defaults` may come from code rather than a parsed file; check it too.
  if (target.reduce.top < 1) return flag_error("top must be at least 1");
  if (target.scrape_interval <= absl::ZeroDuration() ||
      target.scrape_timeout <= absl::ZeroDuration()) {
    return flag_error("scrape_interval and scrape_timeout must be positive");
  }
  // All kinds, each as implied by an absent `profiles:`; errors name the
  // kind ("profiles.cpu: ...") since there is no file.
  absl::StatusOr<std::vector<ProfileSchedule>> profiles = ParseProfiles(
      nullptr, ConfigNode(YAML::Node(YAML::NodeType::Null), ""), target);
  if (!profiles.ok()) return flag_error(profiles.status().message());
  target.profiles = *std::move(profiles);
  return target;
}

Config DefaultConfig() {
  Config config;
  // Constant, valid input: covered by a unit test, so value() cannot throw.
  config.targets.push_back(
      TargetFromFlag(absl::StrCat(kDefaultTargetName, "=", kDefaultTargetUrl),
                     config)
          .value());
  return config;
}

}  // namespace exporter
