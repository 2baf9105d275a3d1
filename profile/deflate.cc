#include "profile/deflate.h"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>

namespace profile {

std::string Gzip(absl::string_view data, int level) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    // Only a bad level or no memory for zlib's ~256 KiB of state get here.
    std::cerr << "Gzip: deflateInit2 failed\n";
    std::abort();
  }
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  // avail_in/avail_out are 32-bit: feed at most 1 GiB at a time.
  constexpr size_t kChunk = size_t{1} << 30;
  size_t in_left = data.size(), out_left = out.size();
  int rc = Z_OK;
  while (rc == Z_OK) {
    const size_t in_now = std::min(in_left, kChunk);
    const size_t out_now = std::min(out_left, kChunk);
    z.avail_in = static_cast<uInt>(in_now);
    z.avail_out = static_cast<uInt>(out_now);
    rc = deflate(&z, in_now == in_left ? Z_FINISH : Z_NO_FLUSH);
    const size_t consumed = in_now - z.avail_in;
    const size_t produced = out_now - z.avail_out;
    in_left -= consumed;
    out_left -= produced;
    // Z_BUF_ERROR only means "no progress this call"; retry while there is.
    if (rc == Z_BUF_ERROR && (consumed > 0 || produced > 0)) rc = Z_OK;
  }
  // deflateBound is an upper bound, so the output always fits.
  if (rc != Z_STREAM_END) {
    std::cerr << "Gzip: deflate failed: " << rc << "\n";
    std::abort();
  }
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace profile
