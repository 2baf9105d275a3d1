#include "exporter/config.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>

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

namespace exporter {
namespace {

using config_internal::CheckSchedule;
using config_internal::ConfigMap;
using config_internal::ConfigNode;
using config_internal::MakeSchedule;
using config_internal::ParseFileSdConfig;
using config_internal::ParseTarget;
using config_internal::ParseYamlDocument;
using config_internal::ReadConfigFile;

constexpr char kDefaultTargetName[] = "default";
constexpr char kDefaultTargetUrl[] = "http://127.0.0.1:9099/debug/pprof/";

constexpr absl::string_view kTopLevelKeys[] = {"global", "targets",
                                               "file_sd_configs"};
constexpr absl::string_view kGlobalKeys[] = {
    "scrape_interval", "scrape_timeout", "top", "series_limit", "gc_regex",
    "archive"};
constexpr absl::string_view kArchiveKeys[] = {"dir", "max_age", "max_bytes"};

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

// Fills the global settings of `config`, which holds the defaults, and
// compiles the gc_regex if the section sets one.
absl::Status ParseGlobal(const ConfigNode& node, Config& config,
                         std::shared_ptr<const RE2>& gc_regex) {
  absl::StatusOr<ConfigMap> fields = node.Map(kGlobalKeys);
  if (!fields.ok()) return fields.status();
  const ConfigNode* interval = fields->Find("scrape_interval");
  const ConfigNode* timeout = fields->Find("scrape_timeout");
  if (interval != nullptr) {
    absl::StatusOr<absl::Duration> parsed = interval->PositiveDuration();
    if (!parsed.ok()) return parsed.status();
    config.scrape_interval = *parsed;
  }
  if (timeout != nullptr) {
    absl::StatusOr<absl::Duration> parsed = timeout->PositiveDuration();
    if (!parsed.ok()) return parsed.status();
    config.scrape_timeout = *parsed;
  }
  if (config.scrape_timeout > config.scrape_interval) {
    // Reported here once rather than for every target that inherits it.
    const ConfigNode* culprit = timeout != nullptr ? timeout : interval;
    return culprit->Error(absl::StrFormat(
        "scrape_timeout (%s) must not exceed scrape_interval (%s)",
        FormatPromDuration(config.scrape_timeout),
        FormatPromDuration(config.scrape_interval)));
  }
  if (const ConfigNode* top = fields->Find("top")) {
    absl::StatusOr<int64_t> parsed =
        top->Integer(1, std::numeric_limits<int>::max());
    if (!parsed.ok()) return parsed.status();
    config.top = static_cast<int>(*parsed);
  }
  if (const ConfigNode* limit = fields->Find("series_limit")) {
    absl::StatusOr<int64_t> parsed =
        limit->Integer(1, std::numeric_limits<int>::max());
    if (!parsed.ok()) return parsed.status();
    config.series_limit = static_cast<int>(*parsed);
  }
  if (const ConfigNode* gc_regex_node = fields->Find("gc_regex")) {
    absl::StatusOr<std::shared_ptr<const RE2>> parsed = gc_regex_node->Regex();
    if (!parsed.ok()) return parsed.status();
    gc_regex = *std::move(parsed);
    config.gc_regex = gc_regex->pattern();
  }
  if (const ConfigNode* archive = fields->Find("archive")) {
    absl::Status status = ParseArchive(*archive, config);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> ParseDocument(const ConfigNode& root) {
  absl::StatusOr<ConfigMap> sections = root.Map(kTopLevelKeys);
  if (!sections.ok()) return sections.status();
  Config config;
  // Compiled once; every target without its own gc_regex shares it.
  std::shared_ptr<const RE2> gc_regex;
  if (const ConfigNode* global = sections->Find("global")) {
    absl::Status status = ParseGlobal(*global, config, gc_regex);
    if (!status.ok()) return status;
  }
  if (gc_regex == nullptr) {
    gc_regex = std::make_shared<const RE2>(config.gc_regex, RE2::Quiet);
  }

  if (const ConfigNode* sd = sections->Find("file_sd_configs")) {
    absl::StatusOr<std::vector<ConfigNode>> sd_items = sd->List();
    if (!sd_items.ok()) return sd_items.status();
    for (const ConfigNode& item : *sd_items) {
      absl::StatusOr<FileSdConfig> parsed =
          ParseFileSdConfig(item, config, gc_regex);
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
        ParseTarget(item, config, gc_regex, line_of_name);
    if (!target.ok()) return target.status();
    config.targets.push_back(*std::move(target));
  }
  return config;
}

}  // namespace

absl::Duration ScrapeTimeout(profile::Kind kind, int cpu_seconds,
                             absl::Duration scrape_timeout) {
  if (kind != profile::Kind::kCpu) return scrape_timeout;
  return absl::Seconds(cpu_seconds) * 3 / 2 + scrape_timeout;
}

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
  target.name = std::string(name_eq_url.substr(0, equals));
  if (target.name.empty()) return flag_error("NAME must not be empty");
  absl::StatusOr<std::string> url =
      NormalizePprofBaseUrl(name_eq_url.substr(equals + 1));
  if (!url.ok()) return flag_error(url.status().message());
  target.url = *std::move(url);

  // `defaults` may come from code rather than a parsed file; check it too.
  if (defaults.top < 1) return flag_error("top must be at least 1");
  if (defaults.scrape_interval <= absl::ZeroDuration() ||
      defaults.scrape_timeout <= absl::ZeroDuration()) {
    return flag_error("scrape_interval and scrape_timeout must be positive");
  }
  target.reduce.top = defaults.top;
  target.series_limit = defaults.series_limit;
  auto gc_regex = std::make_shared<const RE2>(defaults.gc_regex, RE2::Quiet);
  if (!gc_regex->ok()) {
    return flag_error(absl::StrCat("bad gc_regex: ", gc_regex->error()));
  }
  target.reduce.gc_regex = std::move(gc_regex);

  for (profile::Kind kind : profile::kAllKinds) {
    ProfileSchedule schedule =
        MakeSchedule(kind, defaults.scrape_interval, defaults.scrape_timeout,
                     kDefaultCpuSeconds);
    absl::Status problem = CheckSchedule(schedule, defaults.scrape_timeout);
    if (!problem.ok()) {
      return flag_error(
          absl::StrCat(profile::KindName(kind), ": ", problem.message()));
    }
    target.profiles.push_back(schedule);
  }
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
