#include "exporter/metrics.h"

#include <sstream>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/common.h"
#include "prometheus/text_serializer.h"

namespace exporter {
namespace {

using prometheus::MetricType;

// Every HELP text says where the numbers come from: the last successful
// scrape of that profile, not the moment of this /metrics request.
constexpr absl::string_view kFromLastScrape =
    " (from the last successful profile scrape)";

std::string Help(absl::string_view text) {
  return absl::StrCat(text, kFromLastScrape);
}

std::string SeriesKey(
    absl::string_view name,
    const std::vector<prometheus::ClientMetric::Label>& labels) {
  std::string key(name);
  for (const auto& label : labels) {
    absl::StrAppend(&key, "\xff", label.name, "\xfe", label.value);
  }
  return key;
}

// The exposition format requires UTF-8, and a Go function name or a pprof
// label value is any bytes. Invalid bytes become '?', with protobuf's
// coercer (the same length, so nothing else shifts).
std::string ValidUtf8(const std::string& value) {
  std::string out(value.size(), '\0');
  const char* coerced =
      google::protobuf::internal::UTF8CoerceToStructurallyValid(
          value, out.data(), '?');
  return coerced == value.data() ? value : out;
}

LabelPairs With(const LabelPairs& base, absl::string_view name,
                absl::string_view value) {
  LabelPairs labels = base;
  labels.emplace_back(std::string(name), std::string(value));
  return labels;
}

// pprof_<kind>_flat_ratio and pprof_<kind>_cum_ratio for a top list.
void AddTopLists(absl::string_view kind, absl::string_view what,
                 const std::vector<profile::FunctionShare>& top_flat,
                 const std::vector<profile::FunctionShare>& top_cum,
                 const LabelPairs& labels, FamilyBuilder* out) {
  const std::string flat_help = Help(absl::StrCat(
      "Share of ", what, " in the function itself (pprof flat%, 0-1), "
      "for the top functions by flat"));
  const std::string cum_help = Help(absl::StrCat(
      "Share of ", what, " in the function and its callees (pprof cum%, "
      "0-1), for the top functions by cum"));
  for (const auto& f : top_flat) {
    out->Gauge(absl::StrCat("pprof_", kind, "_flat_ratio"), flat_help,
               With(labels, "function", f.function), f.flat_ratio);
  }
  for (const auto& f : top_cum) {
    out->Gauge(absl::StrCat("pprof_", kind, "_cum_ratio"), cum_help,
               With(labels, "function", f.function), f.cum_ratio);
  }
}

// Cumulative profiles: what happened since the previous scrape.
void AddWindow(absl::string_view kind, absl::string_view total_name,
               absl::string_view total_help, const profile::Windowed& w,
               const LabelPairs& labels, FamilyBuilder* out) {
  if (!w.window) return;
  if (w.window_total) {
    out->Gauge(absl::StrCat("pprof_", kind, "_window_", total_name),
               Help(total_help), labels, *w.window_total);
  }
  if (w.window->seconds > 0) {
    out->Gauge(absl::StrCat("pprof_", kind, "_window_seconds"),
               Help("Length of the window: time between this profile and "
                    "the previous one, in seconds"),
               labels, w.window->seconds);
  }
  const std::string help = Help(absl::StrCat(
      "Share of the window's ", kind == "allocs" ? "allocated bytes" : "delay",
      " in the function itself (pprof -base previous flat%, 0-1), for the "
      "top functions by flat"));
  for (const auto& f : w.window->top_flat) {
    out->Gauge(absl::StrCat("pprof_", kind, "_window_flat_ratio"), help,
               With(labels, "function", f.function), f.flat_ratio);
  }
}

void AddCpu(const profile::CpuReduction& r, const LabelPairs& labels,
            FamilyBuilder* out) {
  if (r.sampled_seconds) {
    out->Gauge("pprof_cpu_sampled_seconds",
               Help("CPU time sampled by the CPU profile, in seconds"), labels,
               *r.sampled_seconds);
  }
  out->Gauge("pprof_cpu_duration_seconds",
             Help("Wall-clock duration of the CPU profile, in seconds"),
             labels, r.duration_seconds);
  out->Gauge("pprof_cpu_gc_ratio",
             Help("Share of sampled CPU in stacks with a garbage collector "
                  "function (0-1)"),
             labels, r.gc_ratio);
  out->Gauge("pprof_cpu_gc_idle_ratio",
             Help("Share of sampled CPU in stacks with an idle GC mark "
                  "worker function (0-1; Go 1.20+, else 0). Part of "
                  "pprof_cpu_gc_ratio: idle marking only uses CPU the "
                  "application left idle"),
             labels, r.gc_idle_ratio);
  AddTopLists("cpu", "sampled CPU", r.top_flat, r.top_cum, labels, out);
}

void AddHeapTotals(const profile::HeapReduction& r, const LabelPairs& labels,
                   FamilyBuilder* out) {
  if (r.inuse_bytes) {
    out->Gauge("pprof_heap_inuse_bytes",
               Help("Bytes of live heap objects, as sampled by the heap "
                    "profile"),
               labels, *r.inuse_bytes);
  }
  if (r.inuse_objects) {
    out->Gauge("pprof_heap_inuse_objects",
               Help("Live heap objects, as sampled by the heap profile"),
               labels, *r.inuse_objects);
  }
  if (r.alloc_bytes) {
    out->Counter("pprof_heap_alloc_bytes_total",
                 Help("Bytes allocated since the process started"), labels,
                 *r.alloc_bytes);
  }
  if (r.alloc_objects) {
    out->Counter("pprof_heap_alloc_objects_total",
                 Help("Objects allocated since the process started"), labels,
                 *r.alloc_objects);
  }
}

// One gauge per (label value, count) pair: goroutines by service, function
// or state.
void AddCounts(absl::string_view name, absl::string_view help,
               absl::string_view label,
               const std::vector<std::pair<std::string, int64_t>>& counts,
               const LabelPairs& labels, FamilyBuilder* out) {
  const std::string with_source = Help(help);
  for (const auto& [value, count] : counts) {
    out->Gauge(name, with_source, With(labels, label, value),
               static_cast<double>(count));
  }
}

// From a debug=2 goroutine dump: the runtime prints waits in whole minutes,
// from one minute on.
void AddGoroutineWaits(const profile::GoroutineWaits& w,
                       const LabelPairs& labels, FamilyBuilder* out) {
  AddCounts("pprof_goroutines_by_state",
            "Goroutines by state as the goroutine dump prints it (wait "
            "reason, running, runnable, syscall; rare ones summed as other)",
            "state", w.by_state, labels, out);
  out->Gauge("pprof_goroutines_stuck",
             Help("Goroutines whose printed wait is at least stuck_after "
                  "(minute granularity)"),
             labels, static_cast<double>(w.stuck));
  AddCounts("pprof_goroutines_stuck_by_function",
            "Stuck goroutines grouped by their first application function "
            "(top N)",
            "function", w.stuck_by_function, labels, out);
  out->Gauge("pprof_goroutines_longest_wait_seconds",
             Help("Longest wait the goroutine dump prints, in seconds "
                  "(whole minutes; 0 below one minute)"),
             labels, w.longest_wait_seconds);
}

void AddGoroutineCounts(const profile::GoroutineReduction& r,
                        const LabelPairs& labels, FamilyBuilder* out) {
  out->Gauge("pprof_goroutines", Help("Goroutines in the process"), labels,
             static_cast<double>(r.goroutines));
  out->Gauge("pprof_services",
             Help("Services the process hosts, as configured to be counted"),
             labels, static_cast<double>(r.services));
  if (r.goroutines_per_service) {
    out->Gauge("pprof_goroutines_per_service",
               Help("Goroutines divided by services"), labels,
               *r.goroutines_per_service);
  }
  AddCounts("pprof_service_goroutines",
            "Goroutines carrying the service's pprof label", "service",
            r.label_values, labels, out);
  AddCounts("pprof_goroutines_by_function",
            "Goroutines grouped by their first application function (top N)",
            "function", r.by_function, labels, out);
}

void AddGoroutine(const profile::GoroutineReduction& r,
                  const LabelPairs& labels, bool counts_elsewhere,
                  FamilyBuilder* out) {
  if (!counts_elsewhere) AddGoroutineCounts(r, labels, out);
  if (r.waits) AddGoroutineWaits(*r.waits, labels, out);
}

void AddGoroutineLeak(const profile::GoroutineLeakReduction& r,
                      const LabelPairs& labels, FamilyBuilder* out) {
  out->Gauge("pprof_goroutine_leaks",
             Help("Goroutines the runtime reports as leaked: blocked on a "
                  "primitive no runnable goroutine can reach (goroutineleak "
                  "profile, Go 1.27+)"),
             labels, static_cast<double>(r.leaks));
  AddCounts("pprof_goroutine_leaks_by_function",
            "Leaked goroutines grouped by their first application function "
            "(top N)",
            "function", r.by_function, labels, out);
}

void AddContention(absl::string_view kind,
                   const profile::ContentionReduction& r,
                   const LabelPairs& labels, FamilyBuilder* out) {
  if (r.delay_seconds) {
    out->Counter(absl::StrCat("pprof_", kind, "_delay_seconds_total"),
                 Help(absl::StrCat("Time goroutines spent waiting (", kind,
                                   " profile) since the process started, in "
                                   "seconds")),
                 labels, *r.delay_seconds);
  }
  if (r.contentions) {
    out->Counter(absl::StrCat("pprof_", kind, "_contentions_total"),
                 Help(absl::StrCat("Contention events (", kind,
                                   " profile) since the process started")),
                 labels, *r.contentions);
  }
  AddTopLists(kind, "delay", r.top_flat, r.top_cum, labels, out);
  AddWindow(kind, "delay_seconds",
            absl::StrCat("Time goroutines spent waiting (", kind,
                         " profile) between the previous profile and this "
                         "one, in seconds"),
            r.windowed, labels, out);
}

}  // namespace

void FamilyBuilder::Gauge(absl::string_view name, absl::string_view help,
                          const LabelPairs& labels, double value) {
  Add(name, help, MetricType::Gauge, labels, value);
}

void FamilyBuilder::Counter(absl::string_view name, absl::string_view help,
                            const LabelPairs& labels, double value) {
  Add(name, help, MetricType::Counter, labels, value);
}

void FamilyBuilder::Add(absl::string_view name, absl::string_view help,
                        MetricType type, const LabelPairs& labels,
                        double value) {
  prometheus::ClientMetric metric;
  for (const auto& [label, label_value] : labels) {
    metric.label.push_back({label, ValidUtf8(label_value)});
  }
  if (type == MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  // Keyed by the labels as written: two values that differ only in
  // invalid bytes are one series once coerced.
  if (!series_.insert(SeriesKey(name, metric.label)).second) return;
  auto [it, inserted] = family_index_.try_emplace(name, families_.size());
  if (inserted) {
    families_.push_back({std::string(name), std::string(help), type, {}});
  }
  families_[it->second].metric.push_back(std::move(metric));
}

std::vector<prometheus::MetricFamily> FamilyBuilder::Build() && {
  return std::move(families_);
}

void AddScrapeHealth(const ScrapeHealth& health, const LabelPairs& labels,
                     FamilyBuilder* out) {
  out->Gauge("pprof_up",
             "1 if the last scrape of this profile succeeded, else 0", labels,
             health.up ? 1 : 0);
  out->Gauge("pprof_scrape_duration_seconds",
             "Time the last scrape of this profile took, fetch to reduced "
             "series, in seconds",
             labels, health.duration_seconds);
  for (int i = 0; i < kNumCountedReasons; ++i) {
    out->Counter("pprof_scrape_errors_total",
                 "Failed scrapes of this profile, by reason",
                 With(labels, "reason", kFailureReasonLabels[i]),
                 static_cast<double>(health.errors_total[i]));
  }
  if (health.last_success != absl::InfinitePast()) {
    out->Gauge("pprof_profile_bytes",
               "Size of the last successfully scraped profile as fetched, "
               "in bytes",
               labels, static_cast<double>(health.profile_bytes));
    out->Gauge("pprof_last_success_timestamp_seconds",
               "Unix time of the last successful scrape of this profile",
               labels, absl::ToDoubleSeconds(health.last_success -
                                             absl::UnixEpoch()));
  }
}

void AddBuildInfo(FamilyBuilder* out) {
  out->Gauge("pprof_exporter_build_info",
             "A metric with a constant 1 labelled by the exporter's version",
             {{"version", kVersion}}, 1);
}

void AddArchiveStats(const std::vector<ArchiveStats>& stats,
                     FamilyBuilder* out) {
  for (const ArchiveStats& s : stats) {
    const LabelPairs labels = {
        {"target", s.target},
        {"profile", std::string(profile::KindName(s.kind))}};
    out->Gauge("pprof_archive_profiles",
               "Profiles of this target and kind in the profile archive",
               labels, static_cast<double>(s.profiles));
    out->Gauge("pprof_archive_bytes",
               "Bytes of the archived profiles of this target and kind",
               labels, static_cast<double>(s.bytes));
    out->Counter("pprof_archive_errors_total",
                 "Failed writes (and deletions) of archived profiles of this "
                 "target and kind; the scrapes themselves still succeed",
                 labels, static_cast<double>(s.errors));
  }
}

void AddReduction(profile::Kind kind, const profile::Reduction& reduction,
                  const LabelPairs& target_labels, FamilyBuilder* out,
                  bool totals_elsewhere) {
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, profile::CpuReduction>) {
          AddCpu(r, target_labels, out);
        } else if constexpr (std::is_same_v<T, profile::HeapReduction>) {
          if (!totals_elsewhere) {
            AddHeapTotals(r, target_labels, out);
          }
          AddTopLists(profile::KindName(kind),
                      kind == profile::Kind::kHeap ? "in-use heap bytes"
                                                   : "allocated bytes",
                      r.top_flat, r.top_cum, target_labels, out);
          AddWindow(profile::KindName(kind), "bytes",
                    "Bytes allocated between the previous allocs profile "
                    "and this one",
                    r.windowed, target_labels, out);
        } else if constexpr (std::is_same_v<T, profile::GoroutineReduction>) {
          AddGoroutine(r, target_labels, totals_elsewhere, out);
        } else if constexpr (std::is_same_v<T,
                                            profile::GoroutineLeakReduction>) {
          AddGoroutineLeak(r, target_labels, out);
        } else {
          AddContention(profile::KindName(kind), r, target_labels, out);
        }
      },
      reduction);
}

std::string SerializeText(
    const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

void AddExporterStatus(const ExporterStatus& status, FamilyBuilder* out) {
  out->Gauge("pprof_exporter_config_last_reload_successful",
             "Whether the last configuration reload succeeded", {},
             status.last_reload_ok ? 1 : 0);
  out->Gauge("pprof_exporter_config_last_reload_success_timestamp_seconds",
             "Unix time of the last successful configuration reload", {},
             absl::ToDoubleSeconds(status.last_reload_success -
                                   absl::UnixEpoch()));
  out->Gauge("pprof_exporter_targets",
             "Targets this exporter scrapes: static and discovered, after "
             "--shard and duplicate names",
             {}, static_cast<double>(status.targets));
  out->Gauge("pprof_exporter_discovered_targets",
             "Targets listed in file_sd files (a file that failed to read "
             "counts with its previous targets), before --shard",
             {}, status.discovered_targets);
  out->Counter("pprof_exporter_sd_refresh_failures_total",
               "Reads of file_sd files that failed (unreadable, syntax, "
               "invalid content); the file kept its targets",
               {}, static_cast<double>(status.sd_refresh_failures));
}

}  // namespace exporter
