// The decoded profile: one plain, validated data model that every reducer
// reads. Decode() (decode.h) builds it once from profile.proto bytes and it
// never changes afterwards, so reducers need no id lookups.
//
// Tables are dense arrays, leaf first:
//   location l -> frames   location_frames[location_begin[l] .. [l+1])
//   frame      -> function frame_names[id]
// A location's frames are its Lines, innermost (inlined) first, after pprof's
// drop_frames pruning. A frame is identified by its function *name*, which is
// how `go tool pprof -top` groups at function granularity.
//
// Samples are by far the bulk of a profile, so they are not copied out:
// ForEachSample() decodes them from the profile's own bytes on each visit,
// which keeps memory near the size of the uncompressed profile. For the same
// reason a sample is checked only as it is visited, in the reducer's one
// pass over them rather than in a pass of its own: Decode() checks every
// table but the samples, and a malformed sample is ForEachSample()'s error.
//
// That pass may be split: SampleShards() cuts the samples into contiguous
// shards that ForEachSample() visits independently (the Profile is never
// written after Decode(), so on threads at once too; profile/ starts none).
#ifndef PPROF_EXPORTER_PROFILE_PROFILE_H_
#define PPROF_EXPORTER_PROFILE_PROFILE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "profile/id_index.h"
#include "profile/prune.h"

namespace profile {

struct ValueType {
  std::string type;  // e.g. "cpu", "inuse_space", "delay"
  std::string unit;  // e.g. "nanoseconds", "bytes", "count"
};

// A string label (key=value) of a sample, as string table indices.
struct Label {
  uint32_t key;
  uint32_t value;
};

// One sample during a visit; the spans are valid only inside the visit.
struct SampleRef {
  absl::Span<const uint32_t> locations;  // dense indices, leaf first, pruned
  absl::Span<const int64_t> values;      // one per sample type
  absl::Span<const Label> labels;        // string labels; numeric ones dropped
};

// Where a profile's encoded messages of one field (samples, locations) are:
// all of them lie in [begin, end) of its bytes, a run of whole top-level
// fields (in practice of that field only: Go writes each table together).
struct MessageRegion {
  size_t count = 0;
  uint32_t begin = 0;
  uint32_t end = 0;
};

// A contiguous run of a profile's samples, from Profile::SampleShards().
class SampleShard {
 public:
  size_t num_samples() const { return region_.count; }

 private:
  friend class Profile;
  explicit SampleShard(const MessageRegion& region) : region_(region) {}
  MessageRegion region_;
};

class Profile {
 public:
  std::vector<ValueType> sample_types;
  // pprof's default choice of sample type; see DefaultSampleIndex().
  int default_sample_index = 0;
  ValueType period_type;
  int64_t period = 0;
  int64_t duration_nanos = 0;
  int64_t time_nanos = 0;

  // Distinct frame names; a FrameId indexes this vector. They point into
  // the profile's bytes (or its few made-up names), like string().
  std::vector<absl::string_view> frame_names;
  // Per location (dense index, profile order): its frames, leaf first.
  std::vector<uint32_t> location_begin;  // size num_locations + 1
  std::vector<uint32_t> location_frames;

  // Table sizes of the encoded profile, for reporting.
  size_t num_functions = 0;
  size_t num_mappings = 0;

  size_t num_samples() const { return samples_.count; }
  size_t num_locations() const { return location_begin.size() - 1; }

  absl::Span<const uint32_t> frames_of_location(uint32_t location) const {
    return {location_frames.data() + location_begin[location],
            location_begin[location + 1] - location_begin[location]};
  }

  // Calls `visit` for every sample, in profile order, and checks each one
  // first: at the first malformed sample it stops and returns why
  // (InvalidArgument, worded as Decode() words malformed input), having
  // visited the samples before it.
  absl::Status ForEachSample(
      absl::FunctionRef<void(const SampleRef&)> visit) const;

  // The samples cut into at most `max_shards` shards of about equal size in
  // bytes, in profile order (every sample of shard k precedes those of
  // shard k+1), each of at least one sample unless the profile has none
  // (then one empty shard). Costs a walk over the samples' field headers.
  std::vector<SampleShard> SampleShards(size_t max_shards) const;
  // ForEachSample() over one shard of this profile: the first malformed
  // sample in profile order is the error of the first shard that fails.
  absl::Status ForEachSample(
      const SampleShard& shard,
      absl::FunctionRef<void(const SampleRef&)> visit) const;
  // The size of the encoded samples, to judge whether splitting pays.
  size_t sample_bytes() const { return samples_.end - samples_.begin; }

  // An entry of the string table (label keys and values index it).
  absl::string_view string(uint32_t index) const { return strings_[index]; }
  // The string table index of `text`, if it is in the table.
  std::optional<uint32_t> FindString(absl::string_view text) const;

  // Index of the sample type with this name, if the profile has one.
  std::optional<int> FindSampleType(absl::string_view type) const;

 private:
  friend class Decoder;

  // The uncompressed profile.proto bytes; samples, strings and frame names
  // point into them. Shared so that moving a Profile keeps the views valid.
  std::shared_ptr<const std::string> wire_;
  // Frame names that are not in the bytes ("[libc.so.6]"); a deque, so
  // that adding one moves none.
  std::shared_ptr<const std::deque<std::string>> made_names_;
  std::vector<absl::string_view> strings_;
  // Where in wire_ the encoded Sample messages are.
  MessageRegion samples_;
  IdIndex location_ids_;
  FramePruner pruner_;
};

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_PROFILE_H_
