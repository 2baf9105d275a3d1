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
#include "exporter/url.h"

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
    "name",     "url",          "labels",        "top",
    "gc_regex", "services",     "service_label", "service_count_regex",
    "profiles", "series_limit", "basic_auth",    "authorization",
    "tls_config"};
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

constexpr absl::string_view kBasicAuthKeys[] = {"username", "password",
                                                "password_file"};
constexpr absl::string_view kAuthorizationKeys[] = {"type", "credentials",
                                                    "credentials_file"};
constexpr absl::string_view kTlsConfigKeys[] = {
    "ca_file",     "cert_file",            "key_file",
    "server_name", "insecure_skip_verify", "min_version"};
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
    absl::Status name_ok = CheckTargetLabelName(entry.key);
    if (!name_ok.ok()) return entry.value.Error(name_ok.message());
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

// An inline secret. It goes into a request header; errors never show it.
absl::StatusOr<std::string> SecretString(const ConfigNode& node) {
  absl::StatusOr<std::string> value = node.String();  // errors: type only
  if (!value.ok()) return value.status();
  if (HasControlChar(*value)) {
    return node.Error("must not contain control characters (value not shown)");
  }
  return value;
}

// At most one of keys `a` and `b` of `fields`; returns the one set, or null.
absl::StatusOr<const ConfigNode*> AtMostOne(const ConfigMap& fields,
                                            absl::string_view a,
                                            absl::string_view b) {
  const ConfigNode* first = fields.Find(a);
  const ConfigNode* second = fields.Find(b);
  if (first != nullptr && second != nullptr) {
    return second->Error(
        absl::StrFormat("only one of %s, %s may be set", a, b));
  }
  return first != nullptr ? first : second;
}

absl::Status ParseBasicAuth(const ConfigNode& node, FetchOptions& out) {
  absl::StatusOr<ConfigMap> fields = node.Map(kBasicAuthKeys);
  if (!fields.ok()) return fields.status();
  const ConfigNode* username = fields->Find("username");
  if (username == nullptr) {
    return node.Error("missing required key \"username\"");
  }
  absl::StatusOr<std::string> name = username->String();
  if (!name.ok()) return name.status();
  if (name->find(':') != std::string::npos || HasControlChar(*name)) {
    return username->Error("must not contain ':' or control characters");
  }
  absl::StatusOr<const ConfigNode*> password =
      AtMostOne(*fields, "password", "password_file");
  if (!password.ok()) return password.status();
  out.auth = FetchOptions::Auth::kBasic;
  out.username = *std::move(name);
  if (*password == nullptr) {
    // No password: an empty one, as in Prometheus.
  } else if (*password == fields->Find("password")) {
    absl::StatusOr<std::string> value = SecretString(**password);
    if (!value.ok()) return value.status();
    out.password = *std::move(value);
  } else {
    absl::StatusOr<std::string> path = (*password)->Path();
    if (!path.ok()) return path.status();
    out.password_file = *std::move(path);
  }
  return absl::OkStatus();
}

// An HTTP auth-scheme token (RFC 9110 token characters).
bool IsToken(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(c) ||
           absl::string_view("!#$%&'*+-.^_`|~").find(c) !=
               absl::string_view::npos;
  });
}

absl::Status ParseAuthorization(const ConfigNode& node, FetchOptions& out) {
  absl::StatusOr<ConfigMap> fields = node.Map(kAuthorizationKeys);
  if (!fields.ok()) return fields.status();
  out.auth = FetchOptions::Auth::kAuthorization;
  if (const ConfigNode* type = fields->Find("type")) {
    absl::StatusOr<std::string> value = type->String();
    if (!value.ok()) return value.status();
    if (!IsToken(*value)) return type->Error("must be a single word");
    if (absl::EqualsIgnoreCase(*value, "basic")) {
      return type->Error("Basic is not allowed here; use basic_auth");
    }
    out.auth_type = *std::move(value);
  }
  absl::StatusOr<const ConfigNode*> credentials =
      AtMostOne(*fields, "credentials", "credentials_file");
  if (!credentials.ok()) return credentials.status();
  if (*credentials == nullptr) {
    return node.Error("needs credentials or credentials_file");
  }
  if (*credentials == fields->Find("credentials")) {
    absl::StatusOr<std::string> value = SecretString(**credentials);
    if (!value.ok()) return value.status();
    if (value->empty()) return (*credentials)->Error("must not be empty");
    out.credentials = *std::move(value);
  } else {
    absl::StatusOr<std::string> path = (*credentials)->Path();
    if (!path.ok()) return path.status();
    out.credentials_file = *std::move(path);
  }
  return absl::OkStatus();
}

