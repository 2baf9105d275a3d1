// Internal to the config module: a target's credentials and TLS settings,
// Prometheus's scrape-config keys basic_auth, authorization and tls_config,
// read into FetchOptions. Secrets never appear in error messages.
#ifndef PPROF_EXPORTER_EXPORTER_CONFIG_CONFIG_AUTH_H_
#define PPROF_EXPORTER_EXPORTER_CONFIG_CONFIG_AUTH_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "exporter/config/config_yaml.h"
#include "exporter/net/fetch.h"

namespace exporter::config_internal {

// basic_auth (at most one of it and authorization) and tls_config of the
// map `fields`. tls_config needs an https:// `url`; an empty url (the
// defaults of file SD) leaves that check to each discovered target.
absl::StatusOr<FetchOptions> ParseFetchOptions(const ConfigMap& fields,
                                               absl::string_view url);

}  // namespace exporter::config_internal

#endif  // PPROF_EXPORTER_EXPORTER_CONFIG_CONFIG_AUTH_H_
