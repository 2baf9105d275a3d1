#include "exporter/config/duration.h"

#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace exporter {
namespace {

struct DurationUnit {
  absl::string_view suffix;
  int64_t milliseconds;
};

constexpr int64_t kMillisPerSecond = 1000;
constexpr int64_t kMillisPerMinute = 60 * kMillisPerSecond;
constexpr int64_t kMillisPerHour = 60 * kMillisPerMinute;
constexpr int64_t kMillisPerDay = 24 * kMillisPerHour;

// Largest first: the parser requires this order and the formatter emits it.
constexpr DurationUnit kUnits[] = {
    {"y", 365 * kMillisPerDay},
    {"w", 7 * kMillisPerDay},
    {"d", kMillisPerDay},
    {"h", kMillisPerHour},
    {"m", kMillisPerMinute},
    {"s", kMillisPerSecond},
    {"ms", 1},
};
constexpr int kUnitCount = sizeof(kUnits) / sizeof(kUnits[0]);

// Index into kUnits, or -1.
int FindUnit(absl::string_view suffix) {
  for (int i = 0; i < kUnitCount; ++i) {
    if (kUnits[i].suffix == suffix) return i;
  }
  return -1;
}

absl::Status BadDuration(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrFormat("bad duration \"%s\": %s", absl::CEscape(text), why));
}

constexpr char kUnitList[] = "y, w, d, h, m, s, ms";

}  // namespace

absl::StatusOr<absl::Duration> ParsePromDuration(absl::string_view text) {
  if (text.empty()) return BadDuration(text, "empty");
  if (text == "0") return absl::ZeroDuration();

  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t total_ms = 0;
  int smallest_allowed_unit = 0;  // index into kUnits; enforces the order
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t number_start = pos;
    int64_t number = 0;
    while (pos < text.size() && absl::ascii_isdigit(text[pos])) {
      const int digit = text[pos] - '0';
      if (number > (kMax - digit) / 10) return BadDuration(text, "too large");
      number = number * 10 + digit;
      ++pos;
    }
    if (pos == number_start) {
      return BadDuration(text,
                         absl::StrFormat("expected a number at \"%s\"",
                                         absl::CEscape(text.substr(pos))));
    }
    const absl::string_view digits =
        text.substr(number_start, pos - number_start);

    // A unit is the run of letters after the number ("m" vs "ms").
    const size_t unit_start = pos;
    while (pos < text.size() && absl::ascii_isalpha(text[pos])) ++pos;
    const absl::string_view suffix = text.substr(unit_start, pos - unit_start);
    if (suffix.empty()) {
      const absl::string_view next = text.substr(pos, 1);
      return BadDuration(
          text,
          next.empty() || absl::ascii_isdigit(next[0])
              ? absl::StrCat("missing unit (", kUnitList, ") after ", digits)
              : absl::StrFormat("unexpected \"%s\" after %s",
                                absl::CEscape(next), digits));
    }
    const int unit = FindUnit(suffix);
    if (unit < 0) {
      return BadDuration(
          text, absl::StrFormat("unknown unit \"%s\" after %s (want one of %s)",
                                absl::CEscape(suffix), digits, kUnitList));
    }
    if (unit < smallest_allowed_unit) {
      return BadDuration(
          text, absl::StrCat("units must be in descending order (", kUnitList,
                             ") and each used once"));
    }
    smallest_allowed_unit = unit + 1;

    const int64_t unit_ms = kUnits[unit].milliseconds;
    if (number > kMax / unit_ms || number * unit_ms > kMax - total_ms) {
      return BadDuration(text, "too large");
    }
    total_ms += number * unit_ms;
  }
  return absl::Milliseconds(total_ms);
}

std::string FormatPromDuration(absl::Duration duration) {
  if (duration == absl::InfiniteDuration()) return "inf";
  if (duration == -absl::InfiniteDuration()) return "-inf";
  if (duration < absl::ZeroDuration()) {
    return absl::StrCat("-", FormatPromDuration(-duration));
  }
  int64_t remaining_ms = absl::ToInt64Milliseconds(duration);
  if (remaining_ms == 0) return "0s";

  std::string out;
  for (const DurationUnit& unit : kUnits) {
    // Years and weeks only when exact: "90d" reads better than "12w6d".
    const bool only_if_exact = unit.milliseconds > kMillisPerDay;
    if (only_if_exact && remaining_ms % unit.milliseconds != 0) continue;
    const int64_t count = remaining_ms / unit.milliseconds;
    if (count == 0) continue;
    absl::StrAppend(&out, count, unit.suffix);
    remaining_ms -= count * unit.milliseconds;
  }
  return out;
}

}  // namespace exporter
