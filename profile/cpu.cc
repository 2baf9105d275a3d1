// The CPU reducer: sampled CPU time, the share spent in garbage collection,
// and the hottest functions.
#include <optional>
#include <utility>
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

// What one shard of the samples adds up to.
struct ShardSums {
  explicit ShardSums(FunctionTabulator tabulator)
      : functions(std::move(tabulator)) {}
  FunctionTabulator functions;
  absl::int128 gc_value = 0;
  absl::Status status;
};

}  // namespace

absl::StatusOr<CpuReduction> ReduceCpu(
    const Profile& profile, int value_index, const ReduceOptions& options,
    const SampleParallelism& parallelism) {
  CpuReduction out;
  out.duration_seconds = static_cast<double>(profile.duration_nanos) / 1e9;

  const int cpu_index = profile.FindSampleType("cpu").value_or(value_index);
  const std::vector<bool> location_is_gc = GcLocations(
      profile, options.gc_regex ? *options.gc_regex : DefaultGcRegex());

  // One pass over the samples for every figure, perhaps in shards; each
  // shard's sums are its own until the merge, so shards may run at once.
  const std::vector<SampleShard> shards =
      profile.SampleShards(parallelism.max_shards);
  std::vector<std::optional<ShardSums>> sums(shards.size());
  sums[0].emplace(FunctionTabulator(profile, value_index));
  for (size_t i = 1; i < sums.size(); ++i) {
    sums[i].emplace(sums[0]->functions.ForAnotherShard());
  }
  auto reduce_shard = [&](size_t i) {
    ShardSums& shard = *sums[i];
    shard.status =
        profile.ForEachSample(shards[i], [&](const SampleRef& sample) {
          shard.functions.Add(sample);
          for (uint32_t loc : sample.locations) {
            if (location_is_gc[loc]) {
              shard.gc_value += sample.values[cpu_index];
              return;
            }
          }
        });
  };
  if (shards.size() > 1 && parallelism.run) {
    parallelism.run(shards.size(), reduce_shard);
  } else {
    for (size_t i = 0; i < shards.size(); ++i) reduce_shard(i);
  }
  // In profile order, so that the first malformed sample is the error.
  for (const std::optional<ShardSums>& shard : sums) {
    if (!shard->status.ok()) return shard->status;
  }
  ShardSums& all = *sums[0];
  for (size_t i = 1; i < sums.size(); ++i) {
    all.functions.Merge(std::move(sums[i]->functions));
    all.gc_value += sums[i]->gc_value;
    sums[i].reset();  // before Finish(), the moment of peak memory
  }
  out.gc_value = all.gc_value;
  const FunctionTable table = std::move(all.functions).Finish();

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
