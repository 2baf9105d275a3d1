// Snapshots: the latest scrape outcome of each target and profile kind,
// immutable once published. A scrape builds a new ScrapeResult and swaps it
// into its Slot; /metrics and the landing page read whatever is there
// without waiting for any scrape. Stale series therefore disappear by
// themselves: a failed scrape publishes a result without derived series.
#ifndef PPROF_EXPORTER_EXPORTER_SNAPSHOT_H_
#define PPROF_EXPORTER_EXPORTER_SNAPSHOT_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "exporter/config.h"
#include "exporter/exposition.h"
#include "exporter/metrics.h"
#include "exporter/scrape_failure.h"
#include "prometheus/metric_family.h"
#include "profile/window.h"

namespace exporter {

// Something about a target's settings or ours that makes its figures
// mislead, and what to change. Logged once (daemon.cc) and shown on the
// landing page.
struct ScrapeWarning {
  std::string message;  // short, the log line's msg
  // The setting at fault and its value, e.g. service_label / "service";
  // empty when the fix is in the target's code.
  std::string setting, value;
  std::string advice;  // what to change, one or two sentences
  bool operator==(const ScrapeWarning&) const = default;
};

// The figures the landing page shows of one successful scrape, copied by
// scrape.cc from the same reduction its series come from, so the page and
// /metrics cannot disagree. Empty while the profile is down.
struct ScrapeSummary {
  int64_t samples = 0;  // in the profile as fetched
  // Goroutine profiles: pprof_goroutines, pprof_services,
  // pprof_goroutines_per_service, pprof_service_goroutines.
  std::optional<int64_t> goroutines, services;
  std::optional<double> goroutines_per_service;
  std::vector<std::pair<std::string, int64_t>> service_goroutines;
  // CPU profiles: pprof_cpu_gc_ratio, and the functions of
  // pprof_cpu_flat_ratio with their flat and cum shares (0-1).
  std::optional<double> gc_ratio;
  struct Function {
    std::string name;
    double flat_ratio = 0, cum_ratio = 0;
  };
  std::vector<Function> top_cpu;
  std::vector<ScrapeWarning> warnings;
};

struct ScrapeResult {
  bool attempted = false;  // false until the first scrape finishes
  absl::Time finished;
  ScrapeHealth health;
  // Why the last scrape failed; empty when up or not yet attempted.
  std::optional<ScrapeFailure> failure;
  // The derived series of the last successful scrape; empty when down.
  // Slot::Publish renders them into `rendered_series` and empties this.
  std::vector<prometheus::MetricFamily> series;
  // Set by Slot::Publish: this result's health series and derived series
  // as exposition text (exposition.h), rendered once for all the /metrics
  // requests to come. Null before the first publish.
  std::shared_ptr<const Rendering> rendered_health;
  std::shared_ptr<const Rendering> rendered_series;
  ScrapeSummary summary;  // for the landing page; empty when down
  // Cumulative kinds: what the next scrape's window is measured from.
  std::shared_ptr<const profile::FunctionBaseline> baseline;
};

// One target x profile kind: its schedule and its latest result. Slots
// survive a reload when their target's configuration did not change.
class Slot {
 public:
  Slot(std::shared_ptr<const TargetConfig> target, ProfileSchedule schedule)
      : target_(std::move(target)), schedule_(schedule) {}

  const TargetConfig& target() const { return *target_; }
  const ProfileSchedule& schedule() const { return schedule_; }

  std::shared_ptr<const ScrapeResult> result() const {
    return std::atomic_load(&result_);
  }
  // Renders `result` (see ScrapeResult::rendered_health) and makes it the
  // slot's result.
  void Publish(ScrapeResult result);

  // Set while a scrape of this slot is queued or running, so a slow target
  // never has two scrapes of one kind (and never two CPU profiles) at once.
  std::atomic<bool> busy{false};
  // When a failure of this slot was last logged; only the worker that
  // holds `busy` touches it.
  absl::Time last_failure_logged = absl::InfinitePast();
  // The warnings last logged for this slot (ScrapeSummary::warnings), so
  // each is logged once until it changes; touched like last_failure_logged.
  std::vector<ScrapeWarning> logged_warnings;
  // A kind the target's Go lacks (KindSpec::not_found_means): 404s in a
  // row, and no scrape before skip_until. Touched like last_failure_logged.
  int not_found_streak = 0;
  absl::Time skip_until = absl::InfinitePast();

 private:
  const std::shared_ptr<const TargetConfig> target_;
  const ProfileSchedule schedule_;
  std::shared_ptr<const ScrapeResult> result_ =
      std::make_shared<const ScrapeResult>();
};

// Every slot of the current configuration, in config order. Replaced as a
// whole on reload.
struct SlotTable {
  Config config;
  std::vector<std::shared_ptr<Slot>> slots;
};

// target="<name>" followed by the target's constant labels.
LabelPairs TargetLabels(const TargetConfig& target);

// Builds the table for `config`, taking over the slots of `previous` whose
// target configuration and schedule are unchanged, so their results and
// error counters survive a reload.
std::shared_ptr<const SlotTable> BuildSlotTable(
    Config config, const SlotTable* previous);

// All slots' series for /metrics: the build info, each attempted slot's
// health, then the derived series.
void CollectSeries(const SlotTable& table, ExpositionWriter* out);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_SNAPSHOT_H_
