// The six profile kinds that Go's net/http/pprof serves. The kind decides the
// endpoint path, the sample type that is reduced, and the metric names.
#ifndef PPROF_EXPORTER_PROFILE_KIND_H_
#define PPROF_EXPORTER_PROFILE_KIND_H_

#include <array>
#include <optional>

#include "absl/strings/string_view.h"

namespace profile {

// The six classic kinds, then two goroutine forensics kinds:
// goroutine_dump, the runtime's traceback text (goroutine?debug=2; reduced
// by ReduceGoroutineDump(), goroutine_dump.h, not from a profile.proto),
// and goroutineleak (Go 1.27+), a profile.proto like the goroutine profile.
enum class Kind {
  kCpu,
  kHeap,
  kAllocs,
  kGoroutine,
  kMutex,
  kBlock,
  kGoroutineDump,
  kGoroutineLeak,
};

inline constexpr std::array<Kind, 8> kAllKinds = {
    Kind::kCpu,   Kind::kHeap,  Kind::kAllocs,        Kind::kGoroutine,
    Kind::kMutex, Kind::kBlock, Kind::kGoroutineDump, Kind::kGoroutineLeak};

// "cpu", "heap", "allocs", "goroutine", "mutex", "block",
// "goroutine_dump", "goroutineleak".
absl::string_view KindName(Kind kind);

// The inverse of KindName; nullopt for anything else.
std::optional<Kind> ParseKind(absl::string_view name);

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_KIND_H_
