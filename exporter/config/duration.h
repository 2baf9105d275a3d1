// Durations as Prometheus writes them: "90s", "1h30m", "500ms", "2w".
//
// Config files use the same notation as Prometheus's own scrape_interval so
// that operators can copy values between the two. absl::ParseDuration does
// not know d, w or y and accepts fractions and negatives, which Prometheus
// rejects, so this is a small parser of its own.
//
// This module only converts text; it does not decide what a sensible
// interval is (that is config validation) and never rounds silently.
#ifndef PPROF_EXPORTER_EXPORTER_CONFIG_DURATION_H_
#define PPROF_EXPORTER_EXPORTER_CONFIG_DURATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace exporter {

// Parses one or more <non-negative integer><unit> groups, units in strictly
// descending order and each at most once: y (365d), w (7d), d (24h), h, m,
// s, ms. "0" alone is accepted as Prometheus does. No spaces, signs or
// fractions. Totals beyond int64 milliseconds are rejected.
//
// The error message quotes the input and says what is wrong, e.g.
//   bad duration "6O s": unknown unit "O" after 6
// so callers only need to prefix where the text came from.
absl::StatusOr<absl::Duration> ParsePromDuration(absl::string_view text);

// The inverse of ParsePromDuration for whole milliseconds: largest units
// first, zero as "0s". Years and weeks are only used when they divide the
// duration exactly, so 90 days prints as "90d" rather than "12w6d".
// Sub-millisecond parts are dropped (they cannot be written in this
// notation); negative durations get a leading '-', which ParsePromDuration
// does not accept back; infinite durations print as "inf" / "-inf".
std::string FormatPromDuration(absl::Duration duration);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_CONFIG_DURATION_H_
