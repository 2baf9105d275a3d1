#include "profile/reduce.h"

#include <initializer_list>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace profile {
namespace {

bool HasAny(const Profile& profile,
            std::initializer_list<absl::string_view> types) {
  for (absl::string_view type : types) {
    if (profile.FindSampleType(type)) return true;
  }
  return false;
}

int IndexOr(const Profile& profile, absl::string_view type, int fallback) {
  return profile.FindSampleType(type).value_or(fallback);
}

std::string DescribeSampleTypes(const Profile& profile) {
  return absl::StrJoin(profile.sample_types, ", ",
                       [](std::string* out, const ValueType& vt) {
                         absl::StrAppend(out, vt.type, "/", vt.unit);
                       });
}

}  // namespace

int64_t SaturatedInt64(absl::int128 value) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  if (value > kMax) return kMax;
  if (value < kMin) return kMin;
  return static_cast<int64_t>(value);
}

absl::StatusOr<absl::int128> SumValues(const Profile& profile, int index) {
  absl::int128 sum = 0;
  if (auto s = profile.ForEachSample(
          [&](const SampleRef& sample) { sum += sample.values[index]; });
      !s.ok()) {
    return s;
  }
  return sum;
}

std::optional<double> InBaseUnits(absl::int128 value, absl::string_view unit) {
  const double v = static_cast<double>(value);
  if (unit == "count" || unit == "bytes" || unit == "seconds") return v;
  if (unit == "nanoseconds") return v / 1e9;
  if (unit == "microseconds") return v / 1e6;
  if (unit == "milliseconds") return v / 1e3;
  return std::nullopt;
}

bool IsApplicationFunction(absl::string_view name) {
  // The package path ends at the first '.' after the last '/'.
  const size_t last_slash = name.rfind('/');
  const size_t path_end =
      name.find('.', last_slash == absl::string_view::npos ? 0 : last_slash);
  const absl::string_view path = name.substr(0, path_end);
  const absl::string_view first_element =
      path.substr(0, last_slash == absl::string_view::npos ? path.size()
                                                           : path.find('/'));
  return first_element == "main" ||
         first_element.find('.') != absl::string_view::npos;
}

absl::StatusOr<Kind> GuessKind(const Profile& profile) {
  if (HasAny(profile, {"cpu"})) return Kind::kCpu;
  if (HasAny(profile, {"goroutine"})) return Kind::kGoroutine;
  if (HasAny(profile, {"goroutineleak"})) return Kind::kGoroutineLeak;
  if (HasAny(profile, {"inuse_space", "alloc_space", "space"})) {
    const std::string& preferred =
        profile.sample_types[profile.default_sample_index].type;
    return (preferred == "alloc_space" || preferred == "alloc_objects")
               ? Kind::kAllocs
               : Kind::kHeap;
  }
  if (HasAny(profile, {"delay", "contentions"})) {
    return absl::FailedPreconditionError(
        "mutex and block profiles have the same sample types "
        "(contentions, delay); the kind must be given");
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "cannot tell the profile kind from its sample types: ",
      DescribeSampleTypes(profile)));
}

Windowed MakeWindowed(const Profile& profile, const FunctionTable& table,
                      int value_index, size_t top,
                      const FunctionBaseline* previous) {
  Windowed out;
  out.baseline = std::make_shared<const FunctionBaseline>(
      BaselineOf(profile, table, value_index));
  if (previous != nullptr) {
    out.window = Subtract(profile, table, value_index, *previous, top);
  }
  if (out.window) {
    out.window_total = InBaseUnits(out.window->total,
                                   profile.sample_types[value_index].unit);
  }
  return out;
}

absl::StatusOr<Reduction> Reduce(Kind kind, const Profile& profile,
                                 const ReduceOptions& options,
                                 const FunctionBaseline* previous,
                                 const SampleParallelism& parallelism) {
  const int preferred = profile.default_sample_index;
  bool fits = false;
  switch (kind) {
    case Kind::kCpu:
      fits = HasAny(profile, {"cpu", "samples"});
      if (fits) return ReduceCpu(profile, preferred, options, parallelism);
      break;
    case Kind::kHeap:
      // gperftools' heap profiles have only in-use data, as objects/count
      // and space/bytes; pprof reads "space" as the in-use bytes.
      fits = HasAny(profile, {"inuse_space", "inuse_objects", "alloc_space",
                              "alloc_objects", "space", "objects"});
      if (fits) {
        const int index = IndexOr(profile, "inuse_space",
                                  IndexOr(profile, "space", preferred));
        return ReduceHeap(profile, index, options, false, previous);
      }
      break;
    case Kind::kAllocs:
      fits = HasAny(profile, {"inuse_space", "inuse_objects", "alloc_space",
                              "alloc_objects"});
      if (fits) {
        return ReduceHeap(profile, IndexOr(profile, "alloc_space", preferred),
                          options, true, previous);
      }
      break;
    case Kind::kGoroutine:
      fits = HasAny(profile, {"goroutine"});
      if (fits) {
        return ReduceGoroutine(profile, IndexOr(profile, "goroutine", preferred),
                               options);
      }
      break;
    case Kind::kMutex:
    case Kind::kBlock:
      fits = HasAny(profile, {"delay", "contentions"});
      if (fits) {
        return ReduceContention(profile, IndexOr(profile, "delay", preferred),
                                options, previous);
      }
      break;
    case Kind::kGoroutineLeak:
      if (HasAny(profile, {"goroutineleak"})) {
        return ReduceGoroutineLeak(profile, options);
      }
      break;
    case Kind::kGoroutineDump:
      break;  // text, not a profile.proto: ReduceGoroutineDump()
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "not a ", KindName(kind), " profile: its sample types are ",
      DescribeSampleTypes(profile)));
}

}  // namespace profile
