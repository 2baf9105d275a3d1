// Internal to the config module: the settings a target inherits and
// overrides (TargetSettings), read from the map of `global:`, of one item of
// `targets:` or of `file_sd_configs:`, by the same function.
//
// Inheritance follows Prometheus (config/config.go, ScrapeConfig.Validate):
// a timeout set on a profile kind must not exceed its interval, while an
// inherited or default one is lowered to it. Likewise a default CPU window
// shrinks to fit its interval; one set on the kind is checked instead.
#ifndef PPROF_EXPORTER_EXPORTER_CONFIG_CONFIG_TARGET_H_
#define PPROF_EXPORTER_EXPORTER_CONFIG_CONFIG_TARGET_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "exporter/config/config.h"
#include "exporter/config/config_yaml.h"

namespace exporter::config_internal {

// Applies the keys of `fields` (the map at a section) to `settings`, which
// holds what they override: scrape_interval, scrape_timeout, labels, top,
// series_limit, gc_regex, service counting, basic_auth, authorization and
// tls_config. Which of them a section may hold is up to the caller's
// ConfigNode::Map(). tls_config needs an https:// `url` unless it is empty.
absl::Status ParseTargetSettings(const ConfigMap& fields,
                                 absl::string_view url,
                                 TargetSettings& settings);

// The schedules of a target: the kinds listed under `profiles` (null or an
// empty map: all kinds), each at `inherited` unless it sets its own
// interval, timeout or seconds. Errors about an implied kind name
// `target_node`.profiles.KIND.
absl::StatusOr<std::vector<ProfileSchedule>> ParseProfiles(
    const ConfigNode* profiles, const ConfigNode& target_node,
    const TargetSettings& inherited);

}  // namespace exporter::config_internal

#endif  // PPROF_EXPORTER_EXPORTER_CONFIG_CONFIG_TARGET_H_
