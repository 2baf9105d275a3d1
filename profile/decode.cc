#include "profile/decode.h"

#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "profile/inflate.h"
#include "profile/profile.pb.h"
#include "profile/wire.h"

namespace profile {

namespace {

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed profile: ", what));
}

absl::Status TooLarge(size_t size, size_t limit) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "profile of ", size, " bytes exceeds the limit of ", limit, " bytes"));
}

}  // namespace

// Builds a Profile from the wire tables, checking every reference once.
class Decoder {
 public:
  Decoder(std::shared_ptr<const std::string> bytes, size_t max_entries)
      : bytes_(std::move(bytes)), max_entries_(max_entries) {}

  absl::StatusOr<Profile> Run() {
    if (auto s = wire::ParseProfile(*bytes_, max_entries_, &in_); !s.ok()) {
      return s;
    }
    if (in_.strings.empty() || !in_.strings[0].empty()) {
      return Invalid("string_table[0] must be the empty string");
    }
    if (in_.sample_types.empty()) {
      return Invalid("no sample types (not a profile.proto?)");
    }
    out_.wire_ = bytes_;
    out_.made_names_ = made_names_;
    out_.strings_ = std::move(in_.strings);
    if (auto s = DecodeHeader(); !s.ok()) return s;
    if (auto s = IndexTables(); !s.ok()) return s;
    // Free each wire table once read: decoding the locations is near the
    // peak of a profile's memory, all of it on top of the profile's bytes.
    out_.num_functions = in_.functions.size();
    out_.num_mappings = in_.mappings.size();
    in_.functions = {};
    in_.location_ids = {};
    if (auto s = DecodeLocations(); !s.ok()) return s;
    // Samples are checked as they are visited: see profile.h.
    out_.samples_ = in_.samples;
    return std::move(out_);
  }

 private:
  absl::StatusOr<absl::string_view> String(int64_t index,
                                           absl::string_view field) const {
    if (index < 0 || static_cast<uint64_t>(index) >= out_.strings_.size()) {
      return Invalid(absl::StrCat(field, " refers to string ", index,
                                  " beyond the string table (",
                                  out_.strings_.size(), " entries)"));
    }
    return out_.strings_[index];
  }

  absl::StatusOr<ValueType> DecodeValueType(const wire::ValueType& vt,
                                            absl::string_view field) const {
    auto type = String(vt.type, field);
    if (!type.ok()) return type.status();
    auto unit = String(vt.unit, field);
    if (!unit.ok()) return unit.status();
    return ValueType{std::string(*type), std::string(*unit)};
  }

  absl::Status DecodeHeader() {
    for (const auto& vt : in_.sample_types) {
      auto decoded = DecodeValueType(vt, "sample_type");
      if (!decoded.ok()) return decoded.status();
      out_.sample_types.push_back(*std::move(decoded));
    }
    auto period_type = DecodeValueType(in_.period_type, "period_type");
    if (!period_type.ok()) return period_type.status();
    out_.period_type = *std::move(period_type);
    out_.period = in_.period;
    out_.duration_nanos = in_.duration_nanos;
    out_.time_nanos = in_.time_nanos;
    auto default_type = String(in_.default_sample_type, "default_sample_type");
    if (!default_type.ok()) return default_type.status();
    out_.default_sample_index = DefaultSampleIndex(out_, *default_type);
    for (int64_t comment : in_.comments) {
      if (auto s = String(comment, "comment"); !s.ok()) return s.status();
    }
    auto drop = String(in_.drop_frames, "drop_frames");
    if (!drop.ok()) return drop.status();
    auto keep = String(in_.keep_frames, "keep_frames");
    if (!keep.ok()) return keep.status();
    out_.pruner_ = FramePruner::Create(*drop, *keep);
    return absl::OkStatus();
  }

  absl::Status IndexTables() {
    std::vector<uint64_t> ids;
    for (const auto& m : in_.mappings) {
      ids.push_back(m.id);
      for (int64_t index : {m.filename, m.build_id}) {
        if (auto s = String(index, "mapping"); !s.ok()) return s.status();
      }
    }
    if (auto s = mapping_ids_.Build(ids, "mapping"); !s.ok()) return s;
    ids.clear();
    function_name_.reserve(in_.functions.size());
    for (const auto& fn : in_.functions) {
      ids.push_back(fn.id);
      auto name = String(fn.name, "function.name");
      if (!name.ok()) return name.status();
      for (int64_t index : {fn.system_name, fn.filename}) {
        if (auto s = String(index, "function"); !s.ok()) return s.status();
      }
      function_name_.push_back(static_cast<uint32_t>(fn.name));
    }
    if (auto s = function_ids_.Build(ids, "function"); !s.ok()) return s;
    return out_.location_ids_.Build(in_.location_ids, "location");
  }

