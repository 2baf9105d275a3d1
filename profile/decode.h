// Decoding: bytes of a profile.proto (gzipped or raw) into a validated
// Profile (profile.h). Every id and string index of the tables is resolved
// here, once; anything that does not resolve is an error, as in pprof's own
// parser. Samples, the bulk of a profile, are only framed here: each one is
// checked as Profile::ForEachSample visits it (in the reducer's single pass
// over them), which reports a malformed sample with the same kind of error.
// pprof's drop_frames/keep_frames pruning is applied here too, so every
// reducer sees the stacks `go tool pprof` reports on.
#ifndef PPROF_EXPORTER_PROFILE_DECODE_H_
#define PPROF_EXPORTER_PROFILE_DECODE_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "profile/inflate.h"
#include "profile/profile.h"

namespace profile {

struct DecodeLimits {
  size_t max_compressed_bytes = size_t{64} << 20;
  size_t max_decompressed_bytes = size_t{256} << 20;
  // Entries of all tables together; large-cpu.pb.gz (33.6 MB) has ~0.5M.
  size_t max_table_entries = size_t{8} << 20;
};

// Errors: InvalidArgument for input that is not a valid profile (empty, not
// gzip and not protobuf, truncated, dangling ids or string indices outside
// the samples); ResourceExhausted when a size limit is exceeded. A valid
// profile with no samples is not an error. A malformed sample's contents
// (its encoding, location ids, number of values, label strings) are
// ForEachSample's InvalidArgument, and so every reducer's.
absl::StatusOr<Profile> Decode(absl::string_view bytes,
                               const DecodeLimits& limits = {});

// The same for input read piece by piece, e.g. from a file, so that the
// compressed and the decompressed profile are never both in memory.
// `size_hint` is the expected decompressed size (GzipSizeHint of the last
// four bytes of a gzip file), or 0 if unknown. It is allocated up front (up
// to max_decompressed_bytes), so bound an untrusted hint by the compressed
// size times 1032, deflate's largest expansion, as `reduce` does.
absl::StatusOr<Profile> DecodeChunks(ChunkSource next_chunk, size_t size_hint,
                                     const DecodeLimits& limits = {});

// Implements pprof's default sample type: the profile's
// default_sample_type when set, else inuse_space when present (heap
// profiles), else the last sample type.
int DefaultSampleIndex(const Profile& profile,
                       absl::string_view default_sample_type);

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_DECODE_H_
