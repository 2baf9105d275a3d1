// Why a scrape failed, from the fetch to the metric. The reason is the
// `reason` label of pprof_scrape_errors_total, the retry policy's input and
// the start of the log line; the message says what exactly happened.
#ifndef PPROF_EXPORTER_EXPORTER_SCRAPE_FAILURE_H_
#define PPROF_EXPORTER_EXPORTER_SCRAPE_FAILURE_H_

#include <array>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace exporter {

enum class FailureReason {
  kConnect,       // refused, DNS, unreachable, TLS, or reset mid-response
  kTimeout,       // connect timeout, read timeout or total deadline passed
  kHttpStatus,    // a non-2xx answer (other than kProfilerBusy)
  kProfilerBusy,  // Go's pprof: 500 + "X-Go-Pprof: 1" (profile already running)
  kTooLarge,      // body, Content-Length or decoded profile over its cap
  kDecode,        // not a profile, or not one of the expected kind
  kSeriesLimit,   // more series than the target's series_limit allows
  kCancelled,     // Fetcher::StopAll; never counted (must stay last)
};

// The reasons pprof_scrape_errors_total counts: all but kCancelled.
inline constexpr int kNumCountedReasons =
    static_cast<int>(FailureReason::kCancelled);

// The label values, indexed by FailureReason. They must never change.
inline constexpr std::array<absl::string_view, kNumCountedReasons + 1>
    kFailureReasonLabels = {"connect",     "timeout",      "http_status",
                            "profiler_busy", "too_large",  "decode",
                            "series_limit", "cancelled"};

inline absl::string_view ReasonLabel(FailureReason reason) {
  return kFailureReasonLabels[static_cast<int>(reason)];
}

struct ScrapeFailure {
  FailureReason reason = FailureReason::kConnect;
  // For logs and the landing page; never holds a secret.
  std::string message;
  // kHttpStatus and kProfilerBusy: the answer's status.
  int http_status = 0;

  // "<reason>: <message>", as logged and shown.
  std::string ToString() const {
    return absl::StrCat(ReasonLabel(reason), ": ", message);
  }
  bool operator==(const ScrapeFailure&) const = default;
};

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_SCRAPE_FAILURE_H_