  // Interns a frame name and returns its FrameId.
  uint32_t Intern(absl::string_view name) {
    auto it = frame_ids_.find(name);
    if (it != frame_ids_.end()) return *it;
    const auto id = static_cast<uint32_t>(out_.frame_names.size());
    out_.frame_names.emplace_back(name);
    frame_ids_.insert(id);
    return id;
  }

  // pprof names a frame without a function name after its mapping's file.
  uint32_t NamelessFrame(uint64_t mapping_id) {
    if (mapping_id == 0) return Intern("<unknown>");
    absl::string_view file =
        out_.strings_[in_.mappings[mapping_ids_.Find(mapping_id)].filename];
    if (file.empty()) return Intern("<unknown>");
    const size_t slash = file.rfind('/');
    if (slash != absl::string_view::npos) file.remove_prefix(slash + 1);
    const std::string name = absl::StrCat("[", file, "]");
    if (auto it = frame_ids_.find(absl::string_view(name));
        it != frame_ids_.end()) {
      return *it;
    }
    return Intern(made_names_->emplace_back(name));
  }

  absl::Status DecodeLocations() {
    const size_t n = in_.locations.count;
    out_.location_begin.reserve(n + 1);
    out_.location_frames.reserve(in_.num_lines + in_.num_lineless_locations);
    // Every frame name is a function's name or made from a mapping's file
    // name, or "<unknown>".
    const size_t max_names = out_.num_functions + in_.mappings.size() + 1;
    out_.frame_names.reserve(max_names);
    frame_ids_.reserve(max_names);
    out_.pruner_.Reserve(n);
    absl::Status status;
    wire::ForEachMessage(*bytes_, in_.locations,
                         perftools::profiles::Profile::kLocationFieldNumber,
                         [&](absl::string_view bytes) {
                           status = DecodeLocation(bytes);
                           return status.ok();
                         });
    if (!status.ok()) return status;
    out_.location_begin.push_back(out_.location_frames.size());
    return absl::OkStatus();
  }

  // Appends the next location's frames.
  absl::Status DecodeLocation(absl::string_view bytes) {
    wire::LocationFields& loc = location_;
    std::vector<absl::string_view>& line_names = line_names_;
    out_.location_begin.push_back(out_.location_frames.size());
    // ParseProfile read it already, so this cannot fail.
    (void)wire::ParseLocation(bytes, &loc);
    if (loc.mapping_id != 0 && mapping_ids_.Find(loc.mapping_id) < 0) {
      return Invalid(absl::StrCat("location ", loc.id,
                                  " refers to unknown mapping id ",
                                  loc.mapping_id));
    }
    line_names.clear();
    for (const uint64_t function_id : loc.function_ids) {
      const int fn = function_ids_.Find(function_id);
      if (fn < 0) {
        return Invalid(absl::StrCat("location ", loc.id,
                                    " refers to unknown function id ",
                                    function_id));
      }
      line_names.push_back(out_.strings_[function_name_[fn]]);
    }
    // drop_frames may cut the innermost lines off this location.
    const size_t first_kept = out_.pruner_.AddLocation(line_names);
    for (size_t l = first_kept; l < line_names.size(); ++l) {
      out_.location_frames.push_back(line_names[l].empty()
                                         ? NamelessFrame(loc.mapping_id)
                                         : Intern(line_names[l]));
    }
    if (line_names.empty()) {
      out_.location_frames.push_back(NamelessFrame(loc.mapping_id));
    }
    return absl::OkStatus();
  }

