#include "exporter/config_target.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "exporter/config_auth.h"
#include "exporter/duration.h"
#include "exporter/kinds.h"
#include "exporter/url.h"
#include "yaml-cpp/yaml.h"

namespace exporter::config_internal {
namespace {

// The exporter sets these labels itself; a constant label with the same
// name would collide with them. Prometheus reserves the "__" prefix.
constexpr absl::string_view kReservedLabelNames[] = {
    "target", "profile", "function", "service", "reason"};

constexpr absl::string_view kServiceKeys[] = {"services", "service_label",
                                              "service_count_regex"};
constexpr absl::string_view kScheduleKeys[] = {"interval", "timeout",
                                               "seconds", "stuck_after"};

std::vector<absl::string_view> KindNames() {
  std::vector<absl::string_view> names;
  for (const KindSpec& spec : AllKindSpecs()) {
    names.push_back(profile::KindName(spec.kind));
  }
  return names;
}

// OK, or InvalidArgument saying why `schedule` cannot work (without a
// location; callers add one). `scrape_timeout` is the timeout before
// ScrapeTimeout() added the CPU window.
absl::Status CheckSchedule(const ProfileSchedule& schedule,
                           absl::Duration scrape_timeout) {
  if (SpecOf(schedule.kind).sampled) {
    // The next CPU scrape would start while Go is still sampling.
    if (absl::Seconds(schedule.cpu_seconds) >= schedule.interval) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "cpu seconds (%d) must be less than interval (%s)",
          schedule.cpu_seconds, FormatPromDuration(schedule.interval)));
    }
  } else if (scrape_timeout > schedule.interval) {
    // Same rule as Prometheus: scrapes of one endpoint must not overlap.
    return absl::InvalidArgumentError(
        absl::StrFormat("timeout (%s) must not exceed interval (%s)",
                        FormatPromDuration(scrape_timeout),
                        FormatPromDuration(schedule.interval)));
  }
  return absl::OkStatus();
}

// The schedule of `kind` from the values set on it (nullopt: not set) and
// what it inherits. As in Prometheus's ScrapeConfig.Validate, only a value
// set on the kind can conflict with its interval:
//   if c.ScrapeTimeout > c.ScrapeInterval { return fmt.Errorf(...) }
//   if c.ScrapeTimeout == 0 {
//     c.ScrapeTimeout = min(globalConfig.ScrapeTimeout, c.ScrapeInterval) }
// An unset CPU window shrinks the same way, to the interval less 1s (at
// least 1s); the request timeout follows it (ScrapeTimeout()).
absl::StatusOr<ProfileSchedule> ResolveSchedule(
    profile::Kind kind, std::optional<absl::Duration> interval,
    std::optional<absl::Duration> timeout, std::optional<int> cpu_seconds,
    const TargetSettings& inherited) {
  ProfileSchedule schedule;
  schedule.kind = kind;
  // A kind's own default (goroutineleak's hours) beats scrape_interval:
  // those kinds are costly for the target at the usual intervals.
  schedule.interval = interval.value_or(
      SpecOf(kind).default_interval.value_or(inherited.scrape_interval));
  const absl::Duration scrape_timeout = timeout.value_or(
      std::min(inherited.scrape_timeout, schedule.interval));
  if (SpecOf(kind).sampled) {
    schedule.cpu_seconds = cpu_seconds.value_or(static_cast<int>(std::clamp(
        absl::ToInt64Seconds(schedule.interval - absl::Seconds(1)), int64_t{1},
        int64_t{kDefaultCpuSeconds})));
  }
  schedule.timeout = ScrapeTimeout(kind, schedule.cpu_seconds, scrape_timeout);
  absl::Status problem = CheckSchedule(schedule, scrape_timeout);
  if (!problem.ok()) return problem;
  return schedule;
}

