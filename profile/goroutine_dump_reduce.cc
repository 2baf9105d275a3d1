// What a parsed goroutine dump adds up to: the goroutine series, and from
// a debug=2 dump the states and waits (goroutine_dump.h).
#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "profile/goroutine_dump.h"
#include "profile/goroutine_group.h"

namespace profile {
namespace {

// Short, printable states are what the runtime prints; anything else is
// summed as "other" rather than becoming a label value.
bool IsPlausibleState(absl::string_view state) {
  return state.size() <= 64 &&
         std::all_of(state.begin(), state.end(), [](char c) {
           return absl::ascii_isprint(static_cast<unsigned char>(c));
         });
}

NamedCounts Named(const absl::flat_hash_map<absl::string_view,
                                            absl::int128>& counts) {
  NamedCounts out;
  out.reserve(counts.size());
  for (const auto& [name, count] : counts) {
    out.emplace_back(std::string(name), SaturatedInt64(count));
  }
  return out;
}

GoroutineWaits ReduceWaits(const GoroutineDump& dump, size_t top,
                           absl::Duration stuck_after) {
  absl::flat_hash_map<absl::string_view, absl::int128> states, stuck_groups;
  absl::int128 stuck = 0;
  int64_t longest_minutes = 0;
  for (const GoroutineStack& g : dump.stacks) {
    states[IsPlausibleState(g.state) ? g.state : "other"] += g.count;
    longest_minutes = std::max(longest_minutes, g.wait_minutes);
    if (g.wait_minutes >= 1 && absl::Minutes(g.wait_minutes) >= stuck_after) {
      stuck += g.count;
      if (auto frame = GroupingFrame(g.functions)) {
        stuck_groups[g.functions[*frame]] += g.count;
      }
    }
  }
  GoroutineWaits out;
  out.by_state = TopNamedCounts(Named(states), states.size());
  if (out.by_state.size() > kMaxGoroutineStates) {
    int64_t other = 0;
    for (size_t i = kMaxGoroutineStates - 1; i < out.by_state.size(); ++i) {
      other = SaturatedInt64(absl::int128(other) + out.by_state[i].second);
    }
    out.by_state.resize(kMaxGoroutineStates - 1);
    out.by_state.emplace_back("other", other);
  }
  out.stuck = SaturatedInt64(stuck);
  out.stuck_by_function = TopNamedCounts(Named(stuck_groups), top);
  out.longest_wait_seconds = static_cast<double>(longest_minutes) * 60;
  return out;
}

}  // namespace

GoroutineReduction ReduceParsedGoroutineDump(const GoroutineDump& dump,
                                             const ReduceOptions& options,
                                             absl::Duration stuck_after) {
  const ServiceCounting& services = options.services;
  absl::int128 goroutines = 0, matching_regex = 0;
  absl::flat_hash_map<absl::string_view, absl::int128> groups, label_values;
  absl::flat_hash_map<absl::string_view, bool> matches;  // per function
  for (const GoroutineStack& g : dump.stacks) {
    goroutines += g.count;
    if (auto frame = GroupingFrame(g.functions)) {
      groups[g.functions[*frame]] += g.count;
    }
    if (services.method == ServiceCounting::Method::kLabel) {
      // A goroutine counts once per value, as in CountByLabel.
      std::vector<absl::string_view> seen;
      for (const auto& [key, value] : g.labels) {
        if (key != services.label ||
            std::find(seen.begin(), seen.end(), value) != seen.end()) {
          continue;
        }
        seen.push_back(value);
        label_values[value] += g.count;
      }
    } else if (services.method == ServiceCounting::Method::kRegex &&
               services.regex) {
      const bool any = std::any_of(
          g.functions.begin(), g.functions.end(), [&](absl::string_view f) {
            auto [it, inserted] = matches.try_emplace(f, false);
            if (inserted) it->second = FullMatch(f, *services.regex);
            return it->second;
          });
      if (any) matching_regex += g.count;
    }
  }
  GoroutineReduction out;
  out.goroutines = SaturatedInt64(goroutines);
  switch (services.method) {
    case ServiceCounting::Method::kStatic:
      out.services = services.static_count;
      break;
    case ServiceCounting::Method::kLabel:
      out.label_values = Named(label_values);
      std::sort(out.label_values.begin(), out.label_values.end());
      out.services = static_cast<int64_t>(out.label_values.size());
      break;
    case ServiceCounting::Method::kRegex:
      out.services = SaturatedInt64(matching_regex);
      break;
  }
  if (out.services > 0) {
    out.goroutines_per_service = static_cast<double>(out.goroutines) /
                                 static_cast<double>(out.services);
  }
  out.by_function = TopNamedCounts(Named(groups), options.top);
  if (dump.format == GoroutineDumpFormat::kTraceback) {
    out.waits = ReduceWaits(dump, options.top, stuck_after);
  }
  return out;
}

absl::StatusOr<Reduction> ReduceGoroutineDump(
    absl::string_view text, const ReduceOptions& options,
    absl::Duration stuck_after, const GoroutineDumpLimits& limits) {
  absl::StatusOr<GoroutineDump> dump = ParseGoroutineDump(text, limits);
  if (!dump.ok()) return dump.status();
  return ReduceParsedGoroutineDump(*dump, options, stuck_after);
}

}  // namespace profile
