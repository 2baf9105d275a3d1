// The profile.proto wire format, read with protobuf's CodedInputStream
// straight into flat tables, without building message objects. Field numbers
// come from the generated code, so profile.proto stays the one definition.
// Known fields must have their declared wire type (as in pprof's parser);
// unknown fields are skipped. Nothing here checks ids or string indices:
// decode.cc does that once the whole message is read.
#ifndef PPROF_EXPORTER_PROFILE_WIRE_H_
#define PPROF_EXPORTER_PROFILE_WIRE_H_

#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/base/internal/endian.h"
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

// A location is read twice: here for its id, and again by decode.cc once
// the functions are known (ParseLocation): keeping its lines in between
// would take more memory than its encoded message.
struct Location {
  uint64_t id = 0;
  uint32_t offset = 0;  // its message within the profile's bytes
  uint32_t size = 0;
};

// A Location message's fields that decoding uses.
struct LocationFields {
  uint64_t id = 0;
  uint64_t mapping_id = 0;
  std::vector<uint64_t> function_ids;  // of its lines, innermost first
};

struct Profile {
  std::vector<ValueType> sample_types;
  SampleRegion samples;
  std::vector<Mapping> mappings;
  std::vector<Function> functions;
  std::vector<Location> locations;
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
// (ForEachSampleMessage finds them again, ParseSample reads them); strings
// point into `bytes`. A table entry can
// take 2 bytes on the wire and ~30 in memory, so the total number of
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

// Reads one Sample message into `out`, reusing its buffers. Without
// labels, label fields are only stepped over.
absl::Status ParseSample(absl::string_view bytes, Sample* out,
                         bool with_labels = true);

// Calls `visit` with each Sample message in `region` of `bytes`, a profile
// that ParseProfile accepted.
void ForEachSampleMessage(absl::string_view bytes, const SampleRegion& region,
                          absl::FunctionRef<void(absl::string_view)> visit);

// Reads a varint as CodedInputStream does (at most 10 bytes; bits beyond 64
// are dropped) and advances `*p` past it. False when it does not end
// before `end`. Inline: the sample loops read millions of them.
inline bool ReadVarint(const char** p, const char* end, uint64_t* value) {
  const char* q = *p;
  uint64_t result = 0;
  for (int shift = 0; shift < 70 && q < end; shift += 7) {
    const uint64_t byte = static_cast<uint8_t>(*q++);
    result |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      *p = q;
      *value = result;
      return true;
    }
  }
  return false;
}

// ReadVarint for the sample loops: with 8 readable bytes at `*p` (before
// `readable_end`, which may lie beyond `end`), decodes a varint of up to 8
// bytes without a branch per byte; anything else goes to ReadVarint.
inline bool ReadVarintFast(const char** p, const char* end,
                           const char* readable_end, uint64_t* value) {
  if (readable_end - *p >= 8) {
    uint64_t x;
    std::memcpy(&x, *p, 8);
    x = absl::little_endian::ToHost64(x);
    const uint64_t last_bytes = ~x & 0x8080808080808080;
    if (last_bytes != 0) {
      const int bits = __builtin_ctzll(last_bytes) + 1;  // 8 * length
      const int length = bits >> 3;
      if (length > end - *p) return false;
      x &= ~uint64_t{0} >> (64 - bits);
      // Squeeze out the continuation bits: 7-bit groups into 14, 28, 56.
      x = (x & 0x007f007f007f007f) | ((x & 0x7f007f007f007f00) >> 1);
      x = (x & 0x00003fff00003fff) | ((x & 0x3fff00003fff0000) >> 2);
      x = (x & 0x000000000fffffff) | ((x & 0x0fffffff00000000) >> 4);
      *value = x;
      *p += length;
      return true;
    }
  }
  return ReadVarint(p, end, value);
}

// Reads a Label message in its usual encoding (single-byte tags, varint
// fields) and appends its key, str and num_unit to `label_strings`; false
// on anything else.
inline bool ReadPlainLabel(const char* p, const char* end,
                           std::vector<int64_t>* label_strings) {
  uint64_t fields[5] = {};  // by field number: key, str, num, num_unit
  while (p < end) {
    const uint8_t tag = static_cast<uint8_t>(*p++);
    const int field = tag >> 3;
    if ((tag & 7) != 0 || field < 1 || field > 4) return false;
    if (!ReadVarint(&p, end, &fields[field])) return false;
  }
  label_strings->insert(label_strings->end(),
                        {static_cast<int64_t>(fields[1]),
                         static_cast<int64_t>(fields[2]),
                         static_cast<int64_t>(fields[4])});
  return true;
}

// The fast path for the bulk of a profile: reads a Sample message in its
// usual encoding (single-byte tags; location ids and values as varints or
// packed runs; labels with varint fields) and maps each location id through
// `resolve` (id -> dense index, or -1 if unknown). Labels are stepped over
// when `label_strings` is null, else each one's key, str and num_unit
// string indices are appended to it. Returns false on anything else,
// unknown ids and malformed bytes included, leaving the outputs
// unspecified: then ParseSample gives the definitive answer. When it
// returns true, ParseSample would have read the same. The bytes after
// `bytes` up to `readable_end` may be read (never used): most varints are
// then decoded 8 bytes at a time.
template <typename Resolve>
bool ReadPlainSample(absl::string_view bytes, const char* readable_end,
                     const Resolve& resolve,
                     std::vector<uint32_t>* locations,
                     std::vector<int64_t>* values,
                     std::vector<int64_t>* label_strings) {
  // Tags of Sample's fields 1 (location_id), 2 (value), 3 (label).
  constexpr uint8_t kLocationId = 1 << 3, kLocationIds = 1 << 3 | 2;
  constexpr uint8_t kValue = 2 << 3, kValues = 2 << 3 | 2;
  constexpr uint8_t kLabel = 3 << 3 | 2;
  locations->clear();
  values->clear();
  if (label_strings != nullptr) label_strings->clear();
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  while (p < end) {
    const uint8_t tag = static_cast<uint8_t>(*p++);
    uint64_t v = 0;
    if (tag == kLocationId || tag == kValue) {
      if (!ReadVarintFast(&p, end, readable_end, &v)) return false;
      if (tag == kValue) {
        values->push_back(static_cast<int64_t>(v));
        continue;
      }
      const int index = resolve(v);
      if (index < 0) return false;
      locations->push_back(static_cast<uint32_t>(index));
      continue;
    }
    if (tag != kLocationIds && tag != kValues && tag != kLabel) return false;
    uint64_t size = 0;
    if (!ReadVarint(&p, end, &size) ||
        size > static_cast<uint64_t>(end - p)) {
      return false;
    }
    const char* const run_end = p + size;
    if (tag == kLocationIds) {
      while (p < run_end) {
        if (!ReadVarintFast(&p, run_end, readable_end, &v)) return false;
        const int index = resolve(v);
        if (index < 0) return false;
        locations->push_back(static_cast<uint32_t>(index));
      }
    } else if (tag == kValues) {
      while (p < run_end) {
        if (!ReadVarintFast(&p, run_end, readable_end, &v)) return false;
        values->push_back(static_cast<int64_t>(v));
      }
    } else if (label_strings != nullptr &&
               !ReadPlainLabel(p, run_end, label_strings)) {
      return false;
    }
    p = run_end;
  }
  return true;
}

}  // namespace profile::wire

#endif  // PPROF_EXPORTER_PROFILE_WIRE_H_