// One entry under `profiles:` (or an implied one, as a null node). The
// per-kind rules live here and in ResolveSchedule only.
absl::StatusOr<ProfileSchedule> ParseSchedule(profile::Kind kind,
                                              const ConfigNode& node,
                                              const TargetSettings& inherited) {
  absl::StatusOr<ConfigMap> fields = node.Map(kScheduleKeys);
  if (!fields.ok()) return fields.status();
  const ConfigNode* interval_node = fields->Find("interval");
  const ConfigNode* timeout_node = fields->Find("timeout");
  const ConfigNode* seconds_node = fields->Find("seconds");
  const ConfigNode* stuck_after_node = fields->Find("stuck_after");
  std::optional<absl::Duration> interval, timeout;
  std::optional<int> cpu_seconds;
  for (auto [key_node, value] : {std::pair{interval_node, &interval},
                                 std::pair{timeout_node, &timeout}}) {
    if (key_node == nullptr) continue;
    absl::StatusOr<absl::Duration> parsed = key_node->PositiveDuration();
    if (!parsed.ok()) return parsed.status();
    *value = *parsed;
  }
  if (seconds_node != nullptr) {
    if (!SpecOf(kind).sampled) {
      return seconds_node->Error("only the cpu profile takes seconds");
    }
    // A day at most keeps the window and its timeout far from overflow.
    absl::StatusOr<int64_t> parsed = seconds_node->Integer(1, 24 * 3600);
    if (!parsed.ok()) return parsed.status();
    cpu_seconds = static_cast<int>(*parsed);
  }
  absl::Duration stuck_after = kDefaultStuckAfter;
  if (stuck_after_node != nullptr) {
    if (!SpecOf(kind).takes_stuck_after) {
      return stuck_after_node->Error(
          "only the goroutine_dump profile takes stuck_after");
    }
    absl::StatusOr<absl::Duration> parsed = stuck_after_node->PositiveDuration();
    if (!parsed.ok()) return parsed.status();
    stuck_after = *parsed;
  }
  absl::StatusOr<ProfileSchedule> schedule =
      ResolveSchedule(kind, interval, timeout, cpu_seconds, inherited);
  if (schedule.ok() && SpecOf(kind).takes_stuck_after) {
    schedule->stuck_after = stuck_after;
  }
  if (!schedule.ok()) {
    // Point at the value the user most likely has to change.
    const ConfigNode* culprit =
        SpecOf(kind).sampled ? seconds_node : timeout_node;
    if (culprit == nullptr) culprit = interval_node;
    if (culprit == nullptr) culprit = &node;
    return culprit->Error(schedule.status().message());
  }
  return schedule;
}

bool IsValidLabelName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(name[0])) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseLabels(
    const ConfigNode& node) {
  absl::StatusOr<ConfigMap> entries = node.FreeFormMap();
  if (!entries.ok()) return entries.status();
  std::vector<std::pair<std::string, std::string>> labels;
  for (const ConfigEntry& entry : entries->entries()) {
    absl::Status name_ok = CheckTargetLabelName(entry.key);
    if (!name_ok.ok()) return entry.value.Error(name_ok.message());
    absl::StatusOr<std::string> value = entry.value.String();
    if (!value.ok()) return value.status();
    labels.emplace_back(entry.key, *std::move(value));
  }
  std::sort(labels.begin(), labels.end());
  return labels;
}

