#include "exporter/config/config_yaml.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "exporter/config/duration.h"

namespace exporter::config_internal {

absl::StatusOr<std::string> ReadConfigFile(const std::string& path,
                                           size_t max_bytes) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  }
  std::string contents;
  char buffer[64 * 1024];
  while (file.read(buffer, sizeof buffer) || file.gcount() > 0) {
    contents.append(buffer, static_cast<size_t>(file.gcount()));
    if (contents.size() > max_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("%s: larger than %d bytes", path, max_bytes));
    }
  }
  if (file.bad()) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path));
  }
  return contents;
}

absl::StatusOr<YAML::Node> LoadSingleDocument(absl::string_view text,
                                              absl::string_view filename) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s:%d: YAML syntax error: %s", filename, e.mark.line + 1, e.msg));
  }
  if (documents.size() > 1) {
    return ConfigNode(documents[1], filename)
        .Error("only one YAML document is allowed");
  }
  return documents.empty() ? YAML::Node(YAML::NodeType::Null) : documents[0];
}

absl::Status YamlExceptionStatus(absl::string_view filename,
                                 const YAML::Exception& e) {
  return absl::InvalidArgumentError(
      absl::StrFormat("%s:%d: %s", filename, e.mark.line + 1, e.msg));
}
namespace {

// yaml-cpp lines are 0-based and missing for nodes it synthesised (-1).
int LineOf(const YAML::Node& node, int fallback) {
  const int line = node.Mark().line;
  return line < 0 ? fallback : line + 1;
}

std::string ChildPath(absl::string_view parent, absl::string_view key) {
  // An empty key would vanish from the path; show it.
  if (key.empty()) key = "\"\"";
  return parent.empty() ? std::string(key) : absl::StrCat(parent, ".", key);
}

}  // namespace

ConfigNode::ConfigNode(YAML::Node node, absl::string_view filename)
    : ConfigNode(node, filename, "", LineOf(node, 1)) {}

ConfigNode::ConfigNode(YAML::Node node, absl::string_view filename,
                       std::string path, int line)
    : node_(std::move(node)),
      filename_(filename),
      path_(std::move(path)),
      line_(line) {}

absl::Status ConfigNode::Error(absl::string_view message) const {
  if (filename_.empty()) {  // values that came from flags, not a file
    return absl::InvalidArgumentError(
        path_.empty() ? std::string(message)
                      : absl::StrCat(path_, ": ", message));
  }
  if (path_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s:%d: %s", filename_, line_, message));
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("%s:%d: %s: %s", filename_, line_, path_, message));
}

ConfigNode ConfigNode::Virtual(absl::string_view key) const {
  return ConfigNode(YAML::Node(YAML::NodeType::Null), filename_,
                    ChildPath(path_, key), line_);
}

