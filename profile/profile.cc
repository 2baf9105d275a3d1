#include "profile/profile.h"

#include "profile/wire.h"

namespace profile {

std::optional<int> Profile::FindSampleType(absl::string_view type) const {
  for (size_t i = 0; i < sample_types.size(); ++i) {
    if (sample_types[i].type == type) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::optional<uint32_t> Profile::FindString(absl::string_view text) const {
  for (uint32_t i = 0; i < strings_.size(); ++i) {
    if (strings_[i] == text) return i;
  }
  return std::nullopt;
}

void Profile::ForEachSample(absl::FunctionRef<void(const SampleRef&)> visit,
                            Labels with_labels) const {
  wire::Sample sample;
  std::vector<uint32_t> locations;
  std::vector<Label> labels;
  for (const auto& [offset, size] : samples_) {
    // Decode() checked every sample, so this cannot fail.
    (void)wire::ParseSample(absl::string_view(wire_->data() + offset, size),
                            &sample, with_labels == Labels::kInclude);
    locations.clear();
    for (uint64_t id : sample.location_ids) {
      locations.push_back(static_cast<uint32_t>(location_ids_.Find(id)));
    }
    labels.clear();
    for (const auto& [key, value] : sample.labels) {
      labels.push_back({static_cast<uint32_t>(key), static_cast<uint32_t>(value)});
    }
    const size_t kept = pruner_.KeptFromRoot(locations);
    visit({absl::MakeConstSpan(locations).subspan(locations.size() - kept),
           sample.values, labels});
  }
}

}  // namespace profile
