// The profile archive: every profile a scrape fetched and decoded, stored as
// the exact bytes the target served, one file per scrape:
//
//   <dir>/<target>/<kind>/<RFC 3339 UTC time, ms>.pb.gz
//   e.g. /var/lib/pprof-exporter/tsnsrv/heap/2026-11-27T13:05:44.123Z.pb.gz
//
// <target> is the target name made safe for a file name by EncodeTargetName
// (reversible, so the index can be rebuilt from the directory names alone).
// Files are written atomically: a hidden temporary file in the same
// directory, fsync, rename, fsync of the directory. A crash leaves at most a
// temporary file, which the next start removes.
//
// Retention keeps the archive within max_age and max_bytes, deleting the
// oldest files first (by the time in their names, across all targets):
// after every write, at start-up and on a timer, so files also expire while
// nothing is written. An in-memory index (target, kind, time -> size)
// answers listings, lookups and the metrics without touching the disk; it is
// rebuilt from the directory at start-up, so the archive survives restarts.
//
// The archive never stops scraping: a write that fails (full disk, no
// permission, a file where a directory should be) is counted per target and
// kind, logged (rate-limited) and returned; the caller carries on.
#ifndef PPROF_EXPORTER_EXPORTER_ARCHIVE_ARCHIVE_H_
#define PPROF_EXPORTER_EXPORTER_ARCHIVE_ARCHIVE_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exporter/metrics/metrics.h"
#include "profile/kind.h"

namespace exporter {

// Target name -> one path element. Bytes in [A-Za-z0-9_-] and '.' (except
// as the first byte) are kept; every other byte, including '%', '/', control
// bytes and non-ASCII (UTF-8 bytes one by one), becomes %XX with upper-case
// hex. So the result is never empty, ".", ".." or hidden, has no '/' and no
// control byte, and DecodeTargetName gives the name back.
//   "tsnsrv" -> "tsnsrv", "a/b" -> "a%2Fb", ".." -> "%2E.", "" -> "%"
// (the empty name, which configs reject, still gets a valid element).
std::string EncodeTargetName(absl::string_view name);
// The inverse; nullopt for anything EncodeTargetName does not produce.
std::optional<std::string> DecodeTargetName(absl::string_view element);
// %XX (either case of hex) to its byte, every other byte as it is; nullopt
// for a malformed escape. DecodeTargetName is this plus the check that the
// element is in EncodeTargetName's canonical form.
std::optional<std::string> PercentDecode(absl::string_view text);

// "2026-11-27T13:05:44.123Z.pb.gz" for a time in Unix milliseconds, and
// back; ParseArchiveFileName accepts exactly what the former produces.
std::string ArchiveFileName(int64_t unix_millis);
std::optional<int64_t> ParseArchiveFileName(absl::string_view name);

struct ArchiveLimits {
  absl::Duration max_age = absl::Hours(7 * 24);
  int64_t max_bytes = int64_t{10} << 30;
};

// One archived profile.
struct ArchivedProfile {
  int64_t unix_millis = 0;
  int64_t bytes = 0;
  std::string file_name;  // ArchiveFileName(unix_millis)
};

class Archive {
 public:
  struct Options {
    std::string dir;
    ArchiveLimits limits;
    // Tests: a fake clock, and no background retention thread.
    std::function<absl::Time()> now = [] { return absl::Now(); };
    bool retention_thread = true;
  };

  // Creates the directory if needed, scans it to rebuild the index (and
  // removes temporary files left by a crash), then applies retention.
  // Problems are logged, never fatal: an archive whose directory cannot be
  // created starts empty and keeps trying on every write.
  explicit Archive(Options options);
  ~Archive();
  Archive(const Archive&) = delete;
  Archive& operator=(const Archive&) = delete;

  const std::string& dir() const { return options_.dir; }

  // Stores one profile fetched at `when` (to the millisecond; a clash with an
  // existing file of the same target and kind moves it 1 ms later), then
  // applies retention. On failure the error is counted, logged and returned.
  absl::Status Store(absl::string_view target, profile::Kind kind,
                     absl::Time when, absl::string_view bytes);

  // New limits (a reload); applied at once.
  void SetLimits(const ArchiveLimits& limits);
  // Deletes what is older than max_age, then the oldest files until the
  // total fits max_bytes. Runs by itself; public for tests.
  void EnforceRetention();

  // The archived profiles of one target and kind, newest first.
  std::vector<ArchivedProfile> List(absl::string_view target,
                                    profile::Kind kind) const;
  // The contents of the file `file_name` of that target and kind. NotFound
  // unless the name is in the index: a name from a URL never reaches the
  // file system as such, so no path can escape the archive.
  absl::StatusOr<std::string> Read(absl::string_view target,
                                   profile::Kind kind,
                                   absl::string_view file_name) const;

  // Per target and kind: files, bytes and write errors, sorted by target
  // and kind. `also` adds zero entries for these (the configured slots), so
  // their counters exist before the first write.
  std::vector<ArchiveStats> Stats(
      const std::vector<std::pair<std::string, profile::Kind>>& also = {})
      const;
  int64_t total_bytes() const;

 private:
  using Key = std::pair<std::string, profile::Kind>;
  struct Series {
    std::map<int64_t, int64_t> files;  // unix millis -> bytes
    int64_t bytes = 0;
    uint64_t errors = 0;
    // Logging of write failures: the last one logged and when.
    std::string last_error;
    absl::Time last_error_logged = absl::InfinitePast();
  };

  std::string SeriesDir(const Key& key) const;
  void Scan();
  void RetentionLoop();
  // Require mu_. The index: adds or removes one file, keeping `oldest_`.
  void AddLocked(const Key& key, int64_t millis, int64_t bytes);
  void RemoveLocked(std::map<Key, Series>::iterator it, int64_t millis);
  // Deletes the oldest file; false (and counted, logged) on failure.
  bool DeleteOldestLocked();
  void EnforceRetentionLocked();
  void CountErrorLocked(const Key& key, absl::string_view what,
                        const absl::Status& status);

  Options options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;  // stopping_ or new limits
  bool stopping_ = false;         // guarded by mu_
  std::map<Key, Series> series_;  // guarded by mu_
  // The oldest file of each series with files: (millis, its key in
  // series_), so the oldest file overall is the first. One entry per series
  // rather than per file keeps the index small. Guarded by mu_.
  std::set<std::pair<int64_t, const Key*>> oldest_;
  int64_t total_bytes_ = 0;  // guarded by mu_
  std::thread retention_;
};

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_ARCHIVE_ARCHIVE_H_
