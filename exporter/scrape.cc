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

}  // namespace

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
  auto finish = [&](ScrapeResult r) {
    r.finished = absl::Now();
    r.health.duration_seconds = absl::ToDoubleSeconds(r.finished - start);
    return r;
  };
  if (fetched.failure) {
    return finish(Failed(std::move(result), *std::move(fetched.failure)));
  }

  auto decoded = profile::Decode(fetched.body, limits);
  if (!decoded.ok()) {
    const FailureReason reason = absl::IsResourceExhausted(decoded.status())
                                     ? FailureReason::kTooLarge
                                     : FailureReason::kDecode;
    return finish(Failed(std::move(result),
                         {reason, std::string(decoded.status().message())}));
  }
  auto reduction = profile::Reduce(schedule.kind, *decoded, target.reduce,
                                   previous.baseline.get());
  if (!reduction.ok()) {
    return finish(
        Failed(std::move(result), {FailureReason::kDecode,
                                   std::string(reduction.status().message())}));
  }
  // Decoded and reduced: the profile is kept even if the series limit
  // refuses its series below. The decoded profile owns its own bytes.
  const auto body_bytes = static_cast<int64_t>(fetched.body.size());
  if (raw_body != nullptr) *raw_body = std::move(fetched.body);
  FamilyBuilder series;
  const bool scrapes_heap = std::any_of(
      target.profiles.begin(), target.profiles.end(),
      [](const ProfileSchedule& p) { return p.kind == profile::Kind::kHeap; });
  AddReduction(schedule.kind, *reduction, TargetLabels(target), &series,
               scrapes_heap);
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
  std::visit(
      [&](const auto& r) {
        if constexpr (requires { r.windowed; }) {
          result.baseline = r.windowed.baseline;
        }
      },
      *reduction);
  result.health.up = true;
  result.health.profile_bytes = body_bytes;
  result.failure.reset();
  result = finish(std::move(result));
  result.health.last_success = result.finished;
  return result;
}

}  // namespace exporter
