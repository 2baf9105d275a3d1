// The contention reducer, for both mutex and block profiles: total delay,
// contention count, and where the waiting happens. Both totals are
// cumulative since the program started.
#include "profile/reduce.h"

namespace profile {

absl::StatusOr<ContentionReduction> ReduceContention(
    const Profile& profile, int value_index, const ReduceOptions& options,
    const FunctionBaseline* previous) {
  ContentionReduction out;
  auto tabulated = TabulateFunctions(profile, value_index);
  if (!tabulated.ok()) return tabulated.status();
  const FunctionTable& table = *tabulated;
  if (auto delay = profile.FindSampleType("delay")) {
    out.delay_seconds =
        InBaseUnits(table.sums[*delay], profile.sample_types[*delay].unit);
  }
  if (auto contentions = profile.FindSampleType("contentions")) {
    out.contentions = InBaseUnits(table.sums[*contentions],
                                  profile.sample_types[*contentions].unit);
  }
  out.top_flat = TopByFlat(profile, table, options.top);
  out.top_cum = TopByCum(profile, table, options.top);
  out.windowed =
      MakeWindowed(profile, table, value_index, options.top, previous);
  return out;
}

}  // namespace profile
