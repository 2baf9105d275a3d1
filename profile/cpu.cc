// The CPU reducer: sampled CPU time, the share spent in garbage collection
// (and the part of it done by idle mark workers), and the hottest functions.
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

const RE2& DefaultGcIdleRegex() {
  static const RE2* const regex = new RE2(kDefaultGcIdleRegex);
  return *regex;
}

// What a location's frames (inlined ones included) do: bits of GcKind.
enum GcKind : uint8_t { kGcWork = 1, kGcIdleWork = 2 };

// Per location: which of the regexes any of its frames matches. Each
// distinct name is matched once, so the cost is two regex matches per
// function.
std::vector<uint8_t> GcLocationKinds(const Profile& profile, const RE2& gc,
                                     const RE2& gc_idle) {
  std::vector<uint8_t> frame_kinds(profile.frame_names.size());
  for (size_t f = 0; f < profile.frame_names.size(); ++f) {
    frame_kinds[f] = (FullMatch(profile.frame_names[f], gc) ? kGcWork : 0) |
                     (FullMatch(profile.frame_names[f], gc_idle) ? kGcIdleWork
                                                                 : 0);
  }
  std::vector<uint8_t> location_kinds(profile.num_locations());
  for (uint32_t loc = 0; loc < profile.num_locations(); ++loc) {
    for (uint32_t frame : profile.frames_of_location(loc)) {
      location_kinds[loc] |= frame_kinds[frame];
    }
  }
  return location_kinds;
}

// What one shard of the samples adds up to.
struct ShardSums {
  explicit ShardSums(FunctionTabulator tabulator)
      : functions(std::move(tabulator)) {}
  FunctionTabulator functions;
  absl::int128 gc_value = 0;
  absl::int128 gc_idle_value = 0;
  absl::Status status;
};

}  // namespace

absl::StatusOr<CpuReduction> ReduceCpu(
    const Profile& profile, int value_index, const ReduceOptions& options,
    const SampleParallelism& parallelism) {
  CpuReduction out;
  out.duration_seconds = static_cast<double>(profile.duration_nanos) / 1e9;

  const int cpu_index = profile.FindSampleType("cpu").value_or(value_index);
  const std::vector<uint8_t> location_kinds = GcLocationKinds(
      profile, options.gc_regex ? *options.gc_regex : DefaultGcRegex(),
      options.gc_idle_regex ? *options.gc_idle_regex : DefaultGcIdleRegex());

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
          // A stack counts once however many of its frames match, as
          // with pprof's -focus.
          uint8_t kinds = 0;
          for (uint32_t loc : sample.locations) {
            kinds |= location_kinds[loc];
            if (kinds == (kGcWork | kGcIdleWork)) break;
          }
          if (kinds & kGcWork) shard.gc_value += sample.values[cpu_index];
          if (kinds & kGcIdleWork) {
            shard.gc_idle_value += sample.values[cpu_index];
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
    all.gc_idle_value += sums[i]->gc_idle_value;
    sums[i].reset();  // before Finish(), the moment of peak memory
  }
  out.gc_value = all.gc_value;
  out.gc_idle_value = all.gc_idle_value;
  const FunctionTable table = std::move(all.functions).Finish();

  const absl::int128 cpu_total = table.sums[cpu_index];
  if (profile.FindSampleType("cpu")) {
    out.sampled_seconds =
        InBaseUnits(cpu_total, profile.sample_types[cpu_index].unit);
  }
  out.gc_ratio = Ratio(out.gc_value, cpu_total);
  out.gc_idle_ratio = Ratio(out.gc_idle_value, cpu_total);
  out.top_flat = TopByFlat(profile, table, options.top);
  out.top_cum = TopByCum(profile, table, options.top);
  return out;
}

}  // namespace profile
