#include "profile/inflate.h"

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace profile {
namespace {

absl::Status TooLarge(size_t max_output_bytes) {
  return absl::ResourceExhaustedError(
      absl::StrCat("gzip: decompressed profile exceeds the limit of ",
                   max_output_bytes, " bytes"));
}

// zlib and ISA-L count in 32 bits; hand them at most this much at a time.
constexpr size_t kMaxChunk = size_t{1} << 30;

uint32_t LittleEndian32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

absl::Status CorruptHeader(absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("gzip: corrupt data (", why, ")"));
}

// The length of the gzip header (RFC 1952) at the start of `bytes`, or 0
// when `bytes` ends inside it. Checks what zlib checks, in its words.
absl::StatusOr<size_t> GzipHeaderLength(absl::string_view bytes) {
  constexpr uint8_t kHeaderCrc = 2, kExtra = 4, kName = 8, kComment = 16;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  if (n >= 1 && p[0] != 0x1f) return CorruptHeader("incorrect header check");
  if (n >= 2 && p[1] != 0x8b) return CorruptHeader("incorrect header check");
  if (n >= 3 && p[2] != 8) return CorruptHeader("unknown compression method");
  if (n >= 4 && (p[3] & 0xe0) != 0) {
    return CorruptHeader("unknown header flags set");
  }
  if (n < 10) return 0;
  const uint8_t flags = p[3];
  size_t at = 10;
  if (flags & kExtra) {
    if (n < at + 2) return 0;
    at += 2 + (p[at] | size_t{p[at + 1]} << 8);
  }
  for (uint8_t zero_terminated : {kName, kComment}) {
    if ((flags & zero_terminated) == 0 || at > n) continue;
    const size_t zero = bytes.find('\0', at);
    if (zero == absl::string_view::npos) return 0;
    at = zero + 1;
  }
  if (flags & kHeaderCrc) {
    if (n < at + 2) return 0;
    const uint32_t crc = crc32_gzip_refl(0, p, at) & 0xffff;
    if (crc != (p[at] | uint32_t{p[at + 1]} << 8)) {
      return CorruptHeader("header crc mismatch");
    }
    at += 2;
  }
  return at <= n ? at : 0;
}

// ISA-L's stateful inflate of the deflate data, which also checks CRC-32
// and ISIZE against the trailer. The header is parsed here: ISA-L's own
// parser fails on optional header fields split across chunks. Its state
// (~40 KB of Huffman tables and window) lives on the heap.
class IsalInflater final : public GzipInflater {
 public:
  IsalInflater() : state_(std::make_unique<inflate_state>()) { Reset(); }

  absl::StatusOr<Step> Inflate(absl::string_view input, char* out,
                               size_t room) override {
    if (!in_deflate_) return ReadHeader(input);
    inflate_state& s = *state_;
    s.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(input.data()));
    s.avail_in = static_cast<uint32_t>(input.size());
    s.next_out = reinterpret_cast<uint8_t*>(out);
    s.avail_out = static_cast<uint32_t>(room);
    const int rc = isal_inflate(&s);
    Step step;
    step.consumed = input.size() - s.avail_in;
    step.produced = room - s.avail_out;
    RememberTail(input.substr(0, step.consumed));
    if (rc < 0) return Corrupt(rc);
    if (CrcArrivedAndIsWrong()) {
      return absl::InvalidArgumentError(
          "gzip: corrupt data (incorrect data check)");
    }
    step.member_ended = s.block_state == ISAL_BLOCK_FINISH;
    return step;
  }

  void Reset() override {
    isal_inflate_init(state_.get());
    state_->crc_flag = ISAL_GZIP_NO_HDR_VER;
    tail_size_ = 0;
    in_deflate_ = false;
    header_.clear();
  }

 private:
  // Consumes the header, from `input` alone when it holds all of it (the
  // usual case), else gathered in header_ over calls.
  absl::StatusOr<Step> ReadHeader(absl::string_view input) {
    Step step;
    if (header_.empty()) {
      auto length = GzipHeaderLength(input);
      if (!length.ok()) return length.status();
      in_deflate_ = *length > 0;
      if (!in_deflate_) header_.assign(input.data(), input.size());
      step.consumed = in_deflate_ ? *length : input.size();
      return step;
    }
    constexpr size_t kMaxGather = 64 << 10;
    const size_t before = header_.size();
    const absl::string_view more = input.substr(0, kMaxGather);
    header_.append(more.data(), more.size());
    auto length = GzipHeaderLength(header_);
    if (!length.ok()) return length.status();
    in_deflate_ = *length > 0;
    step.consumed = in_deflate_ ? *length - before : more.size();
    if (in_deflate_) header_.clear();
    return step;
  }

  // ISA-L checks the trailer only once all eight bytes are in; zlib
  // checks the CRC as soon as its four bytes are, so an input cut inside
  // ISIZE is "incorrect data check" there when the CRC is wrong, not
  // "truncated". ISA-L keeps a partial trailer in tmp_in_buffer.
  bool CrcArrivedAndIsWrong() const {
    const inflate_state& s = *state_;
    return s.block_state == ISAL_CHECKSUM_CHECK && s.read_in_length == 0 &&
           s.tmp_in_size >= 4 && s.tmp_in_size < 8 &&
           LittleEndian32(s.tmp_in_buffer) != s.crc;
  }

  // The last eight bytes consumed: the trailer, when a check fails.
  void RememberTail(absl::string_view used) {
    if (used.size() >= sizeof(tail_)) {
      std::memcpy(tail_, used.data() + used.size() - sizeof(tail_),
                  sizeof(tail_));
      tail_size_ = sizeof(tail_);
      return;
    }
    const size_t keep = std::min(tail_size_, sizeof(tail_) - used.size());
    std::memmove(tail_, tail_ + tail_size_ - keep, keep);
    std::memcpy(tail_ + keep, used.data(), used.size());
    tail_size_ = keep + used.size();
  }

  // zlib's words for the same faults, so that messages do not depend on
  // the decoder.
  absl::Status Corrupt(int rc) const {
    const char* why = "invalid deflate data";
    switch (rc) {
      case ISAL_INVALID_BLOCK:
        why = "invalid block";
        break;
      case ISAL_INVALID_SYMBOL:
        why = "invalid code";
        break;
      case ISAL_INVALID_LOOKBACK:
        why = "invalid distance too far back";
        break;
      case ISAL_INVALID_WRAPPER:
        why = "incorrect header check";
        break;
      case ISAL_UNSUPPORTED_METHOD:
        why = "unknown compression method";
        break;
      case ISAL_INCORRECT_CHECKSUM:
        why = ChecksumFault();
        break;
    }
    return absl::InvalidArgumentError(
        absl::StrCat("gzip: corrupt data (", why, ")"));
  }

  // ISA-L reports one code for the header CRC, the data CRC and ISIZE;
  // zlib checks the CRC before the length.
  const char* ChecksumFault() const {
    const inflate_state& s = *state_;
    if (LittleEndian32(tail_) != s.crc) return "incorrect data check";
    return "incorrect length check";
  }

  std::unique_ptr<inflate_state> state_;
  bool in_deflate_ = false;  // past the header
  std::string header_;       // a header split across inputs, so far
  uint8_t tail_[8];
  size_t tail_size_ = 0;
};

}  // namespace

