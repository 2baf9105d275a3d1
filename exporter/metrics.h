// The one place that names metric families and labels. Reductions and scrape
// health become prometheus-cpp MetricFamily values here, and both
// `pprof_exporter reduce` and the daemon's /metrics render through this
// file, so their output cannot drift apart. No I/O.
#ifndef PPROF_EXPORTER_EXPORTER_METRICS_H_
#define PPROF_EXPORTER_EXPORTER_METRICS_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exporter/scrape_failure.h"
#include "exporter/version.h"
#include "prometheus/metric_family.h"
#include "profile/kind.h"
#include "profile/reduce.h"

namespace exporter {

// Label name/value pairs in output order; the target's own labels first.
using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// Groups series into families by name, in first-seen order, so each family
// appears once with one HELP and TYPE line. A second series with the same
// name and labels is dropped rather than making the exposition invalid.
class FamilyBuilder {
 public:
  void Gauge(absl::string_view name, absl::string_view help,
             const LabelPairs& labels, double value);
  void Counter(absl::string_view name, absl::string_view help,
               const LabelPairs& labels, double value);
  std::vector<prometheus::MetricFamily> Build() &&;

 private:
  void Add(absl::string_view name, absl::string_view help,
           prometheus::MetricType type, const LabelPairs& labels,
           double value);

  std::vector<prometheus::MetricFamily> families_;
  absl::flat_hash_map<std::string, size_t> family_index_;
  absl::flat_hash_set<std::string> series_;
};

// How the scrapes of one target's profile kind went.
struct ScrapeHealth {
  bool up = false;
  double duration_seconds = 0;
  int64_t profile_bytes = 0;
  absl::Time last_success = absl::InfinitePast();
  // Cumulative since the exporter started (or the target was added).
  std::array<uint64_t, kNumCountedReasons> errors_total{};  // by reason
};

// pprof_up, pprof_scrape_duration_seconds, pprof_scrape_errors_total{reason},
// pprof_profile_bytes, pprof_last_success_timestamp_seconds. `labels` hold
// the target's labels and profile="<kind>".
void AddScrapeHealth(const ScrapeHealth& health, const LabelPairs& labels,
                     FamilyBuilder* out);

// pprof_exporter_build_info{version="..."} 1.
void AddBuildInfo(FamilyBuilder* out);

// The profile archive (archive.h) of one target and kind.
struct ArchiveStats {
  std::string target;
  profile::Kind kind = profile::Kind::kHeap;
  int64_t profiles = 0;  // files
  int64_t bytes = 0;
  uint64_t errors = 0;  // failed writes and deletions since start
};

// pprof_archive_profiles, pprof_archive_bytes and pprof_archive_errors_total,
// labelled target and profile only: the archive outlives the configuration
// (files of a removed target count until retention deletes them), so the
// target's configured labels are not known for every entry.
void AddArchiveStats(const std::vector<ArchiveStats>& stats,
                     FamilyBuilder* out);

// The exporter's own state, for its pprof_exporter_* series.
struct ExporterStatus {
  bool last_reload_ok = false;
  absl::Time last_reload_success = absl::UnixEpoch();
  size_t targets = 0;             // after --shard and duplicate names
  int discovered_targets = 0;     // listed in file_sd files, before --shard
  uint64_t sd_refresh_failures = 0;
};

// pprof_exporter_config_last_reload_successful,
// pprof_exporter_config_last_reload_success_timestamp_seconds,
// pprof_exporter_targets, pprof_exporter_discovered_targets and
// pprof_exporter_sd_refresh_failures_total.
void AddExporterStatus(const ExporterStatus& status, FamilyBuilder* out);

// The series of one reduced profile of one target. Some kinds repeat
// another's totals (allocs: heap's pprof_heap_*; goroutine_dump: the
// goroutine counts; KindSpec::totals_from). A target that scrapes both must
// export them from one source only, or a series would switch between two
// profiles (and a counter jump backwards when one scrape fails): pass
// `totals_elsewhere` = true and only what is the kind's own is rendered.
void AddReduction(profile::Kind kind, const profile::Reduction& reduction,
                  const LabelPairs& target_labels, FamilyBuilder* out,
                  bool totals_elsewhere = false);

// The Prometheus text exposition format, via prometheus-cpp.
std::string SerializeText(const std::vector<prometheus::MetricFamily>& families);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_METRICS_H_
