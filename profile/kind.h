// The six profile kinds that Go's net/http/pprof serves. The kind decides the
// endpoint path, the sample type that is reduced, and the metric names.
#ifndef PPROF_EXPORTER_PROFILE_KIND_H_
#define PPROF_EXPORTER_PROFILE_KIND_H_

#include <array>
#include <optional>

#include "absl/strings/string_view.h"

namespace profile {

enum class Kind { kCpu, kHeap, kAllocs, kGoroutine, kMutex, kBlock };

inline constexpr std::array<Kind, 6> kAllKinds = {
    Kind::kCpu,       Kind::kHeap,  Kind::kAllocs,
    Kind::kGoroutine, Kind::kMutex, Kind::kBlock};

// "cpu", "heap", "allocs", "goroutine", "mutex", "block".
absl::string_view KindName(Kind kind);

// The inverse of KindName; nullopt for anything else.
std::optional<Kind> ParseKind(absl::string_view name);

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_KIND_H_
