// The exporter's configuration: which pprof endpoints to scrape, how often,
// and how to reduce what comes back. It is read from a YAML file (format:
// README.md, "Configuration"), from --target=NAME=URL flags, or defaults to
// one local tsnsrv.
//
// Every target is the `global:` settings plus its own overrides, whether it
// is listed under `targets:`, given as --target or discovered from a file.
// Everything is validated here, up front, so that a typo or an impossible
// schedule stops the exporter at start-up with "file:line: key: problem"
// rather than surfacing later as a silently missing metric. This module only
// reads and checks settings: it does no network I/O and keeps no state.
#ifndef PPROF_EXPORTER_EXPORTER_CONFIG_H_
#define PPROF_EXPORTER_EXPORTER_CONFIG_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "exporter/fetch.h"
#include "profile/kind.h"
#include "profile/options.h"
#include "re2/re2.h"

namespace exporter {

// When and how long to scrape one profile kind of one target.
struct ProfileSchedule {
  profile::Kind kind = profile::Kind::kHeap;
  absl::Duration interval;  // time between scrape starts
  absl::Duration timeout;   // whole HTTP request, see ScrapeTimeout()
  int cpu_seconds = 0;      // kCpu only: the ?seconds= sampling window
  // goroutine_dump only: how long a goroutine waits before it counts as
  // stuck.
  absl::Duration stuck_after = absl::ZeroDuration();
};

// Per target; generous for top 10 and a few hundred service label values.
inline constexpr int kDefaultSeriesLimit = 2000;

// The regex of profile::kDefaultGcRegex, compiled once for the process.
const std::shared_ptr<const RE2>& DefaultGcRegex();

// What a target inherits and may override: the `global:` section parses
// into one, and every target is a copy of it with its own keys applied.
struct TargetSettings {
  // The defaults of every profile kind's interval and timeout (only
  // `global:` sets them; a target sets them per kind under `profiles:`).
  absl::Duration scrape_interval = absl::Seconds(60);
  absl::Duration scrape_timeout = absl::Seconds(10);
  // Constant labels for every series of this target, sorted by name.
  std::vector<std::pair<std::string, std::string>> labels;
  // Regexes are compiled where they are parsed: gc_regex is never null,
  // services.regex is set for kRegex.
  profile::ReduceOptions reduce{.gc_regex = DefaultGcRegex()};
  // In profile::kAllKinds order. Empty in `global:`: each target resolves
  // the kinds it scrapes against scrape_interval and scrape_timeout.
  std::vector<ProfileSchedule> profiles;
  // The most derived series this target may export, shared equally by its
  // profile kinds; see SeriesBudget().
  int series_limit = kDefaultSeriesLimit;
  // Credentials and TLS settings for the requests (basic_auth,
  // authorization, tls_config). Holds secrets: never log or export it.
  FetchOptions fetch;
};

struct TargetConfig : TargetSettings {
  std::string name;  // the value of the target="..." label
  // Base URL of net/http/pprof, always ending in '/', e.g.
  // http://127.0.0.1:9099/debug/pprof/; endpoints are appended to it.
  std::string url;
};

// Derived series one scrape of `target` may produce: an equal share of its
// series_limit per scraped kind, so the target's total never exceeds it. A
// scrape over budget fails (reason series_limit), like Prometheus's
// sample_limit.
inline int SeriesBudget(const TargetConfig& target) {
  return target.profiles.empty()
             ? target.series_limit
             : target.series_limit / static_cast<int>(target.profiles.size());
}

// One entry of `file_sd_configs:`: files in Prometheus's file-SD format
// whose targets are scraped with the settings of `defaults`.
struct FileSdConfig {
  // Path patterns ending in .json, .yml or .yaml, relative ones made
  // relative to the config file's directory; wildcards (glob(3): * ? [...])
  // only in the last path element.
  std::vector<std::string> files;
  // Re-read every file this often, in case a change was not noticed.
  absl::Duration refresh_interval = absl::Minutes(5);
  // Every setting of a static target except name and url, which each
  // discovered target gets from its file (see file_sd.h). `labels` are
  // overridden by a group's labels of the same name.
  TargetSettings defaults;
};

// global.archive: where and how long to keep every fetched profile
// (archive.h). Absent: no archive.
struct ArchiveConfig {
  std::string dir;  // absolute, or relative to the config file's directory
  absl::Duration max_age = absl::Hours(7 * 24);
  int64_t max_bytes = int64_t{10} << 30;
  bool operator==(const ArchiveConfig&) const = default;
};

struct Config {
  TargetSettings global;  // `global:` over the built-in defaults
  std::optional<ArchiveConfig> archive;
  // May be empty after ParseConfig (targets can come from flags instead);
  // the caller decides whether an empty list is an error.
  std::vector<TargetConfig> targets;
  // Targets discovered from files (file_sd.h), in config order.
  std::vector<FileSdConfig> file_sd_configs;
};

// CPU sampling window when a cpu entry does not say `seconds` (shortened to
// fit a shorter interval, see config_target.h).
inline constexpr int kDefaultCpuSeconds = 10;

// The request timeout for one scrape. Non-CPU profiles are snapshots, so the
// plain scrape timeout applies. A CPU profile request blocks for
// `cpu_seconds` while Go samples, so its timeout is that window plus half of
// it again (the sampler stops late and encoding a large profile takes time
// on a busy process) plus the usual scrape timeout for the network.
absl::Duration ScrapeTimeout(profile::Kind kind, int cpu_seconds,
                             absl::Duration scrape_timeout);

// Parses and validates a config file's contents (format: README.md).
// `filename` is only used in error messages. Relative file paths are
// relative to the config file's directory. Secret values never appear in
// error messages. Every unknown or duplicate key is an error. Errors are
// InvalidArgument with messages like
//   config.yml:7: targets[0].profiles.cpu.interval: bad duration "6O s": ...
absl::StatusOr<Config> ParseConfig(absl::string_view yaml_text,
                                   absl::string_view filename);

// Reads `path` and parses it with ParseConfig. NotFound / PermissionDenied /
// Unknown for unreadable files.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

// Builds a target from the CLI's --target=NAME=URL: `defaults.global` with
// all six profile kinds (its targets are ignored). The name is everything
// before the first '='.
absl::StatusOr<TargetConfig> TargetFromFlag(absl::string_view name_eq_url,
                                            const Config& defaults);

// What runs without a config file or flags: global defaults and one target
// "default" at http://127.0.0.1:9099/debug/pprof/, where tsnsrv usually
// serves pprof.
Config DefaultConfig();

// OK if `name` may be a constant label of a target (static labels and those
// of file SD groups): [a-zA-Z_][a-zA-Z0-9_]*, not starting with __ and not
// one the exporter sets (target, profile, function, service, reason).
// InvalidArgument without a location otherwise.
absl::Status CheckTargetLabelName(absl::string_view name);

// reduce's flags as (config key, value) pairs, e.g. {"gc_regex", "^x$"}:
// top, gc_regex, services, service_label and service_count_regex, checked
// by the rules of a target's keys of the same names and applied to
// `options`. Errors are InvalidArgument "key: problem".
absl::Status ApplyReduceOptions(
    absl::Span<const std::pair<std::string, std::string>> values,
    profile::ReduceOptions& options);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_CONFIG_H_