// At most one of services / service_label / service_count_regex; none
// keeps `counting` as it is.
absl::Status ParseServiceCounting(const ConfigMap& fields,
                                  profile::ServiceCounting& counting) {
  const ConfigNode* chosen = nullptr;
  for (absl::string_view key : kServiceKeys) {
    const ConfigNode* node = fields.Find(key);
    if (node == nullptr) continue;
    if (chosen != nullptr) {
      return node->Error(absl::StrCat(
          "only one of ", absl::StrJoin(kServiceKeys, ", "), " may be set"));
    }
    chosen = node;
  }
  if (chosen == nullptr) return absl::OkStatus();
  counting = profile::ServiceCounting();
  if (chosen == fields.Find("services")) {
    absl::StatusOr<int64_t> count =
        chosen->Integer(1, std::numeric_limits<int64_t>::max());
    if (!count.ok()) return count.status();
    counting.method = profile::ServiceCounting::Method::kStatic;
    counting.static_count = *count;
  } else if (chosen == fields.Find("service_label")) {
    absl::StatusOr<std::string> label = chosen->String();
    if (!label.ok()) return label.status();
    if (label->empty()) return chosen->Error("must not be empty");
    counting.method = profile::ServiceCounting::Method::kLabel;
    counting.label = *std::move(label);
  } else {
    absl::StatusOr<std::shared_ptr<const RE2>> regex = chosen->Regex();
    if (!regex.ok()) return regex.status();
    counting.method = profile::ServiceCounting::Method::kRegex;
    counting.regex = *std::move(regex);
  }
  return absl::OkStatus();
}

// top, gc_regex, gc_idle_regex and service counting: a target's keys and
// reduce's flags.
absl::Status ParseReduceOptions(const ConfigMap& fields,
                                profile::ReduceOptions& reduce) {
  if (const ConfigNode* top = fields.Find("top")) {
    absl::StatusOr<int64_t> parsed =
        top->Integer(1, std::numeric_limits<int>::max());
    if (!parsed.ok()) return parsed.status();
    reduce.top = static_cast<int>(*parsed);
  }
  for (auto [key, regex] : {std::pair{"gc_regex", &reduce.gc_regex},
                             std::pair{"gc_idle_regex", &reduce.gc_idle_regex}}) {
    const ConfigNode* node = fields.Find(key);
    if (node == nullptr) continue;
    absl::StatusOr<std::shared_ptr<const RE2>> parsed = node->Regex();
    if (!parsed.ok()) return parsed.status();
    *regex = *std::move(parsed);
  }
  return ParseServiceCounting(fields, reduce.services);
}

