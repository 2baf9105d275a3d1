// For tests that wait on threads or processes: poll a condition until it
// holds or a deadline passes, instead of sleeping a fixed time (which is
// either flaky or slow on a loaded CI machine).
#ifndef PPROF_EXPORTER_EXPORTER_TESTING_POLL_H_
#define PPROF_EXPORTER_EXPORTER_TESTING_POLL_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace exporter::testing {

// Polls `done` every 5 ms until it holds or `timeout` passes; returns its
// last value.
inline bool PollUntil(const std::function<bool()>& done,
                      absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > give_up) return done();
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

}  // namespace exporter::testing

#endif  // PPROF_EXPORTER_EXPORTER_TESTING_POLL_H_
