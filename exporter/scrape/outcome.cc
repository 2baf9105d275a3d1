#include "exporter/scrape/outcome.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/time/clock.h"
#include "exporter/base/log.h"
#include "exporter/config/kinds.h"
#include "profile/kind.h"

namespace exporter {
namespace {

// A target that keeps failing the same way is logged again at most this
// often, so one dead target cannot flood the log.
constexpr absl::Duration kRepeatFailureLogEvery = absl::Minutes(10);

// A failure because another CPU profile was running in the target.
bool IsProfilerBusy(const ScrapeResult& result) {
  return result.failure &&
         result.failure->reason == FailureReason::kProfilerBusy;
}

// The longest a slot waits after its endpoint said the kind is missing.
constexpr absl::Duration kMaxMissingBackOff = absl::Hours(24);

// A 404 from an endpoint that only newer Go versions serve (goroutineleak):
// the slot skips its turns for interval x (2^k - 1) after the k-th in a
// row, at most a day.
void BackOffIfMissing(Slot& slot, const ScrapeResult& after) {
  const KindSpec& spec = SpecOf(slot.schedule().kind);
  const bool missing = !spec.not_found_means.empty() && after.failure &&
                       after.failure->reason == FailureReason::kHttpStatus &&
                       after.failure->http_status == 404;
  if (!missing) {
    slot.not_found_streak = 0;
    return;
  }
  slot.not_found_streak = std::min(slot.not_found_streak + 1, 30);
  const double turns =
      static_cast<double>((int64_t{1} << slot.not_found_streak) - 1);
  slot.skip_until =
      absl::Now() +
      std::min(slot.schedule().interval * turns, kMaxMissingBackOff);
}

// Logs state changes of a slot, and repeats of the same failure rarely.
// Another profiler at work (go tool pprof, Parca, ...) is no fault of the
// target and the scheduler retries: logged once per episode, at info.
void LogOutcome(Slot& slot, const ScrapeResult& before,
                const ScrapeResult& after) {
  const std::string target = slot.target().name;
  const std::string kind(profile::KindName(slot.schedule().kind));
  if (slot.not_found_streak > 0) {
    // Said once, in plain words; counted as http_status all the same.
    if (slot.not_found_streak == 1) {
      Log(LogLevel::kInfo, SpecOf(slot.schedule().kind).not_found_means,
          {{"target", target},
           {"profile", kind},
           {"err", after.failure->ToString()}});
    }
    return;
  }
  if (after.health.up) {
    if (before.attempted && !before.health.up) {
      Log(LogLevel::kInfo, "scrape recovered",
          {{"target", target}, {"profile", kind}});
    }
    return;
  }
  if (IsProfilerBusy(after)) {
    if (!IsProfilerBusy(before)) {
      // Only CPU profiles are retried early (Go refuses nothing else).
      Log(LogLevel::kInfo,
          SpecOf(slot.schedule().kind).sampled
              ? "profiler busy; retrying"
              : "profiler busy",
          {{"target", target}, {"profile", kind},
           {"err", after.failure->ToString()}});
    }
    return;
  }
  const absl::Time now = absl::Now();
  const bool changed = before.health.up || !before.attempted ||
                       before.failure != after.failure;
  if (!changed && now - slot.last_failure_logged < kRepeatFailureLogEvery) {
    return;
  }
  slot.last_failure_logged = now;
  Log(LogLevel::kWarn, changed ? "scrape failed" : "scrape still failing",
      {{"target", target}, {"profile", kind},
       {"err", after.failure->ToString()}});
}

// Logs each warning of a successful scrape (ScrapeSummary) once, until the
// slot's warnings change; a slot is new when its target's settings change.
void LogWarnings(Slot& slot, const ScrapeResult& after) {
  if (!after.health.up || after.summary.warnings == slot.logged_warnings) {
    return;
  }
  const std::string kind(profile::KindName(slot.schedule().kind));
  for (const ScrapeWarning& w : after.summary.warnings) {
    if (w.setting.empty()) {
      Log(LogLevel::kWarn, w.message,
          {{"target", slot.target().name}, {"profile", kind},
           {"advice", w.advice}});
    } else {
      Log(LogLevel::kWarn, w.message,
          {{"target", slot.target().name}, {"profile", kind},
           {w.setting, w.value}, {"advice", w.advice}});
    }
  }
  slot.logged_warnings = after.summary.warnings;
}

}  // namespace

void RecordOutcome(Slot& slot, const ScrapeResult& before,
                   const ScrapeResult& after) {
  BackOffIfMissing(slot, after);
  LogOutcome(slot, before, after);
  LogWarnings(slot, after);
}

}  // namespace exporter
