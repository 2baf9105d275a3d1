#include "exporter/config/kinds.h"

#include <array>

namespace exporter {
namespace {

using profile::Kind;

constexpr std::array<KindSpec, 6> kKindSpecs = {{
    {Kind::kCpu, "profile", /*sampled=*/true},
    {Kind::kHeap, "heap"},
    {Kind::kAllocs, "allocs"},
    {Kind::kGoroutine, "goroutine"},
    {Kind::kMutex, "mutex"},
    {Kind::kBlock, "block"},
}};

}  // namespace

absl::Span<const KindSpec> AllKindSpecs() { return kKindSpecs; }

const KindSpec& SpecOf(Kind kind) {
  for (const KindSpec& spec : kKindSpecs) {
    if (spec.kind == kind) return spec;
  }
  return kKindSpecs[0];  // unreachable: every Kind has a row (kinds_test)
}

}  // namespace exporter
