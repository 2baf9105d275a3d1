#include "exporter/kinds.h"

#include <array>
#include <utility>

#include "profile/goroutine_dump.h"

namespace exporter {
namespace {

using profile::Kind;

template <Kind kKind>
absl::StatusOr<Reduced> ReduceProto(absl::string_view body,
                                    const ReduceInput& input) {
  absl::StatusOr<profile::Profile> decoded =
      profile::Decode(body, input.limits);
  if (!decoded.ok()) return decoded.status();
  absl::StatusOr<profile::Reduction> reduction =
      profile::Reduce(kKind, *decoded, *input.options, input.previous);
  if (!reduction.ok()) return reduction.status();
  return Reduced{*std::move(reduction),
                 static_cast<int64_t>(decoded->num_samples())};
}

absl::StatusOr<Reduced> ReduceDump(absl::string_view body,
                                   const ReduceInput& input) {
  // The body is at most DecodeLimits::max_compressed_bytes already; the
  // parser's own limits cap lines and goroutines.
  absl::StatusOr<profile::GoroutineDump> dump =
      profile::ParseGoroutineDump(body);
  if (!dump.ok()) return dump.status();
  return Reduced{profile::ReduceParsedGoroutineDump(*dump, *input.options,
                                                    input.stuck_after),
                 static_cast<int64_t>(dump->stacks.size())};
}

constexpr std::array<KindSpec, 8> kKindSpecs = {{
    {.kind = Kind::kCpu,
     .path = "profile",
     .reduce = ReduceProto<Kind::kCpu>,
     .sampled = true},
    {.kind = Kind::kHeap, .path = "heap", .reduce = ReduceProto<Kind::kHeap>},
    {.kind = Kind::kAllocs,
     .path = "allocs",
     .reduce = ReduceProto<Kind::kAllocs>,
     .totals_from = Kind::kHeap},
    {.kind = Kind::kGoroutine,
     .path = "goroutine",
     .reduce = ReduceProto<Kind::kGoroutine>},
    {.kind = Kind::kMutex,
     .path = "mutex",
     .reduce = ReduceProto<Kind::kMutex>},
    {.kind = Kind::kBlock,
     .path = "block",
     .reduce = ReduceProto<Kind::kBlock>},
    // Off by default: Go stops the world for the whole dump (about 0.06 to
    // 0.5 s at 6,000 goroutines, docs/BENCHMARKS.md), and its waits move
    // in whole minutes anyway.
    {.kind = Kind::kGoroutineDump,
     .path = "goroutine?debug=2",
     .reduce = ReduceDump,
     .on_by_default = false,
     .default_interval = absl::Minutes(5),
     .takes_stuck_after = true,
     .totals_from = Kind::kGoroutine},
    // Off by default, and rare: each fetch runs a GC cycle in the target.
    {.kind = Kind::kGoroutineLeak,
     .path = "goroutineleak",
     .reduce = ReduceProto<Kind::kGoroutineLeak>,
     .on_by_default = false,
     .default_interval = absl::Hours(6),
     .not_found_means = "the target's Go version has no goroutineleak "
                        "profile (it needs Go 1.27 or later)"},
}};

}  // namespace

absl::Span<const KindSpec> AllKindSpecs() { return kKindSpecs; }

std::vector<Kind> DefaultKinds() {
  std::vector<Kind> kinds;
  for (const KindSpec& spec : kKindSpecs) {
    if (spec.on_by_default) kinds.push_back(spec.kind);
  }
  return kinds;
}

const KindSpec& SpecOf(Kind kind) {
  for (const KindSpec& spec : kKindSpecs) {
    if (spec.kind == kind) return spec;
  }
  return kKindSpecs[0];  // unreachable: every Kind has a row (kinds_test)
}

}  // namespace exporter
