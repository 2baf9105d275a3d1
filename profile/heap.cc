// The heap reducer, for both heap and allocs profiles: Go serves the same
// data on both endpoints and only the preferred sample type differs.
#include "profile/reduce.h"

namespace profile {

namespace {

std::optional<double> Total(const Profile& profile, const FunctionTable& table,
                            absl::string_view type) {
  const auto index = profile.FindSampleType(type);
  if (!index) return std::nullopt;
  return InBaseUnits(table.sums[*index], profile.sample_types[*index].unit);
}

}  // namespace

absl::StatusOr<HeapReduction> ReduceHeap(const Profile& profile,
                                         int value_index,
                                         const ReduceOptions& options,
                                         bool cumulative,
                                         const FunctionBaseline* previous) {
  HeapReduction out;
  auto tabulated = TabulateFunctions(profile, value_index);
  if (!tabulated.ok()) return tabulated.status();
  const FunctionTable& table = *tabulated;
  // gperftools names its in-use values space and objects.
  out.inuse_bytes = Total(profile, table, "inuse_space");
  if (!out.inuse_bytes) out.inuse_bytes = Total(profile, table, "space");
  out.inuse_objects = Total(profile, table, "inuse_objects");
  if (!out.inuse_objects) out.inuse_objects = Total(profile, table, "objects");
  out.alloc_bytes = Total(profile, table, "alloc_space");
  out.alloc_objects = Total(profile, table, "alloc_objects");
  out.top_flat = TopByFlat(profile, table, options.top);
  out.top_cum = TopByCum(profile, table, options.top);
  if (cumulative) {
    out.windowed =
        MakeWindowed(profile, table, value_index, options.top, previous);
  }
  return out;
}

}  // namespace profile
