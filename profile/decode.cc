#include "profile/decode.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/unknown_field_set.h"
#include "profile/inflate.h"
#include "profile/profile.pb.h"
#include "profile/prune.h"

namespace profile {
namespace {

namespace pb = ::perftools::profiles;

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed profile: ", what));
}

// protobuf files a known field that arrives with the wrong wire type under
// "unknown fields" and carries on; pprof's parser rejects such input, so we
// do too. Unknown field numbers stay allowed, as in pprof.
template <typename Message>
absl::Status CheckWireTypes(const Message& message) {
  const auto& unknown = message.GetReflection()->GetUnknownFields(message);
  if (unknown.empty()) return absl::OkStatus();
  for (int i = 0; i < unknown.field_count(); ++i) {
    const int number = unknown.field(i).number();
    if (Message::descriptor()->FindFieldByNumber(number) != nullptr) {
      return Invalid(absl::StrCat(Message::descriptor()->name(), " field ",
                                  number, " has the wrong wire type"));
    }
  }
  return absl::OkStatus();
}

// Maps the non-zero ids of one table (locations, functions, mappings) to
// dense indices. Go numbers ids 1..n, so a vector usually suffices; sparse
// ids fall back to a hash map.
class IdIndex {
 public:
  template <typename Table>
  absl::Status Build(const Table& table, absl::string_view what) {
    uint64_t max_id = 0;
    for (const auto& entry : table) max_id = std::max(max_id, entry.id());
    dense_ = max_id <= 2 * static_cast<uint64_t>(table.size()) + 64;
    if (dense_) dense_index_.assign(max_id + 1, -1);
    for (int i = 0; i < table.size(); ++i) {
      const uint64_t id = table[i].id();
      if (id == 0) return Invalid(absl::StrCat(what, " with reserved id 0"));
      const bool inserted = dense_ ? (dense_index_[id] == -1)
                                   : sparse_index_.emplace(id, i).second;
      if (!inserted) return Invalid(absl::StrCat("duplicate ", what, " id ", id));
      if (dense_) dense_index_[id] = i;
    }
    return absl::OkStatus();
  }
  // -1 when the id is unknown.
  int Find(uint64_t id) const {
    if (dense_) return id < dense_index_.size() ? dense_index_[id] : -1;
    auto it = sparse_index_.find(id);
    return it == sparse_index_.end() ? -1 : it->second;
  }

 private:
  bool dense_ = true;
  std::vector<int> dense_index_;
  absl::flat_hash_map<uint64_t, int> sparse_index_;
};

// Everything Decode needs while it walks the proto; kept in one place so
// the steps below stay short.
class Decoder {
 public:
  explicit Decoder(const pb::Profile& proto) : proto_(proto) {}

  absl::StatusOr<Profile> Run() {
    if (proto_.string_table_size() == 0 || !proto_.string_table(0).empty()) {
      return Invalid("string_table[0] must be the empty string");
    }
    if (auto s = CheckWireTypes(proto_); !s.ok()) return s;
    if (proto_.sample_type_size() == 0) {
      return Invalid("no sample types (not a profile.proto?)");
    }
    if (auto s = DecodeHeader(); !s.ok()) return s;
    if (auto s = mappings_.Build(proto_.mapping(), "mapping"); !s.ok()) return s;
    if (auto s = functions_.Build(proto_.function(), "function"); !s.ok()) return s;
    if (auto s = locations_.Build(proto_.location(), "location"); !s.ok()) return s;
    if (auto s = DecodeFunctions(); !s.ok()) return s;
    if (auto s = DecodeLocations(); !s.ok()) return s;
    if (auto s = DecodeSamples(); !s.ok()) return s;
    out_.num_functions = proto_.function_size();
    out_.num_mappings = proto_.mapping_size();
    return std::move(out_);
  }

 private:
  absl::StatusOr<absl::string_view> String(int64_t index,
                                           absl::string_view field) const {
    if (index < 0 || index >= proto_.string_table_size()) {
      return Invalid(absl::StrCat(field, " refers to string ", index,
                                  " beyond the string table (",
                                  proto_.string_table_size(), " entries)"));
    }
    return absl::string_view(proto_.string_table(static_cast<int>(index)));
  }

  absl::StatusOr<ValueType> DecodeValueType(const pb::ValueType& vt,
                                            absl::string_view field) const {
    if (auto s = CheckWireTypes(vt); !s.ok()) return s;
    auto type = String(vt.type(), field);
    if (!type.ok()) return type.status();
    auto unit = String(vt.unit(), field);
    if (!unit.ok()) return unit.status();
    return ValueType{std::string(*type), std::string(*unit)};
  }

