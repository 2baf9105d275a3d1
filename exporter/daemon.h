// The daemon: loads the configuration, scrapes targets on schedule, serves
// the results, reloads on SIGHUP or POST /-/reload, and shuts down cleanly
// on SIGTERM or SIGINT.
#ifndef PPROF_EXPORTER_EXPORTER_DAEMON_H_
#define PPROF_EXPORTER_EXPORTER_DAEMON_H_

#include <string>
#include <vector>

namespace exporter {

// The exporter's default listen address: loopback only, on a port not in
// Prometheus's default port allocations list.
inline constexpr char kDefaultListenAddress[] = "127.0.0.1:10066";

// Runs until a termination signal; returns the process exit code (2 for
// usage errors, 1 when the configuration or the listen address is bad).
int RunDaemon(const std::vector<std::string>& args);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_DAEMON_H_
