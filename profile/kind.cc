#include "profile/kind.h"

namespace profile {

absl::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kCpu: return "cpu";
    case Kind::kHeap: return "heap";
    case Kind::kAllocs: return "allocs";
    case Kind::kGoroutine: return "goroutine";
    case Kind::kMutex: return "mutex";
    case Kind::kBlock: return "block";
    case Kind::kGoroutineDump: return "goroutine_dump";
    case Kind::kGoroutineLeak: return "goroutineleak";
  }
  return "unknown";
}

std::optional<Kind> ParseKind(absl::string_view name) {
  for (Kind kind : kAllKinds) {
    if (KindName(kind) == name) return kind;
  }
  return std::nullopt;
}

}  // namespace profile
