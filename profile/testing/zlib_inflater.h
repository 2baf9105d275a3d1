// zlib's inflate as a GzipInflater: the reference the fuzzer and
// inflate_test hold ISA-L's decoder (profile/inflate.cc) against. It was
// the production decoder before ISA-L.
#ifndef PPROF_EXPORTER_PROFILE_TESTING_ZLIB_INFLATER_H_
#define PPROF_EXPORTER_PROFILE_TESTING_ZLIB_INFLATER_H_

#include <zlib.h>

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "profile/inflate.h"

namespace profile {

class ZlibInflater final : public GzipInflater {
 public:
  ZlibInflater();
  ~ZlibInflater() override;
  ZlibInflater(const ZlibInflater&) = delete;
  ZlibInflater& operator=(const ZlibInflater&) = delete;

  absl::StatusOr<Step> Inflate(absl::string_view input, char* out,
                               size_t room) override;
  void Reset() override;

 private:
  z_stream stream_{};
};

// What the checks compare when both inflaters reject an input: the status
// code and the message up to the reason ("gzip: corrupt data"). A stream
// that ends inside a block header is one class with corrupt data: zlib
// decodes the header bit by bit and may find it invalid, while ISA-L waits
// for the whole header and reports the stream truncated.
std::string InflateErrorClass(const absl::Status& status);

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_TESTING_ZLIB_INFLATER_H_
