#include "profile/wire.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "profile/profile.pb.h"
#include "profile/sample_reader.h"

namespace profile::wire {
namespace {

using google::protobuf::io::CodedInputStream;
using google::protobuf::internal::WireFormatLite;
namespace pb = ::perftools::profiles;

constexpr int kVarint = WireFormatLite::WIRETYPE_VARINT;
constexpr int kLength = WireFormatLite::WIRETYPE_LENGTH_DELIMITED;

// A reader over one message's bytes.
class Reader {
 public:
  explicit Reader(absl::string_view bytes)
      : bytes_(bytes),
        in_(reinterpret_cast<const uint8_t*>(bytes.data()),
            static_cast<int>(bytes.size())) {}

  // The next field, or false at the end of the message (check ok()).
  bool Next() {
    tag_ = in_.ReadTag();
    if (tag_ == 0) {
      ended_cleanly_ = in_.CurrentPosition() == static_cast<int>(bytes_.size());
      return false;
    }
    return true;
  }
  // False when reading stopped before the end: bad tag or truncation.
  bool ok() const { return ended_cleanly_ && !failed_; }

  int field() const { return WireFormatLite::GetTagFieldNumber(tag_); }
  int wire_type() const { return WireFormatLite::GetTagWireType(tag_); }

  // Reads the current field, which must be a varint; false otherwise.
  bool Varint(int64_t* out) {
    uint64_t v = 0;
    if (wire_type() != kVarint || !in_.ReadVarint64(&v)) return Fail();
    *out = static_cast<int64_t>(v);
    return true;
  }
  bool Varint(uint64_t* out) {
    if (wire_type() != kVarint || !in_.ReadVarint64(out)) return Fail();
    return true;
  }
  // Reads the current length-delimited field's bytes.
  bool Bytes(absl::string_view* out) {
    uint32_t size = 0;
    if (wire_type() != kLength || !in_.ReadVarint32(&size)) return Fail();
    const size_t at = static_cast<size_t>(in_.CurrentPosition());
    if (size > bytes_.size() - at || !in_.Skip(static_cast<int>(size))) {
      return Fail();
    }
    *out = bytes_.substr(at, size);
    return true;
  }
  // Offset of the next byte within this message.
  size_t position() const { return static_cast<size_t>(in_.CurrentPosition()); }
  // A repeated integer field: one varint, or a packed run of them.
  template <typename T>
  bool Repeated(std::vector<T>* out) {
    if (wire_type() == kVarint) {
      uint64_t v = 0;
      if (!in_.ReadVarint64(&v)) return Fail();
      out->push_back(static_cast<T>(v));
      return true;
    }
    absl::string_view packed;
    if (!Bytes(&packed)) return false;
    CodedInputStream run(reinterpret_cast<const uint8_t*>(packed.data()),
                         static_cast<int>(packed.size()));
    while (run.CurrentPosition() < static_cast<int>(packed.size())) {
      uint64_t v = 0;
      if (!run.ReadVarint64(&v)) return Fail();
      out->push_back(static_cast<T>(v));
    }
    return true;
  }
  bool Skip() {
    return WireFormatLite::SkipField(&in_, tag_) || Fail();
  }

 private:
  bool Fail() {
    failed_ = true;
    return false;
  }

