// Sharding: --shard=i/n makes one exporter scrape only the targets whose
// name falls into shard i of n, so n replicas with the same configuration
// (and the same service-discovery files) split the targets between them,
// each target scraped by exactly one replica.
//
// The shard of a name is FNV-1a 64 of its bytes modulo n. FNV-1a is
// specified byte for byte (offset basis 0xcbf29ce484222325, prime
// 0x100000001b3; http://www.isthe.com/chongo/tech/comp/fnv/), so the split
// is the same on every build, version and machine, unlike absl::Hash (seeded
// per process) or CityHash (whose output may change between releases). A
// target moves between shards only when its name or n changes.
#ifndef PPROF_EXPORTER_EXPORTER_DISCOVERY_SHARD_H_
#define PPROF_EXPORTER_EXPORTER_DISCOVERY_SHARD_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace exporter {

struct Shard {
  int index = 0;  // 0 <= index < count
  int count = 1;  // 1: no sharding, every target is kept
};

// FNV-1a, 64 bits.
uint64_t Fnv1a64(absl::string_view bytes);

// Whether the target named `name` belongs to `shard`.
bool InShard(absl::string_view name, const Shard& shard);

// Parses "i/n" (decimal, 0 <= i < n, 1 <= n <= 1000000). InvalidArgument
// with a message naming the problem otherwise.
absl::StatusOr<Shard> ParseShard(absl::string_view text);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_DISCOVERY_SHARD_H_
