#include "profile/testing/profile_builder.h"

#include "profile/deflate.h"

#include <cstdlib>
#include <iostream>

namespace profile::testing {

namespace pb = ::perftools::profiles;

ProfileBuilder::ProfileBuilder() { Str(""); }

int64_t ProfileBuilder::Str(absl::string_view s) {
  auto it = strings_.find(s);
  if (it != strings_.end()) return it->second;
  const int64_t index = proto_.string_table_size();
  proto_.add_string_table(std::string(s));
  strings_.emplace(std::string(s), index);
  return index;
}

ProfileBuilder& ProfileBuilder::SampleType(absl::string_view type,
                                           absl::string_view unit) {
  pb::ValueType* vt = proto_.add_sample_type();
  vt->set_type(Str(type));
  vt->set_unit(Str(unit));
  return *this;
}

ProfileBuilder& ProfileBuilder::DefaultSampleType(absl::string_view type) {
  proto_.set_default_sample_type(Str(type));
  return *this;
}

ProfileBuilder& ProfileBuilder::PeriodType(absl::string_view type,
                                           absl::string_view unit,
                                           int64_t period) {
  proto_.mutable_period_type()->set_type(Str(type));
  proto_.mutable_period_type()->set_unit(Str(unit));
  proto_.set_period(period);
  return *this;
}

ProfileBuilder& ProfileBuilder::DurationNanos(int64_t nanos) {
  proto_.set_duration_nanos(nanos);
  return *this;
}

ProfileBuilder& ProfileBuilder::TimeNanos(int64_t nanos) {
  proto_.set_time_nanos(nanos);
  return *this;
}

ProfileBuilder& ProfileBuilder::DropFrames(absl::string_view regex) {
  proto_.set_drop_frames(Str(regex));
  return *this;
}

ProfileBuilder& ProfileBuilder::KeepFrames(absl::string_view regex) {
  proto_.set_keep_frames(Str(regex));
  return *this;
}

uint64_t ProfileBuilder::Function(absl::string_view name) {
  auto it = functions_by_name_.find(name);
  if (it != functions_by_name_.end()) return it->second;
  const uint64_t id = NewFunction(name);
  functions_by_name_.emplace(std::string(name), id);
  return id;
}

uint64_t ProfileBuilder::NewFunction(absl::string_view name) {
  pb::Function* fn = proto_.add_function();
  const uint64_t id = static_cast<uint64_t>(proto_.function_size());
  fn->set_id(id);
  fn->set_name(Str(name));
  fn->set_system_name(Str(name));
  fn->set_filename(Str("main.go"));
  return id;
}

uint64_t ProfileBuilder::Mapping(absl::string_view filename) {
  pb::Mapping* mapping = proto_.add_mapping();
  const uint64_t id = static_cast<uint64_t>(proto_.mapping_size());
  mapping->set_id(id);
  mapping->set_memory_start(0x400000 * id);
  mapping->set_memory_limit(0x400000 * (id + 1));
  mapping->set_filename(Str(filename));
  mapping->set_has_functions(true);
  return id;
}

uint64_t ProfileBuilder::Location(const std::vector<std::string>& functions,
                                  uint64_t mapping_id) {
  std::vector<uint64_t> ids;
  ids.reserve(functions.size());
  for (const std::string& name : functions) ids.push_back(Function(name));
  return LocationOfFunctionIds(ids, mapping_id);
}

uint64_t ProfileBuilder::LocationOfFunctionIds(
    const std::vector<uint64_t>& function_ids, uint64_t mapping_id) {
  pb::Location* loc = proto_.add_location();
  const uint64_t id = static_cast<uint64_t>(proto_.location_size());
  loc->set_id(id);
  loc->set_mapping_id(mapping_id);
  loc->set_address(0x1000 + 0x10 * id);
  int64_t line_number = 10;
  for (uint64_t function_id : function_ids) {
    pb::Line* line = loc->add_line();
    line->set_function_id(function_id);
    line->set_line(line_number++);
  }
  return id;
}

uint64_t ProfileBuilder::LocationWithoutLines(uint64_t mapping_id) {
  return LocationOfFunctionIds({}, mapping_id);
}

uint64_t ProfileBuilder::Frame(absl::string_view function) {
  auto it = frames_by_name_.find(function);
  if (it != frames_by_name_.end()) return it->second;
  const uint64_t id = Location({std::string(function)});
  frames_by_name_.emplace(std::string(function), id);
  return id;
}

ProfileBuilder& ProfileBuilder::Sample(
    const std::vector<uint64_t>& location_ids,
    const std::vector<int64_t>& values, const Labels& labels) {
  pb::Sample* sample = proto_.add_sample();
  for (uint64_t id : location_ids) sample->add_location_id(id);
  for (int64_t v : values) sample->add_value(v);
  for (const auto& [key, value] : labels) {
    pb::Label* label = sample->add_label();
    label->set_key(Str(key));
    label->set_str(Str(value));
  }
  return *this;
}

ProfileBuilder& ProfileBuilder::Stack(const std::vector<std::string>& functions,
                                      const std::vector<int64_t>& values,
                                      const Labels& labels) {
  std::vector<uint64_t> ids;
  ids.reserve(functions.size());
  for (const std::string& name : functions) ids.push_back(Frame(name));
  return Sample(ids, values, labels);
}

std::string ProfileBuilder::Raw() const {
  std::string out;
  if (!proto_.SerializeToString(&out)) {
    std::cerr << "ProfileBuilder: cannot serialize the profile\n";
    std::abort();
  }
  return out;
}

std::string ProfileBuilder::Gzipped() const { return Gzip(Raw()); }

// zlib's default level (6), which the checked-in corpus files were made with.
std::string Gzip(absl::string_view data) { return ::profile::Gzip(data, 6); }

namespace {

// The helpers below are for profiles with valid samples.
void VisitSamplesOrDie(const Profile& profile,
                       absl::FunctionRef<void(const SampleRef&)> visit) {
  if (absl::Status s = profile.ForEachSample(visit); !s.ok()) {
    std::cerr << "ProfileBuilder: " << s << "\n";
    std::abort();
  }
}

}  // namespace

std::vector<std::string> SampleFrames(const Profile& profile, size_t sample) {
  std::vector<std::string> frames;
  size_t index = 0;
  VisitSamplesOrDie(profile, [&](const SampleRef& ref) {
    if (index++ != sample) return;
    for (uint32_t loc : ref.locations) {
      for (uint32_t frame : profile.frames_of_location(loc)) {
        frames.emplace_back(profile.frame_names[frame]);
      }
    }
  });
  return frames;
}

std::vector<std::vector<int64_t>> SampleValues(const Profile& profile) {
  std::vector<std::vector<int64_t>> values;
  VisitSamplesOrDie(profile, [&](const SampleRef& ref) {
    values.emplace_back(ref.values.begin(), ref.values.end());
  });
  return values;
}

std::vector<std::string> SampleLabels(const Profile& profile, size_t sample) {
  std::vector<std::string> labels;
  size_t index = 0;
  VisitSamplesOrDie(profile, [&](const SampleRef& ref) {
    if (index++ != sample) return;
    for (const Label& l : ref.labels) {
      labels.push_back(std::string(profile.string(l.key)) + "=" +
                       std::string(profile.string(l.value)));
    }
  });
  return labels;
}

}  // namespace profile::testing
