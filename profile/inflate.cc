#include "profile/inflate.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace profile {
namespace {

absl::Status TooLarge(size_t max_output_bytes) {
  return absl::ResourceExhaustedError(
      absl::StrCat("gzip: decompressed profile exceeds the limit of ",
                   max_output_bytes, " bytes"));
}

// zlib counts in uInt; hand it at most this much at a time.
constexpr size_t kMaxZlibChunk = size_t{1} << 30;

}  // namespace

bool IsGzip(absl::string_view data) {
  return data.size() >= 2 && static_cast<uint8_t>(data[0]) == 0x1f &&
         static_cast<uint8_t>(data[1]) == 0x8b;
}

size_t GzipSizeHint(absl::string_view last_four_bytes) {
  if (last_four_bytes.size() != 4) return 0;
  const auto* p = reinterpret_cast<const uint8_t*>(last_four_bytes.data());
  return static_cast<size_t>(p[0]) | static_cast<size_t>(p[1]) << 8 |
         static_cast<size_t>(p[2]) << 16 | static_cast<size_t>(p[3]) << 24;
}

absl::StatusOr<std::string> Gunzip(absl::string_view gzipped,
                                   size_t max_output_bytes) {
  size_t hint = 0;
  if (gzipped.size() >= 18) {
    // Deflate expands at most ~1032:1, so a trailer claiming more is a lie;
    // never let it make us allocate the whole cap up front.
    hint = std::min(GzipSizeHint(gzipped.substr(gzipped.size() - 4)),
                    gzipped.size() * 1032);
  }
  bool given = false;
  return GunzipChunks(
      [&]() -> absl::StatusOr<absl::string_view> {
        if (given) return absl::string_view();
        given = true;
        return gzipped;
      },
      hint, max_output_bytes);
}

absl::StatusOr<std::string> GunzipChunks(ChunkSource next_chunk,
                                         size_t size_hint,
                                         size_t max_output_bytes) {
  z_stream stream{};
  // 16 + MAX_WBITS: expect a gzip header and trailer, and check the CRC.
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
    return absl::InternalError("gzip: cannot initialise zlib");
  }
  absl::Cleanup end_stream = [&stream] { inflateEnd(&stream); };

  std::string out;
  // One byte beyond the cap makes exceeding it detectable.
  out.resize(std::min(std::max(size_hint, size_t{64} << 10),
                      max_output_bytes + 1));
  size_t produced = 0;
  size_t consumed_total = 0;
  absl::string_view input;  // the unread rest of the current chunk
  bool at_end = false;      // the source has no more chunks
  bool member_ended = false;
  // The buffer is full and zlib, given no room, made no progress: it has
  // more to write. Until then a full buffer may only lack the 8-byte
  // trailer, which zlib reads without room; growing first (doubling, with
  // a copy) would briefly hold three times a profile whose size the
  // trailer's hint had given exactly.
  bool needs_room = false;

  auto refill = [&]() -> absl::Status {
    while (input.empty() && !at_end) {
      auto chunk = next_chunk();
      if (!chunk.ok()) return chunk.status();
      if (chunk->empty()) {
        at_end = true;
      } else {
        input = *chunk;
      }
    }
    return absl::OkStatus();
  };

  for (;;) {
    if (auto status = refill(); !status.ok()) return status;
    if (member_ended) {
      if (input.empty()) break;  // clean end after a whole member
      // Like Go's gzip reader: another member continues the stream, and
      // anything else after a member is an error (zlib checks the rest of
      // the header).
      if (static_cast<uint8_t>(input[0]) != 0x1f) {
        return absl::InvalidArgumentError(
            "gzip: unexpected bytes after the stream");
      }
      inflateReset(&stream);
      member_ended = false;
    }
    if (produced == out.size() && needs_room) {
      if (out.size() > max_output_bytes) return TooLarge(max_output_bytes);
      out.resize(std::min(out.size() * 2, max_output_bytes + 1));
      needs_room = false;
    }
    const uInt input_chunk =
        static_cast<uInt>(std::min(input.size(), kMaxZlibChunk));
    const size_t room = std::min(out.size() - produced, kMaxZlibChunk);
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    stream.avail_in = input_chunk;
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    stream.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&stream, Z_NO_FLUSH);
    const size_t used = input_chunk - stream.avail_in;
    input.remove_prefix(used);
    consumed_total += used;
    produced += room - stream.avail_out;
    if (produced > max_output_bytes) return TooLarge(max_output_bytes);
    needs_room = room == 0 && used == 0 && rc != Z_STREAM_END;
    if (rc == Z_STREAM_END) {
      member_ended = true;
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return absl::InvalidArgumentError(absl::StrCat(
          "gzip: corrupt data (", stream.msg ? stream.msg : "zlib error",
          ")"));
    }
    // Output room left, input used up and no more coming: the stream ends
    // before its end.
    if (input.empty() && stream.avail_out != 0) {
      if (auto status = refill(); !status.ok()) return status;
      if (at_end && input.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "gzip: truncated stream after ", consumed_total, " bytes"));
      }
    }
  }
  out.resize(produced);
  return out;
}

}  // namespace profile
