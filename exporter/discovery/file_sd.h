// File-based service discovery: `file_sd_configs` in the config file name
// files in Prometheus's file_sd format, and every address listed in them
// becomes a target, scraped with that entry's settings. The files are
// watched (inotify on their directories, plus a periodic re-read as a
// fallback) and a change reaches the scheduler without a restart.
//
// A file is a JSON (.json) or YAML (.yml, .yaml) list of target groups:
//
//   [{"targets": ["10.0.0.1:6060", "https://10.0.0.2/debug/pprof/"],
//     "labels": {"env": "prod", "__scheme__": "http"}}]
//
//  - An address "host:port" becomes http://host:port/debug/pprof/; the
//    group label __scheme__ (http or https) changes the scheme. A full
//    http(s):// URL is used as it is (a URL without a path gets
//    /debug/pprof/), whatever __scheme__ says.
//  - The target's name (its `target` label) is the group's `name` label if
//    set, which then allows only one address in the group; otherwise the
//    address as written.
//  - The other labels become constant labels of the target's series, over
//    the entry's own `labels`. They are checked like static labels; those
//    starting with __ (Prometheus's meta labels) are dropped.
//  - Any problem in a file (syntax, a bad address or label) rejects the
//    whole file: its previous targets stay, the error is logged and
//    pprof_exporter_sd_refresh_failures_total counts it. An empty file is
//    such a problem too (write [] for no targets), so that a file caught
//    half-written does not drop its targets. A file that disappears takes
//    its targets with it.
//
// The daemon merges discovered targets after the static ones; a name that
// is already taken is rejected there, with a logged error.
#ifndef PPROF_EXPORTER_EXPORTER_DISCOVERY_FILE_SD_H_
#define PPROF_EXPORTER_EXPORTER_DISCOVERY_FILE_SD_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exporter/config/config.h"

namespace exporter {

// One address of a target group, before the defaults of a file_sd_configs
// entry are applied.
struct DiscoveredTarget {
  std::string name;
  std::string url;  // a pprof base URL, see NormalizePprofBaseUrl()
  // The group's labels without name and __*, sorted by name.
  std::vector<std::pair<std::string, std::string>> labels;
  std::string source;  // "file:line", for log messages; not compared

  bool operator==(const DiscoveredTarget& other) const {
    return name == other.name && url == other.url && labels == other.labels;
  }
};

// Parses one file_sd file. `filename` is used in errors
// ("file:line: [0].labels.name: ...") and its extension picks nothing: JSON
// is read as the YAML subset it is.
absl::StatusOr<std::vector<DiscoveredTarget>> ParseTargetGroups(
    absl::string_view text, absl::string_view filename);

// `sd.defaults` with the name, URL and labels of `discovered`; the group's
// labels win over the defaults' labels of the same name. InvalidArgument
// when the defaults set tls_config and the URL is not https://.
absl::StatusOr<TargetConfig> MakeDiscoveredTarget(
    const FileSdConfig& sd, const DiscoveredTarget& discovered);

// Watches the files of some file_sd_configs and keeps the targets they
// list. Thread-safe.
class FileDiscovery {
 public:
  // `on_change` runs on the discovery thread, without any lock of this
  // class held, whenever a re-read changed the targets. It may call
  // Targets().
  explicit FileDiscovery(std::function<void()> on_change);
  FileDiscovery(const FileDiscovery&) = delete;
  FileDiscovery& operator=(const FileDiscovery&) = delete;
  ~FileDiscovery();  // Stop()s

  // Switches to `configs` (on start-up and each config reload) and reads
  // every file now, before returning; does not call on_change. A file that
  // fails keeps the targets it had before, also across this call.
  void SetConfigs(const std::vector<FileSdConfig>& configs);

  struct Targets {
    // In config order, then file name order, then file order.
    std::vector<TargetConfig> targets;
    std::vector<std::string> sources;  // "file:line" of each target
    // Targets that MakeDiscoveredTarget() rejected: "file:line: message".
    std::vector<std::string> errors;
  };
  Targets Current() const;

  // Targets listed by the files as last read successfully (a failed file
  // counts with its previous targets), before any rejection.
  int discovered_targets() const;
  // File reads that failed since start.
  uint64_t refresh_failures() const;

  // Ends the watching thread. Idempotent.
  void Stop();

 private:
  struct FileState {
    std::vector<DiscoveredTarget> targets;  // of the last good read
    std::string error;                      // of the last read; "" if fine
  };

  void Loop();
  // Re-globs and re-reads every file; true if the targets changed.
  bool RefreshLocked();
  // Reads and parses one file; a file that fails keeps the targets of
  // `previous`. Logs the first failure and the fix. Nullopt if the file is
  // gone.
  std::optional<FileState> ReadFileLocked(const std::string& path,
                                          const FileState* previous);
  void WatchDirectoriesLocked();
  // Reads inotify events; true if any concerned a watched directory.
  bool DrainEvents();
  absl::Duration MinRefreshIntervalLocked() const;

  const std::function<void()> on_change_;
  mutable std::mutex mu_;
  std::vector<FileSdConfig> configs_;            // guarded by mu_
  std::vector<std::vector<std::string>> paths_;  // per config; guarded by mu_
  std::map<std::string, FileState> files_;       // guarded by mu_
  uint64_t failures_ = 0;                        // guarded by mu_
  std::map<int, std::string> watches_;  // descriptor -> dir; guarded by mu_
  absl::Time next_refresh_ = absl::InfiniteFuture();  // guarded by mu_
  bool stopping_ = false;                             // guarded by mu_
  // Set once under mu_ before the thread starts, then only read.
  int inotify_fd_ = -1;
  int wake_fd_ = -1;    // eventfd: SetConfigs and Stop wake the thread
  std::thread thread_;  // started by the first SetConfigs with configs
};

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_DISCOVERY_FILE_SD_H_
