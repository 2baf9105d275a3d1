#include "profile/window.h"

#include "absl/hash/hash.h"

namespace profile {
namespace {

uint64_t NameHash(absl::string_view name) { return absl::HashOf(name); }

}  // namespace

FunctionBaseline BaselineOf(const Profile& profile, const FunctionTable& table,
                            int sample_index) {
  FunctionBaseline base;
  base.by_function.reserve(table.functions.size());
  for (const FunctionValue& f : table.functions) {
    base.by_function[NameHash(profile.frame_names[f.frame])] = {f.flat, f.cum};
  }
  base.total = table.sums[sample_index];
  base.time_nanos = profile.time_nanos;
  return base;
}

std::optional<Window> Subtract(const Profile& profile,
                               const FunctionTable& table, int sample_index,
                               const FunctionBaseline& base, size_t top) {
  Window window;
  window.total = table.sums[sample_index] - base.total;
  if (window.total < 0) return std::nullopt;
  // The window's table: current minus base, function by function. A
  // function the base lacks started within the window.
  FunctionTable delta;
  delta.total = window.total;
  size_t functions_in_base = 0;
  for (const FunctionValue& f : table.functions) {
    FunctionValue d = f;
    auto it = base.by_function.find(NameHash(profile.frame_names[f.frame]));
    if (it != base.by_function.end()) {
      ++functions_in_base;
      d.flat -= it->second.flat;
      d.cum -= it->second.cum;
      if (d.flat < 0 || d.cum < 0) return std::nullopt;
    }
    if (d.cum != 0) delta.functions.push_back(d);
  }
  // A function that vanished from a cumulative profile means a restart.
  if (functions_in_base != base.by_function.size()) return std::nullopt;
  if (profile.time_nanos != 0 && base.time_nanos != 0 &&
      profile.time_nanos > base.time_nanos) {
    window.seconds =
        static_cast<double>(profile.time_nanos - base.time_nanos) / 1e9;
  }
  window.top_flat = TopByFlat(profile, delta, top);
  window.top_cum = TopByCum(profile, delta, top);
  return window;
}

}  // namespace profile
