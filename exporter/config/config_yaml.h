// YAML nodes that remember where they came from, so every error of the
// config file and the web config file reads "file:line: key.path: problem"
// (or "key.path: problem" for values from flags, which have no file).
//
// These helpers only read and type-check single values (string, integer,
// duration, regex) and enforce the map rules that apply at every level:
// keys are scalars, known and unique. Cross-field rules (schedules, label
// names, URLs) belong to the files that parse each section. Nothing here
// throws: yaml-cpp's typed accessors are avoided so a wrong type is an
// error status, not an exception.
#ifndef PPROF_EXPORTER_EXPORTER_CONFIG_CONFIG_YAML_H_
#define PPROF_EXPORTER_EXPORTER_CONFIG_CONFIG_YAML_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "re2/re2.h"
#include "yaml-cpp/yaml.h"

namespace exporter::config_internal {

class ConfigMap;
class ConfigNode;

// Reads a configuration file whole; fails beyond `max_bytes`.
absl::StatusOr<std::string> ReadConfigFile(const std::string& path,
                                           size_t max_bytes = 16 << 20);

// Parses `text` as one YAML document (empty text is a null document) and
// hands its root to `parse`. YAML syntax errors, a second document and any
// yaml-cpp exception become "file:line: ..." errors.
template <typename T, typename Parse>
absl::StatusOr<T> ParseYamlDocument(absl::string_view text,
                                    absl::string_view filename, Parse parse);

class ConfigNode {
 public:
  // The document root. `filename` must outlive every node derived from it;
  // empty for values that did not come from a file.
  ConfigNode(YAML::Node node, absl::string_view filename);

  const std::string& path() const { return path_; }
  int line() const { return line_; }  // 1-based
  absl::string_view filename() const { return filename_; }
  bool IsNull() const { return node_.IsNull(); }

  // "file:line: path: message" as InvalidArgument.
  absl::Status Error(absl::string_view message) const;

  // A child with the same line, for errors about a part of this value that
  // has no YAML node of its own (e.g. the implied cpu entry of a target).
  ConfigNode Virtual(absl::string_view key) const;

  // A mapping whose keys must all be in `known_keys`. A null node (key
  // present, nothing after the colon) reads as an empty map.
  absl::StatusOr<ConfigMap> Map(
      absl::Span<const absl::string_view> known_keys) const;
  // A mapping with arbitrary (still scalar, unique) keys, e.g. labels.
  absl::StatusOr<ConfigMap> FreeFormMap() const;
  // A sequence; null reads as empty.
  absl::StatusOr<std::vector<ConfigNode>> List() const;

  absl::StatusOr<std::string> String() const;
  // true or false (any case), YAML 1.2's booleans.
  absl::StatusOr<bool> Bool() const;
  // A file path; a relative one is made relative to the directory of the
  // file this node came from, as Prometheus and exporter-toolkit do.
  absl::StatusOr<std::string> Path() const;
  // TLS10, TLS11, TLS12 or TLS13 as the protocol's version number (OpenSSL's
  // TLS1_2_VERSION = 0x0303 etc.).
  absl::StatusOr<int> TlsVersion() const;
  // A decimal integer in [at_least, at_most].
  absl::StatusOr<int64_t> Integer(int64_t at_least, int64_t at_most) const;
  // A Prometheus duration (duration.h) greater than zero.
  absl::StatusOr<absl::Duration> PositiveDuration() const;
  // A non-empty RE2 pattern, compiled.
  absl::StatusOr<std::shared_ptr<const RE2>> Regex() const;

 private:
  ConfigNode(YAML::Node node, absl::string_view filename, std::string path,
             int line);
  // "a list", "a map", "nothing" or the quoted scalar, for type errors.
  std::string Describe() const;
  absl::StatusOr<ConfigMap> ReadMap(
      const absl::Span<const absl::string_view>* known_keys) const;

  YAML::Node node_;
  absl::string_view filename_;
  std::string path_;
  int line_;
};

struct ConfigEntry {
  std::string key;
  ConfigNode value;  // its line is the key's line
};

class ConfigMap {
 public:
  explicit ConfigMap(std::vector<ConfigEntry> entries)
      : entries_(std::move(entries)) {}

  // In document order.
  const std::vector<ConfigEntry>& entries() const { return entries_; }
  // nullptr when the key is absent.
  const ConfigNode* Find(absl::string_view key) const;

 private:
  std::vector<ConfigEntry> entries_;
};

// Implementation details of ParseYamlDocument.
absl::StatusOr<YAML::Node> LoadSingleDocument(absl::string_view text,
                                              absl::string_view filename);
absl::Status YamlExceptionStatus(absl::string_view filename,
                                 const YAML::Exception& e);

template <typename T, typename Parse>
absl::StatusOr<T> ParseYamlDocument(absl::string_view text,
                                    absl::string_view filename, Parse parse) {
  absl::StatusOr<YAML::Node> root = LoadSingleDocument(text, filename);
  if (!root.ok()) return root.status();
  try {
    return parse(ConfigNode(*root, filename));
  } catch (const YAML::Exception& e) {
    // The helpers avoid throwing accessors; this is a safety net.
    return YamlExceptionStatus(filename, e);
  }
}

}  // namespace exporter::config_internal

#endif  // PPROF_EXPORTER_EXPORTER_CONFIG_CONFIG_YAML_H_
