// Windows over cumulative profiles. Go's allocs, mutex and block profiles
// (and heap's alloc_* values) count since the process started, so their top
// functions mostly describe start-up. Subtracting the previous scrape's
// per-function values from the current ones gives what happened in between,
// as `go tool pprof -base previous current` shows it.
//
// Subtracting per function is exact here: flat and cum are sums over
// samples, so they subtract stack by stack. The window's total is the
// difference of the totals; that equals pprof's sum of absolute per-stack
// differences because every stack only grows between two profiles of one
// process. When anything shrank, the process restarted (or changed its
// profile rate): there is no window, and the current profile becomes the
// new baseline.
#ifndef PPROF_EXPORTER_PROFILE_WINDOW_H_
#define PPROF_EXPORTER_PROFILE_WINDOW_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/numeric/int128.h"
#include "profile/profile.h"
#include "profile/top.h"

namespace profile {

// What the next window is measured from: per function (by a 64-bit hash of
// its name, to stay small) the flat and cum values of one sample type.
struct FunctionBaseline {
  struct Values {
    absl::int128 flat = 0;
    absl::int128 cum = 0;
  };
  absl::flat_hash_map<uint64_t, Values> by_function;
  absl::int128 total = 0;   // the sample type's sum over all samples
  int64_t time_nanos = 0;   // when the profile was taken (0 if unknown)
};

FunctionBaseline BaselineOf(const Profile& profile, const FunctionTable& table,
                            int sample_index);

struct Window {
  absl::int128 total = 0;      // the sample type's growth in the window
  double seconds = 0;          // window length; 0 if the profiles lack times
  std::vector<FunctionShare> top_flat, top_cum;  // ratios of `total`
};

// The window from `base` to the current profile, or nullopt after a
// restart (some value went down).
std::optional<Window> Subtract(const Profile& profile,
                               const FunctionTable& table, int sample_index,
                               const FunctionBaseline& base, size_t top);

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_WINDOW_H_
