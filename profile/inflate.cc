#include "profile/inflate.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace profile {

bool IsGzip(absl::string_view data) {
  return data.size() >= 2 && static_cast<uint8_t>(data[0]) == 0x1f &&
         static_cast<uint8_t>(data[1]) == 0x8b;
}

namespace {

// The gzip trailer's ISIZE: the uncompressed size modulo 2^32. Only a hint
// for the first allocation; never trusted as a bound.
size_t SizeHint(absl::string_view gzipped) {
  if (gzipped.size() < 18) return 0;
  const auto* p =
      reinterpret_cast<const uint8_t*>(gzipped.data() + gzipped.size() - 4);
  return static_cast<size_t>(p[0]) | static_cast<size_t>(p[1]) << 8 |
         static_cast<size_t>(p[2]) << 16 | static_cast<size_t>(p[3]) << 24;
}

absl::Status TooLarge(size_t max_output_bytes) {
  return absl::ResourceExhaustedError(
      absl::StrCat("gzip: decompressed profile exceeds the limit of ",
                   max_output_bytes, " bytes"));
}

}  // namespace

absl::StatusOr<std::string> Gunzip(absl::string_view gzipped,
                                   size_t max_output_bytes) {
  z_stream stream{};
  // 16 + MAX_WBITS: expect a gzip header and trailer, and check the CRC.
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
    return absl::InternalError("gzip: cannot initialise zlib");
  }
  absl::Cleanup end_stream = [&stream] { inflateEnd(&stream); };

  std::string out;
  // Deflate expands at most ~1032:1, so a trailer claiming more is a lie;
  // never let it make us allocate the whole cap up front.
  const size_t hint = std::min(SizeHint(gzipped), gzipped.size() * 1032);
  out.resize(std::max<size_t>(std::min(hint, max_output_bytes), 64 << 10));

  stream.next_in =
      reinterpret_cast<Bytef*>(const_cast<char*>(gzipped.data()));
  size_t produced = 0;
  size_t input_left = gzipped.size();
  for (;;) {
    // zlib counts in uInt; feed at most 1 GiB at a time.
    const uInt input_chunk =
        static_cast<uInt>(std::min<size_t>(input_left, 1u << 30));
    stream.avail_in = input_chunk;
    if (produced == out.size()) {
      if (out.size() >= max_output_bytes + 1) return TooLarge(max_output_bytes);
      // Room for one byte beyond the cap, so exceeding it is detectable.
      out.resize(std::min(out.size() * 2, max_output_bytes + 1));
    }
    const size_t room = std::min<size_t>(out.size() - produced, 1u << 30);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    stream.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&stream, Z_NO_FLUSH);
    produced += room - stream.avail_out;
    input_left -= input_chunk - stream.avail_in;
    if (produced > max_output_bytes) return TooLarge(max_output_bytes);
    if (rc == Z_STREAM_END) {
      if (input_left == 0) break;
      // Like Go's gzip reader: another member continues the stream, and
      // anything else after a member is an error.
      if (!IsGzip(absl::string_view(
              reinterpret_cast<const char*>(stream.next_in), input_left))) {
        return absl::InvalidArgumentError(absl::StrCat(
            "gzip: ", input_left, " unexpected bytes after the stream"));
      }
      inflateReset(&stream);
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return absl::InvalidArgumentError(absl::StrCat(
          "gzip: corrupt data (", stream.msg ? stream.msg : "zlib error",
          ")"));
    }
    // Output room left but no input: the stream ends early.
    if (input_left == 0 && stream.avail_out != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "gzip: truncated stream after ", gzipped.size(), " bytes"));
    }
  }
  out.resize(produced);
  return out;
}

}  // namespace profile
