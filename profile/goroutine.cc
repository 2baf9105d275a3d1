// The goroutine reducer: how many goroutines, how many services the process
// hosts, goroutines per service, and where the goroutines wait, grouped by
// the first frame of application code.
#include <algorithm>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "profile/goroutine_group.h"
#include "profile/reduce.h"

namespace profile {
namespace {

using Counts = NamedCounts;

// Goroutines per value of the label `key`; a sample counts once per value.
// Labels are compared by text: a string table may hold duplicates.
absl::StatusOr<Counts> CountByLabel(const Profile& profile, int value_index,
                                    absl::string_view key) {
  absl::flat_hash_map<absl::string_view, absl::int128> counts;
  std::vector<absl::string_view> values_of_sample;
  auto visited = profile.ForEachSample([&](const SampleRef& sample) {
    values_of_sample.clear();
    for (const Label& label : sample.labels) {
      if (profile.string(label.key) != key) continue;
      const absl::string_view value = profile.string(label.value);
      if (std::find(values_of_sample.begin(), values_of_sample.end(),
                    value) != values_of_sample.end()) {
        continue;
      }
      values_of_sample.push_back(value);
      counts[value] += sample.values[value_index];
    }
  });
  if (!visited.ok()) return visited;
  Counts out;
  for (const auto& [value, count] : counts) {
    out.emplace_back(std::string(value), SaturatedInt64(count));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Goroutines whose stack has a frame matching `regex`.
absl::StatusOr<int64_t> CountMatchingStacks(const Profile& profile,
                                            int value_index,
                                            const RE2& regex) {
  std::vector<bool> frame_matches(profile.frame_names.size());
  for (size_t f = 0; f < profile.frame_names.size(); ++f) {
    frame_matches[f] = FullMatch(profile.frame_names[f], regex);
  }
  absl::int128 count = 0;
  auto visited = profile.ForEachSample([&](const SampleRef& sample) {
    for (uint32_t loc : sample.locations) {
      for (uint32_t frame : profile.frames_of_location(loc)) {
        if (frame_matches[frame]) {
          count += sample.values[value_index];
          return;
        }
      }
    }
  });
  if (!visited.ok()) return visited;
  return SaturatedInt64(count);
}

// Each sample goes to its first application frame from the leaf, or to
// its leaf frame when the whole stack is standard library.
absl::StatusOr<Counts> CountByFirstApplicationFrame(const Profile& profile,
                                                    int value_index,
                                                    size_t top) {
  std::vector<int8_t> is_app(profile.frame_names.size(), -1);  // -1: unknown
  std::vector<absl::int128> counts(profile.frame_names.size(), 0);
  std::vector<bool> seen(profile.frame_names.size(), false);
  auto visited = profile.ForEachSample([&](const SampleRef& sample) {
    const int64_t v = sample.values[value_index];
    if (v == 0) return;
    std::optional<uint32_t> leaf, first_app;
    for (uint32_t loc : sample.locations) {
      for (uint32_t frame : profile.frames_of_location(loc)) {
        if (!leaf) leaf = frame;
        if (is_app[frame] < 0) {
          is_app[frame] = IsApplicationFunction(profile.frame_names[frame]);
        }
        if (is_app[frame]) {
          first_app = frame;
          break;
        }
      }
      if (first_app) break;
    }
    const std::optional<uint32_t> group = first_app ? first_app : leaf;
    if (!group) return;  // a sample without locations
    counts[*group] += v;
    seen[*group] = true;
  });
  if (!visited.ok()) return visited;
  Counts out;
  for (size_t f = 0; f < counts.size(); ++f) {
    if (seen[f]) {
      out.emplace_back(std::string(profile.frame_names[f]),
                       SaturatedInt64(counts[f]));
    }
  }
  return TopNamedCounts(std::move(out), top);
}

}  // namespace

NamedCounts TopNamedCounts(NamedCounts counts, size_t n) {
  n = std::min(n, counts.size());
  std::partial_sort(counts.begin(), counts.begin() + n, counts.end(),
                    [](const auto& a, const auto& b) {
                      if (a.second != b.second) return a.second > b.second;
                      return a.first < b.first;
                    });
  counts.resize(n);
  return counts;
}

std::optional<size_t> GroupingFrame(
    absl::Span<const absl::string_view> functions) {
  for (size_t i = 0; i < functions.size(); ++i) {
    if (IsApplicationFunction(functions[i])) return i;
  }
  if (functions.empty()) return std::nullopt;
  return 0;
}

absl::StatusOr<Reduction> ReduceGoroutineLeak(const Profile& profile,
                                              const ReduceOptions& options) {
  const std::optional<int> index = profile.FindSampleType("goroutineleak");
  if (!index) {
    return absl::InvalidArgumentError(
        "not a goroutineleak profile: it has no goroutineleak sample type");
  }
  GoroutineLeakReduction out;
  auto leaks = SumValues(profile, *index);
  if (!leaks.ok()) return leaks.status();
  out.leaks = SaturatedInt64(*leaks);
  auto by_function = CountByFirstApplicationFrame(profile, *index, options.top);
  if (!by_function.ok()) return by_function.status();
  out.by_function = *std::move(by_function);
  return out;
}

absl::StatusOr<GoroutineReduction> ReduceGoroutine(
    const Profile& profile, int value_index, const ReduceOptions& options) {
  GoroutineReduction out;
  auto goroutines = SumValues(profile, value_index);
  if (!goroutines.ok()) return goroutines.status();
  out.goroutines = SaturatedInt64(*goroutines);
  const ServiceCounting& services = options.services;
  switch (services.method) {
    case ServiceCounting::Method::kStatic:
      out.services = services.static_count;
      break;
    case ServiceCounting::Method::kLabel: {
      auto label_values = CountByLabel(profile, value_index, services.label);
      if (!label_values.ok()) return label_values.status();
      out.label_values = *std::move(label_values);
      out.services = static_cast<int64_t>(out.label_values.size());
      break;
    }
    case ServiceCounting::Method::kRegex:
      if (services.regex) {
        auto matching =
            CountMatchingStacks(profile, value_index, *services.regex);
        if (!matching.ok()) return matching.status();
        out.services = *matching;
      }
      break;
  }
  if (out.services > 0) {
    out.goroutines_per_service = static_cast<double>(out.goroutines) /
                                 static_cast<double>(out.services);
  }
  auto by_function =
      CountByFirstApplicationFrame(profile, value_index, options.top);
  if (!by_function.ok()) return by_function.status();
  out.by_function = *std::move(by_function);
  return out;
}

}  // namespace profile
