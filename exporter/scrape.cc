#include "exporter/scrape.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "exporter/kinds.h"
#include "profile/reduce.h"

namespace exporter {
namespace {

ScrapeResult Failed(ScrapeResult result, ScrapeFailure failure) {
  result.health.up = false;
  ++result.health.errors_total[static_cast<int>(failure.reason)];
  result.failure = std::move(failure);
  result.series.clear();
  return result;
}

std::vector<ScrapeWarning> Warnings(const TargetConfig& target,
                                    profile::Kind kind, size_t samples,
                                    const ScrapeSummary& summary) {
  std::vector<ScrapeWarning> warnings;
  const auto& services = target.reduce.services;
  if (services.method == profile::ServiceCounting::Method::kLabel &&
      summary.goroutines.value_or(0) > 0 && summary.services == 0) {
    warnings.push_back(
        {"service_label matches no goroutine", "service_label",
         services.label,
         // Nothing that changes from scrape to scrape: the log repeats a
         // warning only when it changes.
         "No goroutine carries this pprof label, so pprof_services is 0 "
         "and pprof_goroutines_per_service is absent. Count services with "
         "service_count_regex (a function that runs once per service) or "
         "set services: N."});
  }
  if (samples == 0 && (kind == profile::Kind::kMutex ||
                       kind == profile::Kind::kBlock)) {
    const bool mutex = kind == profile::Kind::kMutex;
    warnings.push_back(
        {absl::StrCat(profile::KindName(kind), " profile is empty"), "", "",
         mutex ? "Go records no mutex contention unless the program calls "
                 "runtime.SetMutexProfileFraction(n) with n > 0 (e.g. 5: "
                 "one in 5 events); until then its mutex series stay 0."
               : "Go records no blocking unless the program calls "
                 "runtime.SetBlockProfileRate(ns) with ns > 0 (e.g. 10000: "
                 "waits of about 10µs and more); until then its block "
                 "series stay 0."});
  }
  return warnings;
}

}  // namespace

ScrapeSummary Summarize(const TargetConfig& target, profile::Kind kind,
                        int64_t samples, const profile::Reduction& reduction) {
  ScrapeSummary summary;
  summary.samples = samples;
  if (const auto* g = std::get_if<profile::GoroutineReduction>(&reduction)) {
    summary.goroutines = g->goroutines;
    summary.services = g->services;
    summary.goroutines_per_service = g->goroutines_per_service;
    summary.service_goroutines = g->label_values;
  } else if (const auto* c = std::get_if<profile::CpuReduction>(&reduction)) {
    summary.gc_ratio = c->gc_ratio;
    for (const auto& f : c->top_flat) {
      summary.top_cpu.push_back({f.function, f.flat_ratio, f.cum_ratio});
    }
  }
  summary.warnings = Warnings(target, kind, samples, summary);
  return summary;
}

std::string ProfileUrl(const TargetConfig& target,
                       const ProfileSchedule& schedule) {
  const KindSpec& spec = SpecOf(schedule.kind);
  if (spec.sampled) {
    return absl::StrCat(target.url, spec.path,
                        "?seconds=", schedule.cpu_seconds);
  }
  return absl::StrCat(target.url, spec.path);
}

std::optional<ScrapeResult> Scrape(const TargetConfig& target,
                                   const ProfileSchedule& schedule,
                                   const ScrapeResult& previous,
                                   Fetcher& fetcher,
                                   const profile::DecodeLimits& limits,
                                   std::string* raw_body) {
  const absl::Time start = absl::Now();
  FetchResult fetched = fetcher.Get(ProfileUrl(target, schedule),
                                    schedule.timeout,
                                    limits.max_compressed_bytes, target.fetch);
  if (fetched.failure &&
      fetched.failure->reason == FailureReason::kCancelled) {
    return std::nullopt;
  }

  ScrapeResult result = previous;
  result.attempted = true;
  result.summary = {};  // only a successful scrape has one
  auto finish = [&](ScrapeResult r) {
    r.finished = absl::Now();
    r.health.duration_seconds = absl::ToDoubleSeconds(r.finished - start);
    return r;
  };
  if (fetched.failure) {
    return finish(Failed(std::move(result), *std::move(fetched.failure)));
  }

  const KindSpec& spec = SpecOf(schedule.kind);
  absl::StatusOr<Reduced> reduced = spec.reduce(
      fetched.body, {&target.reduce, previous.baseline.get(), limits,
                     schedule.stuck_after});
  if (!reduced.ok()) {
    const FailureReason reason = absl::IsResourceExhausted(reduced.status())
                                     ? FailureReason::kTooLarge
                                     : FailureReason::kDecode;
    return finish(Failed(std::move(result),
                         {reason, std::string(reduced.status().message())}));
  }
  const profile::Reduction& reduction = reduced->reduction;
  // Decoded and reduced: the profile is kept even if the series limit
  // refuses its series below. The reduction owns its own bytes.
  const auto body_bytes = static_cast<int64_t>(fetched.body.size());
  if (raw_body != nullptr) *raw_body = std::move(fetched.body);
  FamilyBuilder series;
  const bool totals_elsewhere =
      spec.totals_from.has_value() &&
      std::any_of(target.profiles.begin(), target.profiles.end(),
                  [&](const ProfileSchedule& p) {
                    return p.kind == *spec.totals_from;
                  });
  AddReduction(schedule.kind, reduction, TargetLabels(target), &series,
               totals_elsewhere);
  std::vector<prometheus::MetricFamily> families = std::move(series).Build();
  size_t count = 0;
  for (const auto& family : families) count += family.metric.size();
  if (count > static_cast<size_t>(SeriesBudget(target))) {
    return finish(Failed(
        std::move(result),
        {FailureReason::kSeriesLimit,
         absl::StrCat(count, " series exceed this profile's share (",
                      SeriesBudget(target), ") of series_limit ",
                      target.series_limit)}));
  }
  result.series = std::move(families);
  result.summary = Summarize(target, schedule.kind, reduced->samples, reduction);
  std::visit(
      [&](const auto& r) {
        if constexpr (requires { r.windowed; }) {
          result.baseline = r.windowed.baseline;
        }
      },
      reduction);
  result.health.up = true;
  result.health.profile_bytes = body_bytes;
  result.failure.reset();
  result = finish(std::move(result));
  result.health.last_success = result.finished;
  return result;
}

}  // namespace exporter
