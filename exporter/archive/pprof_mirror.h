// The pprof mirror: the exporter serves the profiles it scraped again, in
// pprof's own protocol (off by default; the flag keeps its first name,
// --web.enable-pprof-reserve, for "re-serve"), so `go tool pprof` can read
// what the exporter fetched without touching the target:
//
//   GET /debug/pprof/<target>/<kind>
//       the latest profile of that target and kind that a scrape fetched
//       and decoded, byte for byte. CPU too: the latest one, at once, never
//       a new profile (a ?seconds= query is ignored).
//   GET /debug/pprof/<target>/<kind>/archive
//       an HTML list of the archived profiles, newest first, with links
//   GET /debug/pprof/<target>/<kind>/archive/<time>.pb.gz
//       one archived profile (only names in the archive's index)
//
// <target> is the target name percent-encoded as one path segment (a '/'
// in a name is %2F). Profiles come as application/octet-stream with
// Content-Disposition: attachment; filename="<kind>.pb.gz" (archived:
// "<kind>-<time>.pb.gz"). Anything else under /debug/pprof/ is 404.
#ifndef PPROF_EXPORTER_EXPORTER_ARCHIVE_PPROF_MIRROR_H_
#define PPROF_EXPORTER_EXPORTER_ARCHIVE_PPROF_MIRROR_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exporter/archive/archive.h"
#include "profile/kind.h"

namespace exporter {

// A fetched profile as the target served it.
struct RawProfile {
  std::string bytes;
  absl::Time fetched;
};

// The latest RawProfile of each target and kind. Thread-safe.
class LatestProfiles {
 public:
  void Put(const std::string& target, profile::Kind kind,
           std::shared_ptr<const RawProfile> profile);
  // Null when there is none.
  std::shared_ptr<const RawProfile> Get(const std::string& target,
                                        profile::Kind kind) const;
  // Drops the entries for which `keep` is false (removed targets).
  void Retain(const std::function<bool(const std::string&, profile::Kind)>&
                  keep);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, profile::Kind>,
           std::shared_ptr<const RawProfile>>
      latest_;  // guarded by mu_
};

struct PprofResponse {
  int status = 404;
  std::string content_type = "text/plain; charset=utf-8";
  // Shared, so a large profile is not copied for each request.
  std::shared_ptr<const std::string> body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct PprofSources {
  // Whether the target and kind are configured now; the latest profile of
  // anything else is 404 (the archive still serves removed targets' files).
  std::function<bool(const std::string&, profile::Kind)> configured;
  const LatestProfiles* latest = nullptr;
  const Archive* archive = nullptr;  // null: no archive configured
};

// Answers a GET of `raw_path`, the request path as sent (still
// percent-encoded, without the query), under /debug/pprof/.
PprofResponse ServePprof(absl::string_view raw_path,
                         const PprofSources& sources);

// The path of the latest profile and of the archive listing for the
// landing page's links.
std::string MirrorPath(absl::string_view target, profile::Kind kind);
std::string ArchiveListPath(absl::string_view target, profile::Kind kind);

// Percent-encodes everything but RFC 3986's unreserved characters.
std::string EscapePathSegment(absl::string_view segment);
// The inverse is PercentDecode (archive.h).

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_ARCHIVE_PPROF_MIRROR_H_
