// Gzip compression, the inverse of inflate.h. The exporter compresses its
// /metrics body with it (Prometheus asks for gzip), and the test tools
// write gzipped profiles as Go's runtime/pprof does. Pure: bytes in, bytes
// out.
#ifndef PPROF_EXPORTER_PROFILE_DEFLATE_H_
#define PPROF_EXPORTER_PROFILE_DEFLATE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace profile {

// One gzip member holding `data`, with mtime 0, so the output depends on the
// input and the level only. `level` is zlib's: 1 (fastest, what Go's
// runtime/pprof uses) to 9 (smallest).
std::string Gzip(absl::string_view data, int level);

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_DEFLATE_H_
