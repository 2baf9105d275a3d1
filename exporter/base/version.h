// The exporter's version: build_info, --version, the landing page and the
// User-Agent of every scrape.
#ifndef PPROF_EXPORTER_EXPORTER_BASE_VERSION_H_
#define PPROF_EXPORTER_EXPORTER_BASE_VERSION_H_

namespace exporter {

inline constexpr char kVersion[] = "0.1.0";

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_BASE_VERSION_H_
