// The decoded profile: one plain, validated data model that every reducer
// reads. It is built once by Decode() (decode.h) from profile.proto bytes and
// never changes afterwards, so reducers need no id lookups and no checks.
//
// Stacks are stored as flat arrays of dense indices, leaf first:
//   sample s  -> locations  sample_locations[sample_begin[s] .. sample_begin[s+1])
//   location l -> frames    location_frames[location_begin[l] .. location_begin[l+1])
//   frame      -> function  frame_names[id]
// A location's frames are its Lines, innermost (inlined) first, after pprof's
// drop_frames pruning. A frame is identified by its function *name*, which is
// how `go tool pprof -top` groups at function granularity.
#ifndef PPROF_EXPORTER_PROFILE_PROFILE_H_
#define PPROF_EXPORTER_PROFILE_PROFILE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace profile {

struct ValueType {
  std::string type;  // e.g. "cpu", "inuse_space", "delay"
  std::string unit;  // e.g. "nanoseconds", "bytes", "count"
};

// A string label (key=value) of a sample, as ids into Profile::label_strings.
struct Label {
  uint32_t key;
  uint32_t value;
};

struct Profile {
  std::vector<ValueType> sample_types;
  // pprof's default choice of sample type; see DefaultSampleIndex().
  int default_sample_index = 0;
  ValueType period_type;
  int64_t period = 0;
  int64_t duration_nanos = 0;
  int64_t time_nanos = 0;

  // Distinct frame names; a FrameId indexes this vector.
  std::vector<std::string> frame_names;
  // Per location (dense index, profile order): its frames, leaf first.
  std::vector<uint32_t> location_begin;  // size num_locations + 1
  std::vector<uint32_t> location_frames;

  // Per sample: its locations, leaf first, and its values, row-major
  // (sample_types.size() values per sample).
  std::vector<uint32_t> sample_begin;  // size num_samples + 1
  std::vector<uint32_t> sample_locations;
  std::vector<int64_t> sample_values;

  // Per sample: its string labels. Numeric labels are not kept.
  std::vector<uint32_t> label_begin;  // size num_samples + 1
  std::vector<Label> labels;
  std::vector<std::string> label_strings;

  // Table sizes of the encoded profile, for reporting.
  size_t num_functions = 0;
  size_t num_mappings = 0;

  size_t num_samples() const { return sample_begin.size() - 1; }
  size_t num_locations() const { return location_begin.size() - 1; }

  int64_t value(size_t sample, int index) const {
    return sample_values[sample * sample_types.size() + index];
  }
  absl::Span<const uint32_t> locations_of(size_t sample) const {
    return {sample_locations.data() + sample_begin[sample],
            sample_begin[sample + 1] - sample_begin[sample]};
  }
  absl::Span<const uint32_t> frames_of_location(uint32_t location) const {
    return {location_frames.data() + location_begin[location],
            location_begin[location + 1] - location_begin[location]};
  }
  absl::Span<const Label> labels_of(size_t sample) const {
    return {labels.data() + label_begin[sample],
            label_begin[sample + 1] - label_begin[sample]};
  }

  // Index of the sample type with this name, if the profile has one.
  std::optional<int> FindSampleType(absl::string_view type) const;
};

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_PROFILE_H_
