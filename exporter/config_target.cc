#include "exporter/config_target.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "exporter/duration.h"

namespace exporter::config_internal {

// Shared with the flag path so both enforce the same rules.
absl::Status CheckSchedule(const ProfileSchedule& schedule,
                           absl::Duration scrape_timeout) {
  if (schedule.kind == profile::Kind::kCpu) {
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

ProfileSchedule MakeSchedule(profile::Kind kind, absl::Duration interval,
                             absl::Duration scrape_timeout, int cpu_seconds) {
  ProfileSchedule schedule;
  schedule.kind = kind;
  schedule.interval = interval;
  schedule.cpu_seconds = kind == profile::Kind::kCpu ? cpu_seconds : 0;
  schedule.timeout = ScrapeTimeout(kind, schedule.cpu_seconds, scrape_timeout);
  return schedule;
}

namespace {

// The exporter sets these labels itself; a constant label with the same
// name would collide with them. Prometheus reserves the "__" prefix.
constexpr absl::string_view kReservedLabelNames[] = {
    "target", "profile", "function", "service", "reason"};

constexpr absl::string_view kTargetKeys[] = {
    "name",     "url",      "labels",        "top",
    "gc_regex", "services", "service_label", "service_count_regex",
    "profiles", "series_limit"};
constexpr absl::string_view kServiceKeys[] = {"services", "service_label",
                                              "service_count_regex"};
constexpr absl::string_view kScheduleKeys[] = {"interval", "timeout",
                                               "seconds"};

std::vector<absl::string_view> KindNames() {
  std::vector<absl::string_view> names;
  for (profile::Kind kind : profile::kAllKinds) {
    names.push_back(profile::KindName(kind));
  }
  return names;
}

// One entry under `profiles:` (or an implied one, as a null node).
absl::StatusOr<ProfileSchedule> ParseSchedule(profile::Kind kind,
                                              const ConfigNode& node,
                                              const Config& global) {
  absl::StatusOr<ConfigMap> fields = node.Map(kScheduleKeys);
  if (!fields.ok()) return fields.status();
  const ConfigNode* interval_node = fields->Find("interval");
  const ConfigNode* timeout_node = fields->Find("timeout");
  const ConfigNode* seconds_node = fields->Find("seconds");

  absl::Duration interval = global.scrape_interval;
  absl::Duration scrape_timeout = global.scrape_timeout;
  int64_t cpu_seconds = kDefaultCpuSeconds;
  if (interval_node != nullptr) {
    absl::StatusOr<absl::Duration> parsed = interval_node->PositiveDuration();
    if (!parsed.ok()) return parsed.status();
    interval = *parsed;
  }
  if (timeout_node != nullptr) {
    absl::StatusOr<absl::Duration> parsed = timeout_node->PositiveDuration();
    if (!parsed.ok()) return parsed.status();
    scrape_timeout = *parsed;
  }
  if (seconds_node != nullptr) {
    if (kind != profile::Kind::kCpu) {
      return seconds_node->Error("only the cpu profile takes seconds");
    }
    // A day at most keeps the window and its timeout far from overflow.
    absl::StatusOr<int64_t> parsed = seconds_node->Integer(1, 24 * 3600);
    if (!parsed.ok()) return parsed.status();
    cpu_seconds = *parsed;
  }

  ProfileSchedule schedule = MakeSchedule(kind, interval, scrape_timeout,
                                          static_cast<int>(cpu_seconds));
  absl::Status problem = CheckSchedule(schedule, scrape_timeout);
  if (!problem.ok()) {
    // Point at the value the user most likely has to change.
    const ConfigNode* culprit =
        kind == profile::Kind::kCpu ? seconds_node : timeout_node;
    if (culprit == nullptr) culprit = interval_node;
    if (culprit == nullptr) culprit = &node;
    return culprit->Error(problem.message());
  }
  return schedule;
}

absl::StatusOr<std::vector<ProfileSchedule>> ParseProfiles(
    const ConfigNode* profiles_node, const ConfigNode& target_node,
    const Config& global) {
  const std::vector<absl::string_view> kind_names = KindNames();
  std::optional<ConfigMap> listed;
  if (profiles_node != nullptr) {
    absl::StatusOr<ConfigMap> parsed = profiles_node->Map(kind_names);
    if (!parsed.ok()) return parsed.status();
    // An empty map means "nothing special", like leaving the key out: a
    // target that scrapes nothing is never what was meant.
    if (!parsed->entries().empty()) listed = *std::move(parsed);
  }

  std::vector<ProfileSchedule> schedules;
  for (profile::Kind kind : profile::kAllKinds) {
    const absl::string_view name = profile::KindName(kind);
    const ConfigNode implied =
        target_node.Virtual(absl::StrCat("profiles.", name));
    const ConfigNode* entry = &implied;
    if (listed.has_value()) {
      entry = listed->Find(name);
      if (entry == nullptr) continue;
    }
    absl::StatusOr<ProfileSchedule> schedule =
        ParseSchedule(kind, *entry, global);
    if (!schedule.ok()) return schedule.status();
    schedules.push_back(*schedule);
  }
  return schedules;
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
    if (!IsValidLabelName(entry.key)) {
      return entry.value.Error(
          "invalid label name; must match [a-zA-Z_][a-zA-Z0-9_]*");
    }
    const bool reserved = absl::StartsWith(entry.key, "__") ||
                          std::find(std::begin(kReservedLabelNames),
                                    std::end(kReservedLabelNames),
                                    entry.key) != std::end(kReservedLabelNames);
    if (reserved) {
      return entry.value.Error(absl::StrCat(
          "label name is reserved (", absl::StrJoin(kReservedLabelNames, ", "),
          " and names starting with __ are set by the exporter or "
          "Prometheus)"));
    }
    absl::StatusOr<std::string> value = entry.value.String();
    if (!value.ok()) return value.status();
    labels.emplace_back(entry.key, *std::move(value));
  }
  std::sort(labels.begin(), labels.end());
  return labels;
}

// At most one of services / service_label / service_count_regex.
absl::StatusOr<profile::ServiceCounting> ParseServiceCounting(
    const ConfigMap& fields) {
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
  profile::ServiceCounting counting;  // default: one static service
  if (chosen == nullptr) return counting;
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
  return counting;
}

}  // namespace

absl::StatusOr<TargetConfig> ParseTarget(
    const ConfigNode& node, const Config& global,
    const std::shared_ptr<const RE2>& global_gc_regex,
    absl::flat_hash_map<std::string, int>& line_of_name) {
  if (node.IsNull()) return node.Error("expected a map, got nothing");
  absl::StatusOr<ConfigMap> fields = node.Map(kTargetKeys);
  if (!fields.ok()) return fields.status();
  TargetConfig target;

  for (absl::string_view required : {"name", "url"}) {
    if (fields->Find(required) == nullptr) {
      return node.Error(
          absl::StrFormat("missing required key \"%s\"", required));
    }
  }
  const ConfigNode& name_node = *fields->Find("name");
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

  const ConfigNode& url_node = *fields->Find("url");
  absl::StatusOr<std::string> url = url_node.String();
  if (!url.ok()) return url.status();
  absl::StatusOr<std::string> base_url = NormalizePprofBaseUrl(*url);
  if (!base_url.ok()) return url_node.Error(base_url.status().message());
  target.url = *std::move(base_url);

  if (const ConfigNode* labels = fields->Find("labels")) {
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> parsed =
        ParseLabels(*labels);
    if (!parsed.ok()) return parsed.status();
    target.labels = *std::move(parsed);
  }

  target.reduce.top = global.top;
  if (const ConfigNode* top = fields->Find("top")) {
    absl::StatusOr<int64_t> parsed =
        top->Integer(1, std::numeric_limits<int>::max());
    if (!parsed.ok()) return parsed.status();
    target.reduce.top = static_cast<int>(*parsed);
  }
  target.series_limit = global.series_limit;
  if (const ConfigNode* limit = fields->Find("series_limit")) {
    absl::StatusOr<int64_t> parsed =
        limit->Integer(1, std::numeric_limits<int>::max());
    if (!parsed.ok()) return parsed.status();
    target.series_limit = static_cast<int>(*parsed);
  }
  target.reduce.gc_regex = global_gc_regex;
  if (const ConfigNode* gc_regex = fields->Find("gc_regex")) {
    absl::StatusOr<std::shared_ptr<const RE2>> parsed = gc_regex->Regex();
    if (!parsed.ok()) return parsed.status();
    target.reduce.gc_regex = *std::move(parsed);
  }
  absl::StatusOr<profile::ServiceCounting> services =
      ParseServiceCounting(*fields);
  if (!services.ok()) return services.status();
  target.reduce.services = *std::move(services);

  absl::StatusOr<std::vector<ProfileSchedule>> profiles =
      ParseProfiles(fields->Find("profiles"), node, global);
  if (!profiles.ok()) return profiles.status();
  target.profiles = *std::move(profiles);
  return target;
}

}  // namespace exporter::config_internal
