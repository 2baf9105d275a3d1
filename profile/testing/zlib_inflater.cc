#include "profile/testing/zlib_inflater.h"

#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace profile {

ZlibInflater::ZlibInflater() {
  // 16 + MAX_WBITS: expect a gzip header and trailer, and check the CRC.
  if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) std::abort();
}

ZlibInflater::~ZlibInflater() { inflateEnd(&stream_); }

void ZlibInflater::Reset() { inflateReset(&stream_); }

absl::StatusOr<GzipInflater::Step> ZlibInflater::Inflate(
    absl::string_view input, char* out, size_t room) {
  stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream_.avail_in = static_cast<uInt>(input.size());
  stream_.next_out = reinterpret_cast<Bytef*>(out);
  stream_.avail_out = static_cast<uInt>(room);
  const int rc = inflate(&stream_, Z_NO_FLUSH);
  Step step;
  step.consumed = input.size() - stream_.avail_in;
  step.produced = room - stream_.avail_out;
  step.member_ended = rc == Z_STREAM_END;
  if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) {
    return absl::InvalidArgumentError(absl::StrCat(
        "gzip: corrupt data (", stream_.msg ? stream_.msg : "zlib error",
        ")"));
  }
  return step;
}

std::string InflateErrorClass(const absl::Status& status) {
  absl::string_view message = status.message();
  if (absl::StartsWith(message, "gzip: truncated stream")) {
    message = "gzip: corrupt data";
  }
  return absl::StrCat(absl::StatusCodeToString(status.code()), ": ",
                      message.substr(0, message.find(" (")));
}

}  // namespace profile
