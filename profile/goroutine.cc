// The goroutine reducer: how many goroutines, how many services the process
// hosts, goroutines per service, and where the goroutines wait, grouped by
// the first frame of application code.
#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "profile/reduce.h"

namespace profile {
namespace {

using Counts = std::vector<std::pair<std::string, int64_t>>;

std::optional<uint32_t> LabelStringId(const Profile& profile,
                                      absl::string_view text) {
  for (uint32_t id = 0; id < profile.label_strings.size(); ++id) {
    if (profile.label_strings[id] == text) return id;
  }
  return std::nullopt;
}

// Goroutines per value of the label `key`; a sample counts once per value.
Counts CountByLabel(const Profile& profile, int value_index,
                    absl::string_view key) {
  std::map<std::string, int64_t> counts;
  const std::optional<uint32_t> key_id = LabelStringId(profile, key);
  if (!key_id) return {};
  std::vector<uint32_t> values_of_sample;
  for (size_t s = 0; s < profile.num_samples(); ++s) {
    values_of_sample.clear();
    for (const Label& label : profile.labels_of(s)) {
      if (label.key != *key_id) continue;
      if (std::find(values_of_sample.begin(), values_of_sample.end(),
                    label.value) != values_of_sample.end()) {
        continue;
      }
      values_of_sample.push_back(label.value);
      counts[profile.label_strings[label.value]] +=
          profile.value(s, value_index);
    }
  }
  return Counts(counts.begin(), counts.end());
}

// Goroutines whose stack has a frame matching `regex`.
int64_t CountMatchingStacks(const Profile& profile, int value_index,
                            const RE2& regex) {
  std::vector<bool> frame_matches(profile.frame_names.size());
  for (size_t f = 0; f < profile.frame_names.size(); ++f) {
    frame_matches[f] = FullMatch(profile.frame_names[f], regex);
  }
  int64_t count = 0;
  for (size_t s = 0; s < profile.num_samples(); ++s) {
    bool matches = false;
    for (uint32_t loc : profile.locations_of(s)) {
      for (uint32_t frame : profile.frames_of_location(loc)) {
        matches = matches || frame_matches[frame];
      }
    }
    if (matches) count += profile.value(s, value_index);
  }
  return count;
}

// Each sample goes to its first application frame from the leaf, or to
// its leaf frame when the whole stack is standard library.
Counts CountByFirstApplicationFrame(const Profile& profile, int value_index,
                                    size_t top) {
  std::vector<int8_t> is_app(profile.frame_names.size(), -1);  // -1: unknown
  std::vector<int64_t> counts(profile.frame_names.size(), 0);
  std::vector<bool> seen(profile.frame_names.size(), false);
  for (size_t s = 0; s < profile.num_samples(); ++s) {
    const int64_t v = profile.value(s, value_index);
    if (v == 0) continue;
    std::optional<uint32_t> leaf, first_app;
    for (uint32_t loc : profile.locations_of(s)) {
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
    if (!group) continue;  // a sample without locations
    counts[*group] += v;
    seen[*group] = true;
  }
  Counts out;
  for (size_t f = 0; f < counts.size(); ++f) {
    if (seen[f]) out.emplace_back(profile.frame_names[f], counts[f]);
  }
  const size_t n = std::min(top, out.size());
  std::partial_sort(out.begin(), out.begin() + n, out.end(),
                    [](const auto& a, const auto& b) {
                      if (a.second != b.second) return a.second > b.second;
                      return a.first < b.first;
                    });
  out.resize(n);
  return out;
}

}  // namespace

GoroutineReduction ReduceGoroutine(const Profile& profile, int value_index,
                                   const ReduceOptions& options) {
  GoroutineReduction out;
  out.goroutines = static_cast<int64_t>(SumValues(profile, value_index));
  const ServiceCounting& services = options.services;
  switch (services.method) {
    case ServiceCounting::Method::kStatic:
      out.services = services.static_count;
      break;
    case ServiceCounting::Method::kLabel:
      out.label_values = CountByLabel(profile, value_index, services.label);
      out.services = static_cast<int64_t>(out.label_values.size());
      break;
    case ServiceCounting::Method::kRegex:
      out.services = services.regex
                         ? CountMatchingStacks(profile, value_index,
                                               *services.regex)
                         : 0;
      break;
  }
  if (out.services > 0) {
    out.goroutines_per_service = static_cast<double>(out.goroutines) /
                                 static_cast<double>(out.services);
  }
  out.by_function =
      CountByFirstApplicationFrame(profile, value_index, options.top);
  return out;
}

}  // namespace profile
