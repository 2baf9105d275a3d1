// The CPU reducer: sampled CPU time, the share spent in garbage collection,
// and the hottest functions.
#include <vector>

#include "profile/reduce.h"

namespace profile {

namespace {

const RE2& DefaultGcRegex() {
  static const RE2* const regex = new RE2(kDefaultGcRegex);
  return *regex;
}

// Per location: does any of its frames do GC work? Each distinct name is
// matched once, so the cost is one regex match per function.
std::vector<bool> GcLocations(const Profile& profile, const RE2& gc_regex) {
  std::vector<bool> frame_is_gc(profile.frame_names.size());
  for (size_t f = 0; f < profile.frame_names.size(); ++f) {
    frame_is_gc[f] = FullMatch(profile.frame_names[f], gc_regex);
  }
  std::vector<bool> location_is_gc(profile.num_locations());
  for (uint32_t loc = 0; loc < profile.num_locations(); ++loc) {
    for (uint32_t frame : profile.frames_of_location(loc)) {
      if (frame_is_gc[frame]) location_is_gc[loc] = true;
    }
  }
  return location_is_gc;
}

}  // namespace

absl::StatusOr<CpuReduction> ReduceCpu(const Profile& profile,
                                       int value_index,
                                       const ReduceOptions& options) {
  CpuReduction out;
  out.duration_seconds = static_cast<double>(profile.duration_nanos) / 1e9;

  const int cpu_index = profile.FindSampleType("cpu").value_or(value_index);
  const std::vector<bool> location_is_gc = GcLocations(
      profile, options.gc_regex ? *options.gc_regex : DefaultGcRegex());

  // One pass over the samples for every figure.
  FunctionTabulator tabulator(profile, value_index);
  if (auto s = profile.ForEachSample([&](const SampleRef& sample) {
        tabulator.Add(sample);
        for (uint32_t loc : sample.locations) {
          if (location_is_gc[loc]) {
            out.gc_value += sample.values[cpu_index];
            return;
          }
        }
      });
      !s.ok()) {
    return s;
  }
  const FunctionTable table = std::move(tabulator).Finish();

  const absl::int128 cpu_total = table.sums[cpu_index];
  if (profile.FindSampleType("cpu")) {
    out.sampled_seconds =
        InBaseUnits(cpu_total, profile.sample_types[cpu_index].unit);
  }
  out.gc_ratio = Ratio(out.gc_value, cpu_total);
  out.top_flat = TopByFlat(profile, table, options.top);
  out.top_cum = TopByCum(profile, table, options.top);
  return out;
}

}  // namespace profile
