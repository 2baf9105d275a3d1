#include "profile/profile.h"

namespace profile {

std::optional<int> Profile::FindSampleType(absl::string_view type) const {
  for (size_t i = 0; i < sample_types.size(); ++i) {
    if (sample_types[i].type == type) return static_cast<int>(i);
  }
  return std::nullopt;
}

}  // namespace profile
