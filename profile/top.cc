#include "profile/top.h"

#include <algorithm>

namespace profile {
namespace {

absl::int128 Abs(absl::int128 v) { return v < 0 ? -v : v; }

template <typename Key>
std::vector<FunctionShare> Top(const Profile& profile,
                               const FunctionTable& table, size_t n,
                               Key key) {
  std::vector<const FunctionValue*> order;
  order.reserve(table.functions.size());
  for (const FunctionValue& f : table.functions) order.push_back(&f);
  auto before = [&](const FunctionValue* a, const FunctionValue* b) {
    const absl::int128 ka = Abs(key(*a)), kb = Abs(key(*b));
    if (ka != kb) return ka > kb;
    return profile.frame_names[a->frame] < profile.frame_names[b->frame];
  };
  n = std::min(n, order.size());
  std::partial_sort(order.begin(), order.begin() + n, order.end(), before);
  std::vector<FunctionShare> top;
  top.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const FunctionValue& f = *order[i];
    top.push_back({profile.frame_names[f.frame], f.flat, f.cum,
                   Ratio(f.flat, table.total), Ratio(f.cum, table.total)});
  }
  return top;
}

}  // namespace

double Ratio(absl::int128 value, absl::int128 total) {
  if (total == 0) return 0;
  return static_cast<double>(value) / static_cast<double>(total);
}

FunctionTable TabulateFunctions(const Profile& profile, int sample_index) {
  const size_t num_frames = profile.frame_names.size();
  std::vector<absl::int128> flat(num_frames), cum(num_frames);
  // last_sample[f] == s + 1 when frame f was already counted for sample s:
  // a generation stamp instead of a per-sample set.
  std::vector<uint32_t> last_sample(num_frames, 0);
  std::vector<bool> seen(num_frames, false);
  FunctionTable table;
  for (size_t s = 0; s < profile.num_samples(); ++s) {
    const int64_t v = profile.value(s, sample_index);
    if (v == 0) continue;
    table.total += Abs(v);
    const uint32_t stamp = static_cast<uint32_t>(s + 1);
    bool leaf = true;
    for (uint32_t loc : profile.locations_of(s)) {
      for (uint32_t frame : profile.frames_of_location(loc)) {
        if (leaf) {
          flat[frame] += v;
          leaf = false;
        }
        if (last_sample[frame] != stamp) {
          last_sample[frame] = stamp;
          cum[frame] += v;
          seen[frame] = true;
        }
      }
    }
  }
  for (uint32_t f = 0; f < num_frames; ++f) {
    if (seen[f]) table.functions.push_back({f, flat[f], cum[f]});
  }
  return table;
}

std::vector<FunctionShare> TopByFlat(const Profile& profile,
                                     const FunctionTable& table, size_t n) {
  return Top(profile, table, n, [](const FunctionValue& f) { return f.flat; });
}

std::vector<FunctionShare> TopByCum(const Profile& profile,
                                    const FunctionTable& table, size_t n) {
  return Top(profile, table, n, [](const FunctionValue& f) { return f.cum; });
}

}  // namespace profile