  absl::string_view bytes_;
  CodedInputStream in_;
  uint32_t tag_ = 0;
  bool ended_cleanly_ = false;
  bool failed_ = false;
};

absl::Status Finish(const Reader& reader, absl::string_view what) {
  if (reader.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "malformed profile: not a profile.proto message (truncated, invalid "
      "varint or wrong wire type in a ",
      what, ")"));
}

// Merges a ValueType message into `out` (proto semantics for a repeated
// singular message field).
absl::Status ParseValueType(absl::string_view bytes, ValueType* out) {
  Reader r(bytes);
  while (r.Next()) {
    bool read = false;
    switch (r.field()) {
      case pb::ValueType::kTypeFieldNumber: read = r.Varint(&out->type); break;
      case pb::ValueType::kUnitFieldNumber: read = r.Varint(&out->unit); break;
      default: read = r.Skip();
    }
    if (!read) break;
  }
  return Finish(r, "ValueType");
}

absl::Status ParseMapping(absl::string_view bytes, Mapping* out) {
  Reader r(bytes);
  while (r.Next()) {
    bool read = false;
    int64_t ignored = 0;
    switch (r.field()) {
      case pb::Mapping::kIdFieldNumber: read = r.Varint(&out->id); break;
      case pb::Mapping::kFilenameFieldNumber: read = r.Varint(&out->filename); break;
      case pb::Mapping::kBuildIdFieldNumber: read = r.Varint(&out->build_id); break;
      case pb::Mapping::kMemoryStartFieldNumber:
      case pb::Mapping::kMemoryLimitFieldNumber:
      case pb::Mapping::kFileOffsetFieldNumber:
      case pb::Mapping::kHasFunctionsFieldNumber:
      case pb::Mapping::kHasFilenamesFieldNumber:
      case pb::Mapping::kHasLineNumbersFieldNumber:
      case pb::Mapping::kHasInlineFramesFieldNumber:
        read = r.Varint(&ignored);
        break;
      default: read = r.Skip();
    }
    if (!read) break;
  }
  return Finish(r, "Mapping");
}

absl::Status ParseFunction(absl::string_view bytes, Function* out) {
  Reader r(bytes);
  while (r.Next()) {
    bool read = false;
    int64_t ignored = 0;
    switch (r.field()) {
      case pb::Function::kIdFieldNumber: read = r.Varint(&out->id); break;
      case pb::Function::kNameFieldNumber: read = r.Varint(&out->name); break;
      case pb::Function::kSystemNameFieldNumber:
        read = r.Varint(&out->system_name);
        break;
      case pb::Function::kFilenameFieldNumber: read = r.Varint(&out->filename); break;
      case pb::Function::kStartLineFieldNumber: read = r.Varint(&ignored); break;
      default: read = r.Skip();
    }
    if (!read) break;
  }
  return Finish(r, "Function");
}

absl::Status ParseLine(absl::string_view bytes, uint64_t* function_id) {
  Reader r(bytes);
  while (r.Next()) {
    bool read = false;
    int64_t ignored = 0;
    switch (r.field()) {
      case pb::Line::kFunctionIdFieldNumber: read = r.Varint(function_id); break;
      case pb::Line::kLineFieldNumber:
      case pb::Line::kColumnFieldNumber:
        read = r.Varint(&ignored);
        break;
      default: read = r.Skip();
    }
    if (!read) break;
  }
  return Finish(r, "Line");
}

absl::Status ParseLabel(absl::string_view bytes, Sample* out) {
  int64_t key = 0, str = 0, num = 0, num_unit = 0;
  Reader r(bytes);
  while (r.Next()) {
    bool read = false;
    switch (r.field()) {
      case pb::Label::kKeyFieldNumber: read = r.Varint(&key); break;
      case pb::Label::kStrFieldNumber: read = r.Varint(&str); break;
      case pb::Label::kNumFieldNumber: read = r.Varint(&num); break;
      case pb::Label::kNumUnitFieldNumber: read = r.Varint(&num_unit); break;
      default: read = r.Skip();
    }
    if (!read) break;
  }
  if (auto s = Finish(r, "Label"); !s.ok()) return s;
  out->label_strings.insert(out->label_strings.end(), {key, str, num_unit});
  if (str != 0) out->labels.emplace_back(key, str);
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseSample(absl::string_view bytes, Sample* out) {
  out->location_ids.clear();
  out->values.clear();
  out->labels.clear();
  out->label_strings.clear();
  Reader r(bytes);
  while (r.Next()) {
    bool read = false;
    absl::string_view label;
    switch (r.field()) {
      case pb::Sample::kLocationIdFieldNumber:
        read = r.Repeated(&out->location_ids);
        break;
      case pb::Sample::kValueFieldNumber: read = r.Repeated(&out->values); break;
      case pb::Sample::kLabelFieldNumber:
        read = r.Bytes(&label);
        if (read) {
          if (auto s = ParseLabel(label, out); !s.ok()) return s;
        }
        break;
      default: read = r.Skip();
    }
    if (!read) break;
  }
  return Finish(r, "Sample");
}

absl::Status ParseLocation(absl::string_view bytes, LocationFields* out) {
  out->id = 0;
  out->mapping_id = 0;
  out->function_ids.clear();
  Reader r(bytes);
  while (r.Next()) {
    bool read = false;
    int64_t ignored = 0;
    absl::string_view line;
    switch (r.field()) {
      case pb::Location::kIdFieldNumber: read = r.Varint(&out->id); break;
      case pb::Location::kMappingIdFieldNumber:
        read = r.Varint(&out->mapping_id);
        break;
      case pb::Location::kAddressFieldNumber:
      case pb::Location::kIsFoldedFieldNumber:
        read = r.Varint(&ignored);
        break;
      case pb::Location::kLineFieldNumber: {
        read = r.Bytes(&line);
        if (!read) break;
        uint64_t function_id = 0;
        if (auto s = ParseLine(line, &function_id); !s.ok()) return s;
        out->function_ids.push_back(function_id);
        break;
      }
      default: read = r.Skip();
    }
    if (!read) break;
  }
  return Finish(r, "Location");
}

namespace {

// Reads the top-level field at `*p` and moves past it; returns whether its
// tag is `wanted_tag`, and then its contents in `*message`. ParseProfile
// accepted these bytes, so nothing here can fail; read as it did (tags and
// lengths are 32-bit).
bool NextField(const char** p, const char* end, uint32_t wanted_tag,
               absl::string_view* message) {
  uint64_t tag = 0;
  ReadVarint(p, end, &tag);
  if (static_cast<uint32_t>(tag) == wanted_tag) {
    uint64_t size = 0;
    ReadVarint(p, end, &size);
    *message = absl::string_view(*p, static_cast<uint32_t>(size));
    *p += static_cast<uint32_t>(size);
    return true;
  }
  CodedInputStream in(reinterpret_cast<const uint8_t*>(*p),
                      static_cast<int>(end - *p));
  WireFormatLite::SkipField(&in, static_cast<uint32_t>(tag));
  *p += in.CurrentPosition();
  return false;
}

}  // namespace

void ForEachMessage(absl::string_view bytes, const MessageRegion& region,
                    int field_number,
                    absl::FunctionRef<bool(absl::string_view)> visit) {
  const uint32_t wanted_tag = WireFormatLite::MakeTag(
      field_number, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
  const char* p = bytes.data() + region.begin;
  const char* const end = bytes.data() + region.end;
  absl::string_view message;
  while (p < end) {
    if (NextField(&p, end, wanted_tag, &message) && !visit(message)) return;
  }
}

std::vector<MessageRegion> SplitRegion(absl::string_view bytes,
                                       const MessageRegion& region,
                                       int field_number, size_t max_parts) {
  const size_t parts = std::max<size_t>(1, std::min(max_parts, region.count));
  if (parts == 1) return {region};  // no need to walk it
  const uint32_t wanted_tag = WireFormatLite::MakeTag(
      field_number, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
  const uint64_t size = region.end - region.begin;
  std::vector<MessageRegion> out;
  out.reserve(parts);
  MessageRegion part{0, region.begin, region.begin};
  const char* const base = bytes.data();
  const char* p = base + region.begin;
  const char* const end = base + region.end;
  absl::string_view message;
  while (p < end) {
    const uint32_t offset = static_cast<uint32_t>(p - base);
    // Part k (0-based) ends at the first field boundary at or after
    // region.begin + size * (k + 1) / parts.
    if (out.size() + 1 < parts && part.count > 0 &&
        offset >= region.begin + size * (out.size() + 1) / parts) {
      part.end = offset;
      out.push_back(part);
      part = {0, offset, offset};
    }
    if (NextField(&p, end, wanted_tag, &message)) ++part.count;
  }
  if (part.count == 0 && !out.empty()) {
    out.back().end = region.end;  // only other fields after the last cut
  } else {
    part.end = region.end;
    out.push_back(part);
  }
  return out;
}

// Reserves the tables for the entries ParseProfile will read, so that they
// are allocated once at their size: growing by doubling would hold up to
// three times their size at once, on top of the whole profile. Counting
// costs a quick scan; it stops at anything malformed (ParseProfile then
// reports it).
void ReserveTables(absl::string_view bytes, size_t max_entries, Profile* out) {
  size_t counts[pb::Profile::kStringTableFieldNumber + 1] = {};
  Reader r(bytes);
  while (r.Next()) {
    if (r.field() >= 0 &&
        r.field() <= pb::Profile::kStringTableFieldNumber) {
      ++counts[r.field()];
    }
    if (!r.Skip()) break;
  }
  auto reserve = [&](auto& table, int field) {
    table.reserve(std::min(counts[field], max_entries));
  };
  reserve(out->mappings, pb::Profile::kMappingFieldNumber);
  reserve(out->location_ids, pb::Profile::kLocationFieldNumber);
  reserve(out->functions, pb::Profile::kFunctionFieldNumber);
  reserve(out->strings, pb::Profile::kStringTableFieldNumber);
}

absl::Status ParseProfile(absl::string_view bytes, size_t max_entries,
                          Profile* out) {
  ReserveTables(bytes, max_entries, out);
  Reader r(bytes);
  LocationFields location;
  size_t field_begin = 0;
  while (field_begin = r.position(), r.Next()) {
    const size_t entries = out->sample_types.size() + out->samples.count +
                           out->mappings.size() + out->functions.size() +
                           out->locations.count +
                           out->num_lines + out->strings.size();
    if (entries > max_entries) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "profile has more than ", max_entries,
          " table entries (samples, locations, functions, strings...)"));
    }
    bool read = false;
    absl::string_view message;
    switch (r.field()) {
      case pb::Profile::kSampleTypeFieldNumber:
        read = r.Bytes(&message);
        if (read && out->sample_types.size() == kMaxSampleTypes) {
          return absl::ResourceExhaustedError(absl::StrCat(
              "malformed profile: more than ", kMaxSampleTypes,
              " sample types"));
        }
        if (read) {
          out->sample_types.emplace_back();
          if (auto s = ParseValueType(message, &out->sample_types.back());
              !s.ok()) {
            return s;
          }
        }
        break;
      case pb::Profile::kSampleFieldNumber:
        read = r.Bytes(&message);
        if (read) {
          if (out->samples.count++ == 0) out->samples.begin = field_begin;
          out->samples.end = static_cast<uint32_t>(r.position());
        }
        break;
      case pb::Profile::kMappingFieldNumber:
        read = r.Bytes(&message);
        if (read) {
          out->mappings.emplace_back();
          if (auto s = ParseMapping(message, &out->mappings.back()); !s.ok()) {
            return s;
          }
        }
        break;
      case pb::Profile::kLocationFieldNumber:
        read = r.Bytes(&message);
        if (read) {
          if (auto s = ParseLocation(message, &location); !s.ok()) return s;
          out->location_ids.push_back(location.id);
          if (out->locations.count++ == 0) out->locations.begin = field_begin;
          out->locations.end = static_cast<uint32_t>(r.position());
          out->num_lines += location.function_ids.size();
          if (location.function_ids.empty()) ++out->num_lineless_locations;
        }
        break;
      case pb::Profile::kFunctionFieldNumber:
        read = r.Bytes(&message);
        if (read) {
          out->functions.emplace_back();
          if (auto s = ParseFunction(message, &out->functions.back());
              !s.ok()) {
            return s;
          }
        }
        break;
      case pb::Profile::kStringTableFieldNumber:
        read = r.Bytes(&message);
        if (read) out->strings.push_back(message);
        break;
      case pb::Profile::kDropFramesFieldNumber: read = r.Varint(&out->drop_frames); break;
      case pb::Profile::kKeepFramesFieldNumber: read = r.Varint(&out->keep_frames); break;
      case pb::Profile::kTimeNanosFieldNumber: read = r.Varint(&out->time_nanos); break;
      case pb::Profile::kDurationNanosFieldNumber:
        read = r.Varint(&out->duration_nanos);
        break;
      case pb::Profile::kPeriodTypeFieldNumber:
        read = r.Bytes(&message);
        if (read) {
          if (auto s = ParseValueType(message, &out->period_type); !s.ok()) {
            return s;
          }
        }
        break;
      case pb::Profile::kPeriodFieldNumber: read = r.Varint(&out->period); break;
      case pb::Profile::kCommentFieldNumber: read = r.Repeated(&out->comments); break;
      case pb::Profile::kDefaultSampleTypeFieldNumber:
        read = r.Varint(&out->default_sample_type);
        break;
      default: read = r.Skip();
    }
    if (!read) break;
  }
  return Finish(r, "Profile");
}

}  // namespace profile::wire