absl::Status ParseTlsConfig(const ConfigNode& node, absl::string_view url,
                            TlsClientOptions& out) {
  // An empty url: file SD defaults, checked per discovered target.
  if (!url.empty() && !absl::StartsWith(url, "https://")) {
    return node.Error("the url must be https:// to use tls_config");
  }
  absl::StatusOr<ConfigMap> fields = node.Map(kTlsConfigKeys);
  if (!fields.ok()) return fields.status();
  for (auto [key, field] : {std::pair{"ca_file", &out.ca_file},
                            std::pair{"cert_file", &out.cert_file},
                            std::pair{"key_file", &out.key_file}}) {
    if (const ConfigNode* value = fields->Find(key)) {
      absl::StatusOr<std::string> path = value->Path();
      if (!path.ok()) return path.status();
      *field = *std::move(path);
    }
  }
  if (out.cert_file.empty() != out.key_file.empty()) {
    const ConfigNode* set = fields->Find("cert_file");
    if (set == nullptr) set = fields->Find("key_file");
    return set->Error("cert_file and key_file must be set together");
  }
  if (const ConfigNode* name = fields->Find("server_name")) {
    absl::StatusOr<std::string> value = name->String();
    if (!value.ok()) return value.status();
    if (value->empty() || HasControlChar(*value)) {
      return name->Error("must be a host name");
    }
    out.server_name = *std::move(value);
  }
  if (const ConfigNode* skip = fields->Find("insecure_skip_verify")) {
    absl::StatusOr<bool> value = skip->Bool();
    if (!value.ok()) return value.status();
    out.insecure_skip_verify = *value;
  }
  if (const ConfigNode* version = fields->Find("min_version")) {
    absl::StatusOr<int> value = version->TlsVersion();
    if (!value.ok()) return value.status();
    out.min_version = *value;
  }
  return absl::OkStatus();
}

// basic_auth, authorization and tls_config of one target.
absl::StatusOr<FetchOptions> ParseFetchOptions(const ConfigMap& fields,
                                               absl::string_view url) {
  FetchOptions out;
  absl::StatusOr<const ConfigNode*> auth =
      AtMostOne(fields, "basic_auth", "authorization");
  if (!auth.ok()) return auth.status();
  if (*auth != nullptr) {
    absl::Status status = *auth == fields.Find("basic_auth")
                              ? ParseBasicAuth(**auth, out)
                              : ParseAuthorization(**auth, out);
    if (!status.ok()) return status;
  }
  if (const ConfigNode* tls = fields.Find("tls_config")) {
    absl::Status status = ParseTlsConfig(*tls, url, out.tls);
    if (!status.ok()) return status;
  }
  return out;
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

  absl::Status settings =
      ParseTargetSettings(*fields, node, global, global_gc_regex, target);
  if (!settings.ok()) return settings;
  return target;
}

absl::StatusOr<FileSdConfig> ParseFileSdConfig(
    const ConfigNode& node, const Config& global,
    const std::shared_ptr<const RE2>& global_gc_regex) {
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
  absl::Status settings =
      ParseTargetSettings(*fields, node, global, global_gc_regex, sd.defaults);
  if (!settings.ok()) return settings;
  return sd;
}

absl::Status ParseTargetSettings(
    const ConfigMap& fields, const ConfigNode& node, const Config& global,
    const std::shared_ptr<const RE2>& global_gc_regex, TargetConfig& target) {
  absl::StatusOr<FetchOptions> fetch = ParseFetchOptions(fields, target.url);
  if (!fetch.ok()) return fetch.status();
  target.fetch = *std::move(fetch);

  if (const ConfigNode* labels = fields.Find("labels")) {
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> parsed =
        ParseLabels(*labels);
    if (!parsed.ok()) return parsed.status();
    target.labels = *std::move(parsed);
  }

  target.reduce.top = global.top;
  if (const ConfigNode* top = fields.Find("top")) {
    absl::StatusOr<int64_t> parsed =
        top->Integer(1, std::numeric_limits<int>::max());
    if (!parsed.ok()) return parsed.status();
    target.reduce.top = static_cast<int>(*parsed);
  }
  target.series_limit = global.series_limit;
  if (const ConfigNode* limit = fields.Find("series_limit")) {
    absl::StatusOr<int64_t> parsed =
        limit->Integer(1, std::numeric_limits<int>::max());
    if (!parsed.ok()) return parsed.status();
    target.series_limit = static_cast<int>(*parsed);
  }
  target.reduce.gc_regex = global_gc_regex;
  if (const ConfigNode* gc_regex = fields.Find("gc_regex")) {
    absl::StatusOr<std::shared_ptr<const RE2>> parsed = gc_regex->Regex();
    if (!parsed.ok()) return parsed.status();
    target.reduce.gc_regex = *std::move(parsed);
  }
  absl::StatusOr<profile::ServiceCounting> services =
      ParseServiceCounting(fields);
  if (!services.ok()) return services.status();
  target.reduce.services = *std::move(services);

  absl::StatusOr<std::vector<ProfileSchedule>> profiles =
      ParseProfiles(fields.Find("profiles"), node, global);
  if (!profiles.ok()) return profiles.status();
  target.profiles = *std::move(profiles);
  return absl::OkStatus();
}

}  // namespace exporter::config_internal

namespace exporter {

absl::Status CheckTargetLabelName(absl::string_view name) {
  if (!config_internal::IsValidLabelName(name)) {
    return absl::InvalidArgumentError(
        "invalid label name; must match [a-zA-Z_][a-zA-Z0-9_]*");
  }
  const bool reserved =
      absl::StartsWith(name, "__") ||
      std::find(std::begin(config_internal::kReservedLabelNames),
                std::end(config_internal::kReservedLabelNames),
                name) != std::end(config_internal::kReservedLabelNames);
  if (reserved) {
    return absl::InvalidArgumentError(
        absl::StrCat("label name is reserved (",
                     absl::StrJoin(config_internal::kReservedLabelNames, ", "),
                     " and names starting with __ are set by the exporter or "
                     "Prometheus)"));
  }
  return absl::OkStatus();
}

}  // namespace exporter
