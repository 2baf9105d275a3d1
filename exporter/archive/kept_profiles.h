// What the exporter keeps of the profiles it fetched: the archive on disk
// (global.archive, archive.h) and, with the pprof mirror on
// (--web.enable-pprof-reserve, pprof_mirror.h), the latest profile of each
// target and kind. One object owns both across reloads: the archive opens,
// changes its limits or closes as the configuration says, and what a
// removed target left in memory is forgotten. Thread-safe.
#ifndef PPROF_EXPORTER_EXPORTER_ARCHIVE_KEPT_PROFILES_H_
#define PPROF_EXPORTER_EXPORTER_ARCHIVE_KEPT_PROFILES_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "exporter/archive/archive.h"
#include "exporter/config/config.h"
#include "exporter/metrics/metrics.h"
#include "exporter/archive/pprof_mirror.h"
#include "profile/kind.h"

namespace exporter {

class KeptProfiles {
 public:
  // Whether a target and kind are scraped now.
  using IsConfigured =
      std::function<bool(const std::string& target, profile::Kind kind)>;

  explicit KeptProfiles(bool mirror) : mirror_(mirror) {}

  // On every (re)load: opens, re-limits or closes the archive.
  void Configure(const std::optional<ArchiveConfig>& config);

  // Whether scrapes should hand their fetched bodies over to Keep().
  bool wanted() const { return mirror_ || archive() != nullptr; }
  bool mirror() const { return mirror_; }
  bool archiving() const { return archive() != nullptr; }

  // A profile fetched at `fetched`: into the archive and the mirror. An
  // archive failure is counted and logged there; the scrape still
  // succeeded. `slots` is the number of slots now; `configured` tells which
  // mirror entries to forget when there are more than that.
  void Keep(const std::string& target, profile::Kind kind, absl::Time fetched,
            std::string bytes, size_t slots, const IsConfigured& configured);

  // Answers a GET under /debug/pprof/ (pprof_mirror.h); the latest profile
  // only of what `configured` names.
  PprofResponse Serve(const std::string& raw_path,
                      const IsConfigured& configured) const;

  // pprof_archive_* of these target/kind pairs; nothing without an archive.
  void AddMetrics(
      const std::vector<std::pair<std::string, profile::Kind>>& slots,
      FamilyBuilder& out) const;

 private:
  std::shared_ptr<Archive> archive() const {
    return std::atomic_load(&archive_);
  }

  const bool mirror_;
  std::mutex configure_mu_;           // serializes Configure()
  std::string archive_dir_;           // guarded by configure_mu_
  std::shared_ptr<Archive> archive_;  // atomic_load/store; null: none
  LatestProfiles latest_;             // filled only when mirror_
};

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_ARCHIVE_KEPT_PROFILES_H_