  absl::Status DecodeHeader() {
    for (const auto& vt : proto_.sample_type()) {
      auto decoded = DecodeValueType(vt, "sample_type");
      if (!decoded.ok()) return decoded.status();
      out_.sample_types.push_back(*std::move(decoded));
    }
    auto period_type = DecodeValueType(proto_.period_type(), "period_type");
    if (!period_type.ok()) return period_type.status();
    out_.period_type = *std::move(period_type);
    out_.period = proto_.period();
    out_.duration_nanos = proto_.duration_nanos();
    out_.time_nanos = proto_.time_nanos();
    auto default_type =
        String(proto_.default_sample_type(), "default_sample_type");
    if (!default_type.ok()) return default_type.status();
    out_.default_sample_index = DefaultSampleIndex(out_, *default_type);
    for (int64_t comment : proto_.comment()) {
      if (auto s = String(comment, "comment"); !s.ok()) return s.status();
    }
    auto drop = String(proto_.drop_frames(), "drop_frames");
    if (!drop.ok()) return drop.status();
    auto keep = String(proto_.keep_frames(), "keep_frames");
    if (!keep.ok()) return keep.status();
    pruner_ = FramePruner::Create(*drop, *keep);
    return absl::OkStatus();
  }

  // Interns a frame name and returns its FrameId.
  uint32_t Intern(absl::string_view name) {
    auto [it, inserted] = frame_ids_.try_emplace(
        name, static_cast<uint32_t>(out_.frame_names.size()));
    if (inserted) out_.frame_names.emplace_back(name);
    return it->second;
  }

  // pprof names a frame without a function name after its mapping's file.
  absl::StatusOr<uint32_t> NamelessFrame(uint64_t mapping_id) {
    if (mapping_id == 0) return Intern("<unknown>");
    const int mapping = mappings_.Find(mapping_id);
    if (mapping < 0) {
      return Invalid(absl::StrCat("location refers to unknown mapping id ",
                                  mapping_id));
    }
    auto file = String(proto_.mapping(mapping).filename(), "mapping.filename");
    if (!file.ok()) return file.status();
    if (file->empty()) return Intern("<unknown>");
    const size_t slash = file->rfind('/');
    const absl::string_view base =
        slash == absl::string_view::npos ? *file : file->substr(slash + 1);
    return Intern(absl::StrCat("[", base, "]"));
  }

  absl::Status DecodeFunctions() {
    function_names_.reserve(proto_.function_size());
    for (const auto& fn : proto_.function()) {
      if (auto s = CheckWireTypes(fn); !s.ok()) return s;
      auto name = String(fn.name(), "function.name");
      if (!name.ok()) return name.status();
      for (int64_t index : {fn.system_name(), fn.filename()}) {
        if (auto s = String(index, "function"); !s.ok()) return s.status();
      }
      function_names_.push_back(*name);
    }
    for (const auto& mapping : proto_.mapping()) {
      if (auto s = CheckWireTypes(mapping); !s.ok()) return s;
      for (int64_t index : {mapping.filename(), mapping.build_id()}) {
        if (auto s = String(index, "mapping"); !s.ok()) return s.status();
      }
    }
    return absl::OkStatus();
  }

  absl::Status DecodeLocations() {
    const int n = proto_.location_size();
    out_.location_begin.reserve(n + 1);
    out_.location_frames.reserve(n * 2);
    pruner_.Reserve(n);
    std::vector<absl::string_view> line_names;
    for (const auto& loc : proto_.location()) {
      out_.location_begin.push_back(out_.location_frames.size());
      if (auto s = CheckWireTypes(loc); !s.ok()) return s;
      if (loc.mapping_id() != 0 && mappings_.Find(loc.mapping_id()) < 0) {
        return Invalid(absl::StrCat("location ", loc.id(),
                                    " refers to unknown mapping id ",
                                    loc.mapping_id()));
      }
      line_names.clear();
      for (const auto& line : loc.line()) {
        if (auto s = CheckWireTypes(line); !s.ok()) return s;
        const int fn = functions_.Find(line.function_id());
        if (fn < 0) {
          return Invalid(absl::StrCat("location ", loc.id(),
                                      " refers to unknown function id ",
                                      line.function_id()));
        }
        line_names.push_back(function_names_[fn]);
      }
      // drop_frames may cut the innermost lines off this location.
      const size_t first_kept = pruner_.AddLocation(line_names);
      for (size_t i = first_kept; i < line_names.size(); ++i) {
        if (!line_names[i].empty()) {
          out_.location_frames.push_back(Intern(line_names[i]));
          continue;
        }
        auto frame = NamelessFrame(loc.mapping_id());
        if (!frame.ok()) return frame.status();
        out_.location_frames.push_back(*frame);
      }
      if (line_names.empty()) {
        auto frame = NamelessFrame(loc.mapping_id());
        if (!frame.ok()) return frame.status();
        out_.location_frames.push_back(*frame);
      }
    }
    out_.location_begin.push_back(out_.location_frames.size());
    return absl::OkStatus();
  }

