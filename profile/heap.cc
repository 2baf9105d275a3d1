// The heap reducer, for both heap and allocs profiles: Go serves the same
// data on both endpoints and only the preferred sample type differs.
#include "profile/reduce.h"

namespace profile {

namespace {

std::optional<double> Total(const Profile& profile, absl::string_view type) {
  const auto index = profile.FindSampleType(type);
  if (!index) return std::nullopt;
  return InBaseUnits(SumValues(profile, *index),
                     profile.sample_types[*index].unit);
}

}  // namespace

HeapReduction ReduceHeap(const Profile& profile, int value_index,
                         const ReduceOptions& options) {
  HeapReduction out;
  out.inuse_bytes = Total(profile, "inuse_space");
  out.inuse_objects = Total(profile, "inuse_objects");
  out.alloc_bytes = Total(profile, "alloc_space");
  out.alloc_objects = Total(profile, "alloc_objects");
  const FunctionTable table = TabulateFunctions(profile, value_index);
  out.top_flat = TopByFlat(profile, table, options.top);
  out.top_cum = TopByCum(profile, table, options.top);
  return out;
}

}  // namespace profile
