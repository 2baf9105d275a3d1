#include "exporter/discovery/shard.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace exporter {

uint64_t Fnv1a64(absl::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

bool InShard(absl::string_view name, const Shard& shard) {
  if (shard.count <= 1) return true;
  return Fnv1a64(name) % static_cast<uint64_t>(shard.count) ==
         static_cast<uint64_t>(shard.index);
}

absl::StatusOr<Shard> ParseShard(absl::string_view text) {
  constexpr int kMaxShards = 1000000;
  const size_t slash = text.find('/');
  auto bad = [text](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrFormat("bad --shard=%s: %s", text, why));
  };
  if (slash == absl::string_view::npos) return bad("expected INDEX/COUNT");
  const absl::string_view index_text = text.substr(0, slash);
  const absl::string_view count_text = text.substr(slash + 1);
  auto all_digits = [](absl::string_view s) {
    if (s.empty() || s.size() > 7) return false;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  int index = 0;
  int count = 0;
  if (!all_digits(index_text) || !all_digits(count_text) ||
      !absl::SimpleAtoi(index_text, &index) ||
      !absl::SimpleAtoi(count_text, &count)) {
    return bad("expected INDEX/COUNT as decimal numbers, e.g. 0/3");
  }
  if (count < 1 || count > kMaxShards) {
    return bad(absl::StrFormat("COUNT must be between 1 and %d", kMaxShards));
  }
  if (index >= count) return bad("INDEX must be less than COUNT (0-based)");
  return Shard{index, count};
}

}  // namespace exporter