  absl::Status DecodeSamples() {
    const size_t num_types = out_.sample_types.size();
    const int n = proto_.sample_size();
    out_.sample_begin.reserve(n + 1);
    out_.label_begin.reserve(n + 1);
    out_.sample_values.reserve(static_cast<size_t>(n) * num_types);
    absl::flat_hash_map<int64_t, uint32_t> label_ids;  // string index -> id
    auto label_id = [&](int64_t index) {
      auto [it, inserted] = label_ids.try_emplace(
          index, static_cast<uint32_t>(out_.label_strings.size()));
      if (inserted) out_.label_strings.push_back(proto_.string_table(index));
      return it->second;
    };
    std::vector<uint32_t> stack;
    for (const auto& sample : proto_.sample()) {
      if (auto s = CheckWireTypes(sample); !s.ok()) return s;
      if (static_cast<size_t>(sample.value_size()) != num_types) {
        return Invalid(absl::StrCat("sample has ", sample.value_size(),
                                    " values for ", num_types,
                                    " sample types"));
      }
      out_.sample_values.insert(out_.sample_values.end(),
                                sample.value().begin(), sample.value().end());
      stack.clear();
      for (uint64_t id : sample.location_id()) {
        const int loc = locations_.Find(id);
        if (loc < 0) {
          return Invalid(
              absl::StrCat("sample refers to unknown location id ", id));
        }
        stack.push_back(static_cast<uint32_t>(loc));
      }
      out_.sample_begin.push_back(out_.sample_locations.size());
      const size_t kept = pruner_.KeptFromRoot(stack);
      out_.sample_locations.insert(out_.sample_locations.end(),
                                   stack.end() - kept, stack.end());
      out_.label_begin.push_back(out_.labels.size());
      for (const auto& label : sample.label()) {
        if (auto s = CheckWireTypes(label); !s.ok()) return s;
        for (int64_t index : {label.key(), label.str(), label.num_unit()}) {
          if (auto s = String(index, "label"); !s.ok()) return s.status();
        }
        if (label.str() == 0) continue;  // numeric label
        out_.labels.push_back({label_id(label.key()), label_id(label.str())});
      }
    }
    out_.sample_begin.push_back(out_.sample_locations.size());
    out_.label_begin.push_back(out_.labels.size());
    return absl::OkStatus();
  }

  const pb::Profile& proto_;
  Profile out_;
  IdIndex mappings_, functions_, locations_;
  std::vector<absl::string_view> function_names_;  // by function index
  absl::flat_hash_map<std::string, uint32_t> frame_ids_;
  FramePruner pruner_;
};

}  // namespace

int DefaultSampleIndex(const Profile& profile,
                       absl::string_view default_sample_type) {
  if (!default_sample_type.empty()) {
    if (auto index = profile.FindSampleType(default_sample_type)) return *index;
  }
  if (auto index = profile.FindSampleType("inuse_space")) return *index;
  return static_cast<int>(profile.sample_types.size()) - 1;
}

absl::StatusOr<Profile> Decode(absl::string_view bytes,
                               const DecodeLimits& limits) {
  if (bytes.empty()) return Invalid("empty input");
  if (bytes.size() > limits.max_compressed_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("profile of ", bytes.size(), " bytes exceeds the limit of ",
                     limits.max_compressed_bytes, " bytes"));
  }
  std::string inflated;
  absl::string_view raw = bytes;
  if (IsGzip(bytes)) {
    auto gunzipped = Gunzip(bytes, limits.max_decompressed_bytes);
    if (!gunzipped.ok()) return gunzipped.status();
    inflated = *std::move(gunzipped);
    raw = inflated;
    if (raw.empty()) return Invalid("empty input after gunzip");
  } else if (bytes.size() > limits.max_decompressed_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "profile of ", bytes.size(), " bytes exceeds the limit of ",
        limits.max_decompressed_bytes, " bytes"));
  }

  google::protobuf::Arena arena;
  auto* proto = google::protobuf::Arena::CreateMessage<pb::Profile>(&arena);
  if (!proto->ParseFromArray(raw.data(), static_cast<int>(raw.size()))) {
    return Invalid(
        "not a profile.proto message (truncated, or not protobuf at all)");
  }
  return Decoder(*proto).Run();
}

}  // namespace profile
