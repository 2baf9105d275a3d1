#include "exporter/archive/pprof_mirror.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "exporter/base/html.h"

namespace exporter {
namespace {

constexpr absl::string_view kPrefix = "/debug/pprof/";

std::shared_ptr<const std::string> Text(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

PprofResponse NotFound(absl::string_view why) {
  PprofResponse response;
  response.status = 404;
  response.body = Text(absl::StrCat(why, "\n"));
  return response;
}

PprofResponse Profile(std::shared_ptr<const std::string> bytes,
                      absl::string_view filename, absl::Time fetched) {
  PprofResponse response;
  response.status = 200;
  response.content_type = "application/octet-stream";
  response.body = std::move(bytes);
  response.headers.emplace_back(
      "Content-Disposition",
      absl::StrCat("attachment; filename=\"", filename, "\""));
  response.headers.emplace_back(
      "Last-Modified", absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", fetched,
                                        absl::UTCTimeZone()));
  // Like Go's net/http/pprof: never cached by a proxy in between.
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

PprofResponse ArchiveList(const std::string& target, profile::Kind kind,
                          const Archive& archive) {
  const std::vector<ArchivedProfile> files = archive.List(target, kind);
  if (files.empty()) {
    return NotFound("no archived profiles of this target and kind");
  }
  const std::string base = ArchiveListPath(target, kind);
  const std::string title =
      HtmlEscape(absl::StrCat(target, " ", profile::KindName(kind), " archive"));
  std::string html = absl::StrCat(
      "<!DOCTYPE html><html><head><meta charset=utf-8><title>", title,
      "</title></head><body><h1>", title, "</h1><p>", files.size(),
      " profiles, newest first. Compare two with <code>go tool pprof -base "
      "OLDER_URL NEWER_URL</code>.</p><ul>\n");
  for (const ArchivedProfile& f : files) {
    absl::StrAppend(&html, "<li><a href=\"", base, "/", f.file_name, "\">",
                    f.file_name, "</a> ", f.bytes, " bytes</li>\n");
  }
  absl::StrAppend(&html, "</ul></body></html>\n");
  PprofResponse response;
  response.status = 200;
  response.content_type = "text/html; charset=utf-8";
  response.body = Text(std::move(html));
  return response;
}

}  // namespace

void LatestProfiles::Put(const std::string& target, profile::Kind kind,
                         std::shared_ptr<const RawProfile> profile) {
  std::lock_guard<std::mutex> lock(mu_);
  latest_[{target, kind}] = std::move(profile);
}

std::shared_ptr<const RawProfile> LatestProfiles::Get(
    const std::string& target, profile::Kind kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = latest_.find({target, kind});
  return it == latest_.end() ? nullptr : it->second;
}

void LatestProfiles::Retain(
    const std::function<bool(const std::string&, profile::Kind)>& keep) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = latest_.begin(); it != latest_.end();) {
    it = keep(it->first.first, it->first.second) ? std::next(it)
                                                 : latest_.erase(it);
  }
}

size_t LatestProfiles::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_.size();
}

std::string EscapePathSegment(absl::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : segment) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      absl::StrAppend(&out, "%", std::string(1, kHex[byte >> 4]),
                      std::string(1, kHex[byte & 15]));
    }
  }
  return out;
}

std::string MirrorPath(absl::string_view target, profile::Kind kind) {
  return absl::StrCat(kPrefix, EscapePathSegment(target), "/",
                      profile::KindName(kind));
}

std::string ArchiveListPath(absl::string_view target, profile::Kind kind) {
  return absl::StrCat(MirrorPath(target, kind), "/archive");
}

PprofResponse ServePprof(absl::string_view raw_path,
                         const PprofSources& sources) {
  if (!absl::ConsumePrefix(&raw_path, kPrefix)) return NotFound("not found");
  const std::vector<absl::string_view> parts = absl::StrSplit(raw_path, '/');
  if (parts.size() < 2 || parts.size() > 4) return NotFound("not found");
  const std::optional<std::string> target = PercentDecode(parts[0]);
  const std::optional<profile::Kind> kind = profile::ParseKind(parts[1]);
  if (!target.has_value() || target->empty() || !kind.has_value()) {
    return NotFound("unknown target or profile kind");
  }
  if (parts.size() == 2) {
    std::shared_ptr<const RawProfile> latest;
    if (sources.latest != nullptr &&
        (!sources.configured || sources.configured(*target, *kind))) {
      latest = sources.latest->Get(*target, *kind);
    }
    if (latest == nullptr) {
      return NotFound("no profile of this target and kind has been scraped");
    }
    // Aliasing: shares ownership of the RawProfile, points at its bytes.
    std::shared_ptr<const std::string> bytes(latest, &latest->bytes);
    return Profile(std::move(bytes),
                   absl::StrCat(profile::KindName(*kind), ".pb.gz"),
                   latest->fetched);
  }
  if (parts[2] != "archive") return NotFound("not found");
  if (sources.archive == nullptr) {
    return NotFound("no profile archive is configured");
  }
  if (parts.size() == 3 || parts[3].empty()) {
    return ArchiveList(*target, *kind, *sources.archive);
  }
  const std::optional<int64_t> millis = ParseArchiveFileName(parts[3]);
  if (!millis.has_value()) return NotFound("no such archived profile");
  absl::StatusOr<std::string> bytes =
      sources.archive->Read(*target, *kind, parts[3]);
  if (!bytes.ok()) {
    if (absl::IsNotFound(bytes.status())) {
      return NotFound("no such archived profile");
    }
    PprofResponse response;
    response.status = 500;
    response.body = Text(absl::StrCat(bytes.status().message(), "\n"));
    return response;
  }
  return Profile(std::make_shared<const std::string>(*std::move(bytes)),
                 absl::StrCat(profile::KindName(*kind), "-", parts[3]),
                 absl::FromUnixMillis(*millis));
}

}  // namespace exporter
