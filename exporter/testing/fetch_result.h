// What the fetch tests ask of a FetchResult, also when it succeeded.
#ifndef PPROF_EXPORTER_EXPORTER_TESTING_FETCH_RESULT_H_
#define PPROF_EXPORTER_EXPORTER_TESTING_FETCH_RESULT_H_

#include <optional>
#include <string>

#include "exporter/net/fetch.h"

namespace exporter::testing {

inline std::optional<FailureReason> Reason(const FetchResult& r) {
  if (!r.failure) return std::nullopt;
  return r.failure->reason;
}

// The failure's message; "" on success.
inline std::string Message(const FetchResult& r) {
  return r.failure ? r.failure->message : "";
}

}  // namespace exporter::testing

#endif  // PPROF_EXPORTER_EXPORTER_TESTING_FETCH_RESULT_H_