std::string ConfigNode::Describe() const {
  switch (node_.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return absl::StrFormat("\"%s\"", absl::CEscape(node_.Scalar()));
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

absl::StatusOr<ConfigMap> ConfigNode::Map(
    absl::Span<const absl::string_view> known_keys) const {
  return ReadMap(&known_keys);
}

absl::StatusOr<ConfigMap> ConfigNode::FreeFormMap() const {
  return ReadMap(nullptr);
}

absl::StatusOr<ConfigMap> ConfigNode::ReadMap(
    const absl::Span<const absl::string_view>* known_keys) const {
  std::vector<ConfigEntry> entries;
  if (node_.IsNull()) return ConfigMap(std::move(entries));
  if (!node_.IsMap()) {
    return Error(absl::StrCat("expected a map, got ", Describe()));
  }

  // yaml-cpp keeps repeated keys; the later one would otherwise win unseen.
  absl::flat_hash_map<std::string, int> first_line_of_key;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const int key_line = LineOf(it->first, line_);
    if (!it->first.IsScalar()) {
      return ConfigNode(it->first, filename_, path_, key_line)
          .Error("map keys must be plain strings");
    }
    const std::string& key = it->first.Scalar();
    ConfigNode value(it->second, filename_, ChildPath(path_, key), key_line);
    if (known_keys != nullptr &&
        std::find(known_keys->begin(), known_keys->end(), key) ==
            known_keys->end()) {
      return value.Error(absl::StrCat("unknown key; expected one of ",
                                      absl::StrJoin(*known_keys, ", ")));
    }
    const auto [previous, inserted] = first_line_of_key.emplace(key, key_line);
    if (!inserted) {
      return value.Error(
          absl::StrCat("duplicate key (first at line ", previous->second, ")"));
    }
    entries.push_back(ConfigEntry{key, std::move(value)});
  }
  return ConfigMap(std::move(entries));
}

absl::StatusOr<std::vector<ConfigNode>> ConfigNode::List() const {
  std::vector<ConfigNode> items;
  if (node_.IsNull()) return items;
  if (!node_.IsSequence()) {
    return Error(absl::StrCat("expected a list, got ", Describe()));
  }
  for (size_t i = 0; i < node_.size(); ++i) {
    const YAML::Node item = node_[i];
    items.push_back(ConfigNode(item, filename_,
                               absl::StrCat(path_, "[", i, "]"),
                               LineOf(item, line_)));
  }
  return items;
}

absl::StatusOr<std::string> ConfigNode::String() const {
  if (!node_.IsScalar()) {
    return Error(absl::StrCat("expected a string, got ", Describe()));
  }
  return node_.Scalar();
}

absl::StatusOr<bool> ConfigNode::Bool() const {
  if (node_.IsScalar()) {
    const std::string lower = absl::AsciiStrToLower(node_.Scalar());
    if (lower == "true") return true;
    if (lower == "false") return false;
  }
  return Error(absl::StrCat("expected true or false, got ", Describe()));
}

absl::StatusOr<std::string> ConfigNode::Path() const {
  absl::StatusOr<std::string> path = String();
  if (!path.ok()) return path.status();
  if (path->empty()) return Error("must not be empty");
  if ((*path)[0] == '/') return path;
  const size_t slash = filename_.rfind('/');
  if (slash == absl::string_view::npos) return path;
  return absl::StrCat(filename_.substr(0, slash + 1), *path);
}

absl::StatusOr<int> ConfigNode::TlsVersion() const {
  if (node_.IsScalar()) {
    const std::string& name = node_.Scalar();
    if (name == "TLS10") return 0x0301;
    if (name == "TLS11") return 0x0302;
    if (name == "TLS12") return 0x0303;
    if (name == "TLS13") return 0x0304;
  }
  return Error(absl::StrCat("expected one of TLS10, TLS11, TLS12, TLS13, got ",
                            Describe()));
}

absl::StatusOr<int64_t> ConfigNode::Integer(int64_t at_least,
                                            int64_t at_most) const {
  int64_t value = 0;
  // SimpleAtoi alone would accept surrounding spaces and a '+'; YAML has
  // already trimmed plain scalars, so require plain digits with an optional
  // minus (reported by the range check below, which reads better).
  const bool plain =
      node_.IsScalar() && !node_.Scalar().empty() &&
      absl::ascii_isdigit(node_.Scalar().back()) &&
      node_.Scalar().find_first_not_of("-0123456789") == std::string::npos;
  if (!plain || !absl::SimpleAtoi(node_.Scalar(), &value)) {
    return Error(absl::StrCat("expected an integer, got ", Describe()));
  }
  if (value < at_least) {
    return Error(absl::StrCat("must be at least ", at_least, ", got ", value));
  }
  if (value > at_most) {
    return Error(absl::StrCat("must be at most ", at_most, ", got ", value));
  }
  return value;
}

absl::StatusOr<absl::Duration> ConfigNode::PositiveDuration() const {
  if (!node_.IsScalar()) {
    return Error(
        absl::StrCat("expected a duration like 30s, got ", Describe()));
  }
  absl::StatusOr<absl::Duration> duration = ParsePromDuration(node_.Scalar());
  if (!duration.ok()) return Error(duration.status().message());
  if (*duration <= absl::ZeroDuration()) {
    return Error(absl::StrCat("must be greater than 0, got ", node_.Scalar()));
  }
  return *duration;
}

absl::StatusOr<std::shared_ptr<const RE2>> ConfigNode::Regex() const {
  absl::StatusOr<std::string> pattern = String();
  if (!pattern.ok()) return pattern.status();
  // An empty pattern matches every function name, which is never intended.
  if (pattern->empty()) return Error("regex must not be empty");
  auto regex = std::make_shared<const RE2>(*pattern, RE2::Quiet);
  if (!regex->ok()) {
    return Error(absl::StrFormat("bad regex \"%s\": %s",
                                 absl::CEscape(*pattern), regex->error()));
  }
  return regex;
}

const ConfigNode* ConfigMap::Find(absl::string_view key) const {
  for (const ConfigEntry& entry : entries_) {
    if (entry.key == key) return &entry.value;
  }
  return nullptr;
}

}  // namespace exporter::config_internal
