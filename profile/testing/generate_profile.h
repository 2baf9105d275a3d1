// A deterministic generator of large synthetic Go CPU profiles, shaped like
// /work/shared/fixtures/large-cpu.pb.gz (see the fixtures README, "The large
// synthetic profile"): sample types samples/count and cpu/nanoseconds,
// period 10 ms, duration 1 h; stacks 10-60 locations deep drawn from a
// layered call graph (so stacks share prefixes), some self-recursive
// functions, ~40 % of locations with inlined Lines, runtime malloc / GC-assist
// tails, short GC background-worker and scheduler stacks (gc_ratio a few
// percent), `service` and `component` string labels, one mapping.
//
// Everything comes from one seed through a fixed integer PRNG (splitmix64),
// so the same options give the same bytes on every platform. The call graph
// depends on the seed only; `samples * scale` distinct samples are drawn from
// it, so the 4x and 16x profiles share the 1x profile's tables and are "the
// same server profiled for longer".
//
//   GeneratorOptions options;
//   options.scale = 4;
//   std::string gzipped = GenerateCpuProfile(options);
#ifndef PPROF_EXPORTER_PROFILE_TESTING_GENERATE_PROFILE_H_
#define PPROF_EXPORTER_PROFILE_TESTING_GENERATE_PROFILE_H_

#include <cstdint>
#include <string>

namespace profile::testing {

struct GeneratorOptions {
  uint64_t seed = 1;
  // Multiplies `samples`: 1, 4 and 16 give the benchmark's scaling table.
  int scale = 1;
  // Distinct samples at scale 1 (the fixture has 300,000).
  int64_t samples = 300'000;
  // gzip (level 1, like Go's runtime/pprof) or raw profile.proto bytes.
  bool gzip = true;
};

// The serialized profile.proto message, gzipped when options.gzip is set.
// Exactly samples * scale samples; about 57k locations and 20k functions at
// scale 1 (slightly more at larger scales, as rarer call paths get sampled).
std::string GenerateCpuProfile(const GeneratorOptions& options);

}  // namespace profile::testing

#endif  // PPROF_EXPORTER_PROFILE_TESTING_GENERATE_PROFILE_H_