// scrape_interval and scrape_timeout of `global:`. As in Prometheus's
// GlobalConfig.UnmarshalYAML, a timeout that is set must not exceed the
// interval, and the default one is lowered to it:
//   if gc.ScrapeTimeout > gc.ScrapeInterval { return errors.New(...) }
//   if gc.ScrapeTimeout == 0 {
//     gc.ScrapeTimeout = min(DefaultGlobalConfig.ScrapeTimeout, ...) }
absl::Status ParseScrapeDefaults(const ConfigMap& fields,
                                 TargetSettings& settings) {
  if (const ConfigNode* interval = fields.Find("scrape_interval")) {
    absl::StatusOr<absl::Duration> parsed = interval->PositiveDuration();
    if (!parsed.ok()) return parsed.status();
    settings.scrape_interval = *parsed;
  }
  const ConfigNode* timeout = fields.Find("scrape_timeout");
  if (timeout == nullptr) {
    settings.scrape_timeout =
        std::min(settings.scrape_timeout, settings.scrape_interval);
    return absl::OkStatus();
  }
  absl::StatusOr<absl::Duration> parsed = timeout->PositiveDuration();
  if (!parsed.ok()) return parsed.status();
  settings.scrape_timeout = *parsed;
  if (settings.scrape_timeout > settings.scrape_interval) {
    return timeout->Error(absl::StrFormat(
        "scrape_timeout (%s) must not exceed scrape_interval (%s)",
        FormatPromDuration(settings.scrape_timeout),
        FormatPromDuration(settings.scrape_interval)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseTargetSettings(const ConfigMap& fields,
                                 absl::string_view url,
                                 TargetSettings& settings) {
  absl::Status status = ParseScrapeDefaults(fields, settings);
  if (!status.ok()) return status;
  absl::StatusOr<FetchOptions> fetch = ParseFetchOptions(fields, url);
  if (!fetch.ok()) return fetch.status();
  settings.fetch = *std::move(fetch);
  if (const ConfigNode* labels = fields.Find("labels")) {
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> parsed =
        ParseLabels(*labels);
    if (!parsed.ok()) return parsed.status();
    settings.labels = *std::move(parsed);
  }
  if (const ConfigNode* limit = fields.Find("series_limit")) {
    absl::StatusOr<int64_t> parsed =
        limit->Integer(1, std::numeric_limits<int>::max());
    if (!parsed.ok()) return parsed.status();
    settings.series_limit = static_cast<int>(*parsed);
  }
  return ParseReduceOptions(fields, settings.reduce);
}

absl::StatusOr<std::vector<ProfileSchedule>> ParseProfiles(
    const ConfigNode* profiles, const ConfigNode& target_node,
    const TargetSettings& inherited) {
  std::optional<ConfigMap> listed;
  if (profiles != nullptr) {
    absl::StatusOr<ConfigMap> parsed = profiles->Map(KindNames());
    if (!parsed.ok()) return parsed.status();
    // An empty map means "nothing special", like leaving the key out: a
    // target that scrapes nothing is never what was meant.
    if (!parsed->entries().empty()) listed = *std::move(parsed);
  }
  std::vector<ProfileSchedule> schedules;
  for (const KindSpec& spec : AllKindSpecs()) {
    const profile::Kind kind = spec.kind;
    const absl::string_view name = profile::KindName(kind);
    const ConfigNode implied =
        target_node.Virtual(absl::StrCat("profiles.", name));
    const ConfigNode* entry = &implied;
    if (listed.has_value()) {
      entry = listed->Find(name);
      if (entry == nullptr) continue;
    } else if (!spec.on_by_default) {
      continue;
    }
    absl::StatusOr<ProfileSchedule> schedule =
        ParseSchedule(kind, *entry, inherited);
    if (!schedule.ok()) return schedule.status();
    schedules.push_back(*schedule);
  }
  return schedules;
}

}  // namespace exporter::config_internal

namespace exporter {

const std::shared_ptr<const RE2>& DefaultGcRegex() {
  static const auto* const regex =
      new std::shared_ptr<const RE2>(std::make_shared<const RE2>(
          profile::kDefaultGcRegex));
  return *regex;
}

absl::Duration ScrapeTimeout(profile::Kind kind, int cpu_seconds,
                             absl::Duration scrape_timeout) {
  if (!SpecOf(kind).sampled) return scrape_timeout;
  return absl::Seconds(cpu_seconds) * 3 / 2 + scrape_timeout;
}

absl::Status CheckTargetLabelName(absl::string_view name) {
  using config_internal::kReservedLabelNames;
  if (!config_internal::IsValidLabelName(name)) {
    return absl::InvalidArgumentError(
        "invalid label name; must match [a-zA-Z_][a-zA-Z0-9_]*");
  }
  const bool reserved =
      absl::StartsWith(name, "__") ||
      std::find(std::begin(kReservedLabelNames), std::end(kReservedLabelNames),
                name) != std::end(kReservedLabelNames);
  if (reserved) {
    return absl::InvalidArgumentError(absl::StrCat(
        "label name is reserved (", absl::StrJoin(kReservedLabelNames, ", "),
        " and names starting with __ are set by the exporter or "
        "Prometheus)"));
  }
  return absl::OkStatus();
}

absl::Status ApplyReduceOptions(
    absl::Span<const std::pair<std::string, std::string>> values,
    profile::ReduceOptions& options) {
  // The values become a YAML map without a file, so they meet exactly the
  // checks of the config keys; errors read "key: problem".
  YAML::Node map(YAML::NodeType::Map);
  for (const auto& [key, value] : values) map[key] = value;
  const config_internal::ConfigNode node(map, /*filename=*/"");
  absl::StatusOr<config_internal::ConfigMap> fields = node.Map(
      {"top", "gc_regex", "gc_idle_regex", "services", "service_label",
       "service_count_regex"});
  if (!fields.ok()) return fields.status();
  return config_internal::ParseReduceOptions(*fields, options);
}

}  // namespace exporter
