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
  const bool skip_labels = with_labels == Labels::kSkip;
  auto resolve = [this](uint64_t id) { return location_ids_.Find(id); };
  std::vector<uint32_t> locations;
  std::vector<int64_t> values;
  std::vector<int64_t> label_strings;  // key, str, num_unit per label
  std::vector<Label> labels;
  wire::Sample sample;  // for samples off the fast path
  const char* const readable_end = wire_->data() + wire_->size();
  wire::ForEachSampleMessage(*wire_, samples_, [&](absl::string_view bytes) {
    labels.clear();
    if (wire::ReadPlainSample(bytes, readable_end, resolve, &locations,
                              &values,
                              skip_labels ? nullptr : &label_strings)) {
      for (size_t i = 0; !skip_labels && i < label_strings.size(); i += 3) {
        // A label with a numeric value has no string (str 0); pprof's
        // string labels are the others.
        if (label_strings[i + 1] == 0) continue;
        labels.push_back({static_cast<uint32_t>(label_strings[i]),
                          static_cast<uint32_t>(label_strings[i + 1])});
      }
    } else {
      // Decode() checked every sample, so this cannot fail.
      (void)wire::ParseSample(bytes, &sample, !skip_labels);
      locations.clear();
      for (uint64_t id : sample.location_ids) {
        locations.push_back(static_cast<uint32_t>(resolve(id)));
      }
      values.swap(sample.values);
      for (const auto& [key, value] : sample.labels) {
        labels.push_back(
            {static_cast<uint32_t>(key), static_cast<uint32_t>(value)});
      }
    }
    const size_t kept = pruner_.KeptFromRoot(locations);
    visit({absl::MakeConstSpan(locations).subspan(locations.size() - kept),
           values, labels});
  });
}

}  // namespace profile
