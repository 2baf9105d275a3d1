// Internal to config.cc: turns one entry of `targets:` into a TargetConfig,
// and the schedule rules that --target flags must obey as well.
//
// Kept apart from config.cc only to keep files short. Like the rest of the
// config module this reads and validates; it must not touch the network or
// decide anything about scheduling beyond checking that a schedule can work.
#ifndef PPROF_EXPORTER_EXPORTER_CONFIG_TARGET_H_
#define PPROF_EXPORTER_EXPORTER_CONFIG_TARGET_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exporter/config.h"
#include "exporter/config_yaml.h"
#include "profile/kind.h"
#include "re2/re2.h"

namespace exporter::config_internal {

// A schedule with its timeout derived by ScrapeTimeout(); cpu_seconds is
// kept only for kCpu.
ProfileSchedule MakeSchedule(profile::Kind kind, absl::Duration interval,
                             absl::Duration scrape_timeout, int cpu_seconds);

// OK, or InvalidArgument saying why `schedule` cannot work (without a
// location; callers add one). `scrape_timeout` is the configured timeout
// before ScrapeTimeout() added the CPU window.
absl::Status CheckSchedule(const ProfileSchedule& schedule,
                           absl::Duration scrape_timeout);

// One item of `targets:`. `global` holds the parsed global section;
// `global_gc_regex` is its compiled gc_regex, shared by every target that
// does not set its own. Target names must be unique: `line_of_name` holds
// those seen so far (name -> line) and gets this target's name added.
absl::StatusOr<TargetConfig> ParseTarget(
    const ConfigNode& node, const Config& global,
    const std::shared_ptr<const RE2>& global_gc_regex,
    absl::flat_hash_map<std::string, int>& line_of_name);

// One item of `file_sd_configs:`: its files and refresh_interval, and as
// the defaults of its discovered targets every key of a target except name
// and url (parsed by ParseTargetSettings).
absl::StatusOr<FileSdConfig> ParseFileSdConfig(
    const ConfigNode& node, const Config& global,
    const std::shared_ptr<const RE2>& global_gc_regex);

// The keys of `fields` (the map at `node`) that a static target and the
// defaults of file SD share: labels, top, series_limit, gc_regex, service
// counting, profiles, basic_auth, authorization, tls_config. With an empty
// target.url, tls_config is accepted without the https:// check.
absl::Status ParseTargetSettings(
    const ConfigMap& fields, const ConfigNode& node, const Config& global,
    const std::shared_ptr<const RE2>& global_gc_regex, TargetConfig& target);

}  // namespace exporter::config_internal

#endif  // PPROF_EXPORTER_EXPORTER_CONFIG_TARGET_H_
