// Command-line flags in the Prometheus exporter style: `--name=value` or
// `--name value`, with dotted names such as --web.listen-address. abseil's
// flags library cannot declare dotted names, hence this small parser.
#ifndef PPROF_EXPORTER_EXPORTER_FLAGS_H_
#define PPROF_EXPORTER_EXPORTER_FLAGS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace exporter {

struct FlagSpec {
  std::string name;  // without the leading "--"
  bool takes_value = true;
  bool repeatable = false;
};

struct ParsedFlags {
  std::map<std::string, std::vector<std::string>> values;
  std::vector<std::string> positional;

  bool Has(absl::string_view name) const;
  // The last value given for a flag, if any.
  std::optional<std::string> Get(absl::string_view name) const;
  std::vector<std::string> GetAll(absl::string_view name) const;
};

// Fails with InvalidArgument on an unknown flag, a missing value, a value
// given to a boolean flag, or a non-repeatable flag given twice. "--" ends
// the flags.
absl::StatusOr<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                                       const std::vector<FlagSpec>& specs);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_FLAGS_H_
