#include "profile/profile.h"

#include "absl/strings/str_cat.h"
#include "profile/sample_reader.h"
#include "profile/wire.h"
#include "profile/profile.pb.h"

namespace profile {
namespace {

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed profile: ", what));
}

}  // namespace

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

absl::Status Profile::ForEachSample(
    absl::FunctionRef<void(const SampleRef&)> visit) const {
  return ForEachSample(SampleShard(samples_), visit);
}

std::vector<SampleShard> Profile::SampleShards(size_t max_shards) const {
  std::vector<SampleShard> shards;
  for (const MessageRegion& region : wire::SplitRegion(
           *wire_, samples_, perftools::profiles::Profile::kSampleFieldNumber,
           max_shards)) {
    shards.push_back(SampleShard(region));
  }
  return shards;
}

absl::Status Profile::ForEachSample(
    const SampleShard& shard,
    absl::FunctionRef<void(const SampleRef&)> visit) const {
  const size_t num_types = sample_types.size();
  const size_t num_strings = strings_.size();
  auto resolve = [this](uint64_t id) { return location_ids_.Find(id); };
  std::vector<uint32_t> locations;
  std::vector<int64_t> values;
  std::vector<int64_t> label_strings;  // key, str, num_unit per label
  std::vector<Label> labels;
  wire::Sample sample;  // for samples off the fast path
  absl::Status status;
  auto values_mismatch = [&]() {
    return Invalid(absl::StrCat("sample has ", values.size(), " values for ",
                                num_types, " sample types"));
  };
  // A sample off the fast path is read thoroughly: that reading decides,
  // and words the error.
  auto read_thoroughly = [&](absl::string_view bytes) -> absl::Status {
    if (auto s = wire::ParseSample(bytes, &sample); !s.ok()) return s;
    values.swap(sample.values);
    if (values.size() != num_types) return values_mismatch();
    locations.clear();
    for (uint64_t id : sample.location_ids) {
      const int location = resolve(id);
      if (location < 0) {
        return Invalid(
            absl::StrCat("sample refers to unknown location id ", id));
      }
      locations.push_back(static_cast<uint32_t>(location));
    }
    label_strings.swap(sample.label_strings);
    return absl::OkStatus();
  };
  const char* const readable_end = wire_->data() + wire_->size();
  wire::ForEachMessage(
      *wire_, shard.region_,
      perftools::profiles::Profile::kSampleFieldNumber,
      [&](absl::string_view bytes) {
        if (!wire::ReadPlainSample(bytes, readable_end, resolve, &locations,
                                   &values, &label_strings)) {
          status = read_thoroughly(bytes);
          if (!status.ok()) return false;
        }
        if (values.size() != num_types) {
          status = values_mismatch();
          return false;
        }
        labels.clear();
        for (size_t i = 0; i < label_strings.size(); i += 3) {
          for (size_t j = i; j < i + 3; ++j) {
            if (static_cast<uint64_t>(label_strings[j]) >= num_strings) {
              status = Invalid(absl::StrCat(
                  "label refers to string ", label_strings[j],
                  " beyond the string table (", num_strings, " entries)"));
              return false;
            }
          }
          // A label with a numeric value has no string (str 0); pprof's
          // string labels are the others.
          if (label_strings[i + 1] == 0) continue;
          labels.push_back({static_cast<uint32_t>(label_strings[i]),
                            static_cast<uint32_t>(label_strings[i + 1])});
        }
        const size_t kept = pruner_.KeptFromRoot(locations);
        visit({absl::MakeConstSpan(locations).subspan(locations.size() - kept),
               values, labels});
        return true;
      });
  return status;
}

}  // namespace profile
