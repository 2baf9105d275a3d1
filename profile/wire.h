// The profile.proto wire format, read with protobuf's CodedInputStream
// straight into flat tables, without building message objects. Field numbers
// come from the generated code, so profile.proto stays the one definition.
// Known fields must have their declared wire type (as in pprof's parser);
// unknown fields are skipped. Nothing here checks ids or string indices:
// decode.cc does that once the whole message is read.
#ifndef PPROF_EXPORTER_PROFILE_WIRE_H_
#define PPROF_EXPORTER_PROFILE_WIRE_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "profile/profile.h"

namespace profile::wire {

struct ValueType {
  int64_t type = 0;  // string indices
  int64_t unit = 0;
};

struct Mapping {
  uint64_t id = 0;
  int64_t filename = 0;
  int64_t build_id = 0;
};

struct Function {
  uint64_t id = 0;
  int64_t name = 0;
  int64_t system_name = 0;
  int64_t filename = 0;
};

// A Location message's fields that decoding uses.
struct LocationFields {
  uint64_t id = 0;
  uint64_t mapping_id = 0;
  std::vector<uint64_t> function_ids;  // of its lines, innermost first
};

struct Profile {
  std::vector<ValueType> sample_types;
  MessageRegion samples;
  std::vector<Mapping> mappings;
  std::vector<Function> functions;
  // Locations are read twice: here for their ids, and again by decode.cc
  // once the functions are known (ParseLocation in ForEachMessage): keeping
  // their lines, or even where each one is, would take more memory.
  MessageRegion locations;
  std::vector<uint64_t> location_ids;
  size_t num_lines = 0;  // of all locations
  size_t num_lineless_locations = 0;
  std::vector<absl::string_view> strings;
  int64_t drop_frames = 0;
  int64_t keep_frames = 0;
  int64_t time_nanos = 0;
  int64_t duration_nanos = 0;
  ValueType period_type;
  int64_t period = 0;
  std::vector<int64_t> comments;
  int64_t default_sample_type = 0;
};

// Every sample carries one value per sample type, and real profiles have a
// handful; a profile declaring more is hostile (each 2-byte entry would cost
// a decoded ValueType), so ParseProfile refuses it.
inline constexpr size_t kMaxSampleTypes = 1024;

// Reads a whole uncompressed profile. Sample messages are only located
// (ForEachMessage finds them again, ParseSample reads them); strings point
// into `bytes`. A table entry can take 2 bytes on the wire and ~30 in
// memory, so the total number of
// entries (samples, locations, lines, functions, mappings, strings) is
// capped by `max_entries`: ResourceExhausted beyond it.
absl::Status ParseProfile(absl::string_view bytes, size_t max_entries,
                          Profile* out);

// Reads one Location message into `out`, reusing its buffers.
absl::Status ParseLocation(absl::string_view bytes, LocationFields* out);

// One sample's fields, as encoded; string labels only.
struct Sample {
  std::vector<uint64_t> location_ids;
  std::vector<int64_t> values;
  std::vector<std::pair<int64_t, int64_t>> labels;  // key, str
  std::vector<int64_t> label_strings;  // every string index labels use
};

// Reads one Sample message into `out`, reusing its buffers. The
// thorough reader: sample_reader.h has the fast one.
absl::Status ParseSample(absl::string_view bytes, Sample* out);

// Calls `visit` with each message of top-level field `field_number` in
// `region` of `bytes`, a profile that ParseProfile accepted, until `visit`
// returns false.
void ForEachMessage(absl::string_view bytes, const MessageRegion& region,
                    int field_number,
                    absl::FunctionRef<bool(absl::string_view)> visit);

// `region` of `bytes` (as for ForEachMessage) cut between fields into at
// most `max_parts` regions of about equal size, in order, each holding at
// least one message of field `field_number` (counted in `count`); one empty
// region when `region` holds none.
std::vector<MessageRegion> SplitRegion(absl::string_view bytes,
                                       const MessageRegion& region,
                                       int field_number, size_t max_parts);

}  // namespace profile::wire

#endif  // PPROF_EXPORTER_PROFILE_WIRE_H_
