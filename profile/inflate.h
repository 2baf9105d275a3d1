// Inflating a gzip stream with a hard cap on the output size, so that a
// small "gzip bomb" cannot make us allocate gigabytes. Pure: bytes in, bytes
// out; the compressed bytes may arrive in chunks (e.g. read from a file) so
// that the compressed and decompressed profile need not be held at once.
//
// The deflate decoder is Intel's ISA-L (igzip), about three times as fast
// as zlib's on our profiles; GunzipChunksWith takes another one (the
// fuzzer checks ISA-L against zlib's with it, profile/testing/
// zlib_inflater.h), so members, trailing bytes and caps behave the same.
#ifndef PPROF_EXPORTER_PROFILE_INFLATE_H_
#define PPROF_EXPORTER_PROFILE_INFLATE_H_

#include <cstddef>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace profile {

// Returns the next chunk of input, or an empty view at its end. A view
// stays valid until the next call.
using ChunkSource = absl::FunctionRef<absl::StatusOr<absl::string_view>()>;

// True when `data` starts with the gzip magic bytes 1f 8b.
bool IsGzip(absl::string_view data);

// The uncompressed size a gzip stream's last four bytes claim (its ISIZE,
// modulo 2^32). Only a hint for the first allocation; never trusted.
size_t GzipSizeHint(absl::string_view last_four_bytes);

// Inflates a gzip stream; several members are concatenated, as Go's gzip
// reader does, and anything else after a member is an error. Fails with
// ResourceExhausted when the output would exceed `max_output_bytes`, and
// InvalidArgument when the stream is corrupt or truncated.
absl::StatusOr<std::string> Gunzip(absl::string_view gzipped,
                                   size_t max_output_bytes);

// The same over chunks. `size_hint` (0 if unknown) sizes the output buffer
// up front so that it need not grow by copying.
absl::StatusOr<std::string> GunzipChunks(ChunkSource next_chunk,
                                         size_t size_hint,
                                         size_t max_output_bytes);

// A decoder of one gzip member at a time (header, deflate data, CRC-32
// and ISIZE checks), driven by GunzipChunksWith.
class GzipInflater {
 public:
  struct Step {
    size_t consumed = 0;        // input bytes used
    size_t produced = 0;        // output bytes written
    bool member_ended = false;  // the trailer was read and matched
  };
  virtual ~GzipInflater() = default;
  // Inflates from `input` into `out[0, room)`; both are at most 1 GiB.
  // InvalidArgument "gzip: corrupt data (why)" when the member is corrupt.
  virtual absl::StatusOr<Step> Inflate(absl::string_view input, char* out,
                                       size_t room) = 0;
  // Starts over on the next member.
  virtual void Reset() = 0;
};

// Gunzip and GunzipChunks with the given decoder; they use ISA-L's.
absl::StatusOr<std::string> GunzipWith(GzipInflater& inflater,
                                       absl::string_view gzipped,
                                       size_t max_output_bytes);
absl::StatusOr<std::string> GunzipChunksWith(GzipInflater& inflater,
                                             ChunkSource next_chunk,
                                             size_t size_hint,
                                             size_t max_output_bytes);

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_INFLATE_H_
