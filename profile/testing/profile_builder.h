// A terse way for tests to build profile.proto messages by hand, including
// malformed ones. Strings are interned (index 0 is always ""), functions and
// single-line locations are shared by name so that stacks written as lists of
// names reuse ids the way real profiles do, and the result is serialized raw
// or gzipped. proto() exposes the message for deliberate corruption.
//
//   ProfileBuilder b;
//   b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
//   b.Stack({"main.leaf", "main.main"}, {1, 10'000'000});
//   std::string bytes = b.Gzipped();
#ifndef PPROF_EXPORTER_PROFILE_TESTING_PROFILE_BUILDER_H_
#define PPROF_EXPORTER_PROFILE_TESTING_PROFILE_BUILDER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "profile/profile.h"
#include "profile/profile.pb.h"

namespace profile::testing {

class ProfileBuilder {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  ProfileBuilder();

  // The string table index of `s`, adding it when new. Str("") == 0.
  int64_t Str(absl::string_view s);

  // Header.
  ProfileBuilder& SampleType(absl::string_view type, absl::string_view unit);
  ProfileBuilder& DefaultSampleType(absl::string_view type);
  ProfileBuilder& PeriodType(absl::string_view type, absl::string_view unit,
                             int64_t period);
  ProfileBuilder& DurationNanos(int64_t nanos);
  ProfileBuilder& TimeNanos(int64_t nanos);
  ProfileBuilder& DropFrames(absl::string_view regex);
  ProfileBuilder& KeepFrames(absl::string_view regex);

  // The function named `name`, created on first use. "" is name index 0.
  uint64_t Function(absl::string_view name);
  // Always a new function, even when one with that name exists.
  uint64_t NewFunction(absl::string_view name);
  // A new mapping of the file `filename`.
  uint64_t Mapping(absl::string_view filename);

  // A new location whose lines call `functions`, innermost (inlined) first,
  // so the last one is the function the others were inlined into.
  uint64_t Location(const std::vector<std::string>& functions,
                    uint64_t mapping_id = 0);
  // A new location whose lines name function ids directly (which may be
  // dangling, 0, or duplicates of one name).
  uint64_t LocationOfFunctionIds(const std::vector<uint64_t>& function_ids,
                                 uint64_t mapping_id = 0);
  // A new location without any line (an unsymbolized address).
  uint64_t LocationWithoutLines(uint64_t mapping_id = 0);
  // The single-line location of `function`, created on first use and
  // shared by every later Frame()/Stack() call with the same name.
  uint64_t Frame(absl::string_view function);

  // A sample over location ids, leaf first.
  ProfileBuilder& Sample(const std::vector<uint64_t>& location_ids,
                         const std::vector<int64_t>& values,
                         const Labels& labels = {});
  // A sample over shared single-line locations (see Frame()), leaf first.
  ProfileBuilder& Stack(const std::vector<std::string>& functions,
                        const std::vector<int64_t>& values,
                        const Labels& labels = {});

  perftools::profiles::Profile& proto() { return proto_; }
  const perftools::profiles::Profile& proto() const { return proto_; }

  std::string Raw() const;
  std::string Gzipped() const;

 private:
  perftools::profiles::Profile proto_;
  std::map<std::string, int64_t, std::less<>> strings_;
  std::map<std::string, uint64_t, std::less<>> functions_by_name_;
  std::map<std::string, uint64_t, std::less<>> frames_by_name_;
};

// `data` as one gzip member (zlib, default compression).
std::string Gzip(absl::string_view data);

// The frame names of a decoded sample, leaf first, every line of every
// location in order: what the reducers iterate over.
std::vector<std::string> SampleFrames(const Profile& profile, size_t sample);

// Every sample's values, in profile order.
std::vector<std::vector<int64_t>> SampleValues(const Profile& profile);

// The string labels of sample `sample`, as "key=value".
std::vector<std::string> SampleLabels(const Profile& profile, size_t sample);

}  // namespace profile::testing

#endif  // PPROF_EXPORTER_PROFILE_TESTING_PROFILE_BUILDER_H_
