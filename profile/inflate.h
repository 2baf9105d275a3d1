// Inflating a gzip stream with a hard cap on the output size, so that a
// small "gzip bomb" cannot make us allocate gigabytes. Pure: bytes in, bytes
// out, no I/O.
#ifndef PPROF_EXPORTER_PROFILE_INFLATE_H_
#define PPROF_EXPORTER_PROFILE_INFLATE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace profile {

// True when `data` starts with the gzip magic bytes 1f 8b.
bool IsGzip(absl::string_view data);

// Inflates a gzip stream; several members are concatenated, as Go's gzip
// reader does, and anything else after a member is an error. Fails with ResourceExhausted when the output
// would exceed `max_output_bytes`, and InvalidArgument when the stream is
// corrupt or truncated.
absl::StatusOr<std::string> Gunzip(absl::string_view gzipped,
                                   size_t max_output_bytes);

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_INFLATE_H_