bool IsGzip(absl::string_view data) {
  return data.size() >= 2 && static_cast<uint8_t>(data[0]) == 0x1f &&
         static_cast<uint8_t>(data[1]) == 0x8b;
}

size_t GzipSizeHint(absl::string_view last_four_bytes) {
  if (last_four_bytes.size() != 4) return 0;
  return LittleEndian32(
      reinterpret_cast<const uint8_t*>(last_four_bytes.data()));
}

absl::StatusOr<std::string> Gunzip(absl::string_view gzipped,
                                   size_t max_output_bytes) {
  IsalInflater inflater;
  return GunzipWith(inflater, gzipped, max_output_bytes);
}

absl::StatusOr<std::string> GunzipChunks(ChunkSource next_chunk,
                                         size_t size_hint,
                                         size_t max_output_bytes) {
  IsalInflater inflater;
  return GunzipChunksWith(inflater, next_chunk, size_hint, max_output_bytes);
}

absl::StatusOr<std::string> GunzipWith(GzipInflater& inflater,
                                       absl::string_view gzipped,
                                       size_t max_output_bytes) {
  size_t hint = 0;
  if (gzipped.size() >= 18) {
    // Deflate expands at most ~1032:1, so a trailer claiming more is a lie;
    // never let it make us allocate the whole cap up front.
    hint = std::min(GzipSizeHint(gzipped.substr(gzipped.size() - 4)),
                    gzipped.size() * 1032);
  }
  bool given = false;
  return GunzipChunksWith(
      inflater,
      [&]() -> absl::StatusOr<absl::string_view> {
        if (given) return absl::string_view();
        given = true;
        return gzipped;
      },
      hint, max_output_bytes);
}

absl::StatusOr<std::string> GunzipChunksWith(GzipInflater& inflater,
                                             ChunkSource next_chunk,
                                             size_t size_hint,
                                             size_t max_output_bytes) {
  std::string out;
  // One byte beyond the cap makes exceeding it detectable.
  out.resize(std::min(std::max(size_hint, size_t{64} << 10),
                      max_output_bytes + 1));
  size_t produced = 0;
  size_t consumed_total = 0;
  absl::string_view input;  // the unread rest of the current chunk
  bool at_end = false;      // the source has no more chunks
  bool member_ended = false;
  // The buffer is full and the decoder, given no room, made no progress:
  // it has more to write. Until then a full buffer may only lack the
  // 8-byte trailer, which is read without room; growing first (doubling,
  // with a copy) would briefly hold three times a profile whose size the
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
      // anything else after a member is an error (the decoder checks the
      // rest of the header).
      if (static_cast<uint8_t>(input[0]) != 0x1f) {
        return absl::InvalidArgumentError(
            "gzip: unexpected bytes after the stream");
      }
      inflater.Reset();
      member_ended = false;
    }
    if (produced == out.size() && needs_room) {
      if (out.size() > max_output_bytes) return TooLarge(max_output_bytes);
      out.resize(std::min(out.size() * 2, max_output_bytes + 1));
      needs_room = false;
    }
    const size_t room = std::min(out.size() - produced, kMaxChunk);
    auto step = inflater.Inflate(input.substr(0, kMaxChunk),
                                 out.data() + produced, room);
    if (!step.ok()) return step.status();
    input.remove_prefix(step->consumed);
    consumed_total += step->consumed;
    produced += step->produced;
    if (produced > max_output_bytes) return TooLarge(max_output_bytes);
    member_ended = step->member_ended;
    needs_room = room == 0 && step->consumed == 0 && !member_ended;
    if (member_ended) continue;
    // Output room left, input used up and no more coming: the stream ends
    // before its end.
    if (input.empty() && step->produced < room) {
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
