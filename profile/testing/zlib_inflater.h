// zlib's inflate as a GzipInflater: the reference the fuzzer and
// inflate_test hold ISA-L's decoder (profile/inflate.cc) against. It was
// the production decoder before ISA-L.
#ifndef PPROF_EXPORTER_PROFILE_TESTING_ZLIB_INFLATER_H_
#define PPROF_EXPORTER_PROFILE_TESTING_ZLIB_INFLATER_H_

#include <zlib.h>

#include <cstddef>

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

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_TESTING_ZLIB_INFLATER_H_