  std::shared_ptr<const std::string> bytes_;
  const size_t max_entries_;
  wire::Profile in_;
  Profile out_;
  IdIndex mapping_ids_, function_ids_;
  std::vector<uint32_t> function_name_;  // string index, by function index
  // DecodeLocation's buffers, reused from one location to the next.
  wire::LocationFields location_;
  std::vector<absl::string_view> line_names_;
  std::shared_ptr<std::deque<std::string>> made_names_ =
      std::make_shared<std::deque<std::string>>();
  // The FrameIds interned so far, hashed and compared by their names: 4
  // bytes a slot rather than a name and an id.
  struct ByFrameName {
    using is_transparent = void;
    const std::vector<absl::string_view>* names;
    absl::string_view Name(uint32_t frame) const { return (*names)[frame]; }
    static absl::string_view Name(absl::string_view name) { return name; }
    template <typename T>
    size_t operator()(const T& frame) const {
      return absl::Hash<absl::string_view>()(Name(frame));
    }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return Name(a) == Name(b);
    }
  };
  absl::flat_hash_set<uint32_t, ByFrameName, ByFrameName> frame_ids_{
      0, ByFrameName{&out_.frame_names}, ByFrameName{&out_.frame_names}};
};

int DefaultSampleIndex(const Profile& profile,
                       absl::string_view default_sample_type) {
  if (!default_sample_type.empty()) {
    if (auto index = profile.FindSampleType(default_sample_type)) return *index;
  }
  if (auto index = profile.FindSampleType("inuse_space")) return *index;
  return static_cast<int>(profile.sample_types.size()) - 1;
}

namespace {

// Decodes uncompressed profile bytes, taking ownership of them.
absl::StatusOr<Profile> DecodeRaw(std::string raw,
                                  const DecodeLimits& limits) {
  if (raw.empty()) return Invalid("empty input");
  if (raw.size() > limits.max_decompressed_bytes) {
    return TooLarge(raw.size(), limits.max_decompressed_bytes);
  }
  // Samples are located by 32-bit offsets.
  if (raw.size() > std::numeric_limits<uint32_t>::max()) {
    return TooLarge(raw.size(), std::numeric_limits<uint32_t>::max());
  }
  return Decoder(std::make_shared<const std::string>(std::move(raw)),
                 limits.max_table_entries)
      .Run();
}

}  // namespace

absl::StatusOr<Profile> Decode(absl::string_view bytes,
                               const DecodeLimits& limits) {
  if (bytes.empty()) return Invalid("empty input");
  if (bytes.size() > limits.max_compressed_bytes) {
    return TooLarge(bytes.size(), limits.max_compressed_bytes);
  }
  if (!IsGzip(bytes)) {
    if (bytes.size() > limits.max_decompressed_bytes) {
      return TooLarge(bytes.size(), limits.max_decompressed_bytes);
    }
    return DecodeRaw(std::string(bytes), limits);
  }
  auto raw = Gunzip(bytes, limits.max_decompressed_bytes);
  if (!raw.ok()) return raw.status();
  if (raw->empty()) return Invalid("empty input after gunzip");
  return DecodeRaw(*std::move(raw), limits);
}

absl::StatusOr<Profile> DecodeChunks(ChunkSource next_chunk, size_t size_hint,
                                     const DecodeLimits& limits) {
  size_t compressed = 0;
  auto counted = [&]() -> absl::StatusOr<absl::string_view> {
    auto chunk = next_chunk();
    if (!chunk.ok()) return chunk;
    compressed += chunk->size();
    if (compressed > limits.max_compressed_bytes) {
      return TooLarge(compressed, limits.max_compressed_bytes);
    }
    return chunk;
  };
  auto first = counted();
  if (!first.ok()) return first.status();
  if (first->empty()) return Invalid("empty input");
  if (!IsGzip(*first)) {
    // Uncompressed: just collect the chunks.
    std::string raw(*first);
    for (;;) {
      auto chunk = counted();
      if (!chunk.ok()) return chunk.status();
      if (chunk->empty()) break;
      if (raw.size() + chunk->size() > limits.max_decompressed_bytes) {
        return TooLarge(raw.size() + chunk->size(),
                        limits.max_decompressed_bytes);
      }
      raw.append(chunk->data(), chunk->size());
    }
    return DecodeRaw(std::move(raw), limits);
  }
  bool first_given = false;
  auto raw = GunzipChunks(
      [&]() -> absl::StatusOr<absl::string_view> {
        if (!first_given) {
          first_given = true;
          return *first;
        }
        return counted();
      },
      std::min(size_hint, limits.max_decompressed_bytes),
      limits.max_decompressed_bytes);
  if (!raw.ok()) return raw.status();
  if (raw->empty()) return Invalid("empty input after gunzip");
  return DecodeRaw(*std::move(raw), limits);
}

}  // namespace profile
