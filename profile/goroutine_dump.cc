// The two text forms of a goroutine dump, read line by line; see
// goroutine_dump.h for the grammar. goroutine_dump_reduce.cc reduces them.
#include "profile/goroutine_dump.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace profile {
namespace {

constexpr absl::string_view kCountedHeader = "goroutine profile: total ";
constexpr absl::string_view kTracebackHeader = "goroutine ";

absl::Status Malformed(size_t line_number, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("goroutine dump line ", line_number, ": ", what));
}

// The dump's lines, checked against the line length limit as they come.
class Lines {
 public:
  Lines(absl::string_view text, size_t max_line_bytes)
      : rest_(text), max_line_bytes_(max_line_bytes) {}

  // The next line without its "\n" (or "\r\n"); false at the end.
  absl::StatusOr<bool> Next(absl::string_view* line) {
    if (rest_.empty()) return false;
    const size_t end = rest_.find('\n');
    *line = rest_.substr(0, end);
    rest_.remove_prefix(end == absl::string_view::npos ? rest_.size()
                                                       : end + 1);
    ++number_;
    if (line->size() > max_line_bytes_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "goroutine dump line ", number_, " is ", line->size(),
          " bytes long, over the limit of ", max_line_bytes_));
    }
    absl::ConsumeSuffix(line, "\r");
    return true;
  }
  size_t number() const { return number_; }

 private:
  absl::string_view rest_;
  const size_t max_line_bytes_;
  size_t number_ = 0;
};

// A Go-quoted string ("a\"b") or a bare token ending before any of
// `stops`, consumed from the front of `in`.
std::optional<std::string> ConsumeLabelToken(absl::string_view* in,
                                             absl::string_view stops) {
  if (absl::ConsumePrefix(in, "\"")) {
    size_t end = 0;
    while (end < in->size() && (*in)[end] != '"') {
      end += (*in)[end] == '\\' ? 2 : 1;
    }
    if (end >= in->size()) return std::nullopt;
    std::string unquoted;
    if (!absl::CUnescape(in->substr(0, end), &unquoted)) return std::nullopt;
    in->remove_prefix(end + 1);
    return unquoted;
  }
  const size_t end = in->find_first_of(stops);
  if (end == absl::string_view::npos || end == 0) return std::nullopt;
  std::string bare(absl::StripTrailingAsciiWhitespace(in->substr(0, end)));
  in->remove_prefix(end);
  return bare;
}

// A label set as the runtime prints it: `{"k":"v", "k2":"v2"}` (debug=1,
// strconv.Quote) or `{k: v, k2: "v 2"}` (Go 1.27 tracebacks). Labels are
// extra information, so a set that reads otherwise is ignored (nullopt)
// rather than failing the dump.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseLabels(
    absl::string_view text) {
  if (!absl::ConsumePrefix(&text, "{") || !absl::ConsumeSuffix(&text, "}")) {
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> labels;
  while (!text.empty()) {
    std::optional<std::string> key = ConsumeLabelToken(&text, ":");
    if (!key || !absl::ConsumePrefix(&text, ":")) return std::nullopt;
    text = absl::StripLeadingAsciiWhitespace(text);
    // A bare value runs to the next ", " (or the end).
    std::optional<std::string> value;
    if (absl::StartsWith(text, "\"")) {
      value = ConsumeLabelToken(&text, "");
    } else {
      const size_t end = std::min(text.find(", "), text.size());
      value = std::string(text.substr(0, end));
      text.remove_prefix(end);
    }
    if (!value) return std::nullopt;
    labels.emplace_back(*std::move(key), *std::move(value));
    if (text.empty()) break;
    if (!absl::ConsumePrefix(&text, ",")) return std::nullopt;
    text = absl::StripLeadingAsciiWhitespace(text);
  }
  return labels;
}

// ---- debug=1 ----

// "#\t0x4773ce\tmain.f+0x1e\t/src/main.go:12": tabwriter pads the columns
// with more tabs, so the frame is the non-empty fields. A frame the runtime
// could not name has only its address.
absl::string_view CountedFrameFunction(absl::string_view line) {
  std::vector<absl::string_view> fields =
      absl::StrSplit(line, '\t', absl::SkipWhitespace());
  if (fields.size() < 2) return {};
  if (fields.size() == 2) return fields[1];  // the address
  absl::string_view function = fields[2];
  const size_t offset = function.rfind("+0x");
  if (offset != absl::string_view::npos && offset > 0) {
    function = function.substr(0, offset);
  }
  return function;
}

absl::StatusOr<GoroutineDump> ParseCounted(Lines& lines,
                                           const GoroutineDumpLimits& limits) {
  GoroutineDump dump;
  dump.format = GoroutineDumpFormat::kCounted;
  absl::string_view line;
  if (auto more = lines.Next(&line); !more.ok()) return more.status();
  int64_t declared = 0;
  if (!absl::ConsumePrefix(&line, kCountedHeader) ||
      !absl::SimpleAtoi(line, &declared) || declared < 0) {
    return Malformed(lines.number(),
                     "want \"goroutine profile: total N\" with N >= 0");
  }
  if (declared > limits.max_goroutines) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the goroutine dump has ", declared,
                     " goroutines, over the limit of ", limits.max_goroutines));
  }
  int64_t sum = 0;
  GoroutineStack* record = nullptr;
  while (true) {
    auto more = lines.Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (absl::StripAsciiWhitespace(line).empty()) {
      record = nullptr;
      continue;
    }
    if (line[0] != '#') {
      // "COUNT @ 0x... 0x...": a new record.
      const size_t at = line.find(" @");
      int64_t count = 0;
      if (at == absl::string_view::npos ||
          !absl::SimpleAtoi(line.substr(0, at), &count) || count < 0) {
        return Malformed(lines.number(), "want \"COUNT @ ADDRESS...\"");
      }
      if (count > limits.max_goroutines - sum) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "the goroutine dump's records add up to more than the limit of ",
            limits.max_goroutines, " goroutines"));
      }
      sum += count;
      record = &dump.stacks.emplace_back();
      record->count = count;
      continue;
    }
    if (record == nullptr) {
      return Malformed(lines.number(), "a frame line outside a record");
    }
    if (absl::StartsWith(line, "# labels: ")) {
      if (auto labels = ParseLabels(line.substr(10))) {
        record->labels = *std::move(labels);
      }
      continue;
    }
    const absl::string_view function = CountedFrameFunction(line);
    if (function.empty()) {
      return Malformed(lines.number(), "want \"#\\tADDRESS\\tFUNCTION...\"");
    }
    record->functions.push_back(function);
  }
  if (sum != declared) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the goroutine dump's records add up to ", sum,
        " goroutines but its header says ", declared,
        ": the dump is truncated or altered"));
  }
  return dump;
}

// ---- debug=2 ----

// The state without the flags the runtime appends for the moment.
absl::string_view StripStateFlags(absl::string_view state) {
  for (bool stripped = true; stripped;) {
    stripped = false;
    for (absl::string_view flag : {" (scan)", " (leaked)", " (durable)"}) {
      stripped |= absl::ConsumeSuffix(&state, flag);
    }
  }
  return state;
}

// "goroutine 7 [chan receive, 12 minutes, locked to thread] {k: v}:" into
// `g`; false when the line is not such a header.
bool ParseTracebackHeader(absl::string_view line, GoroutineStack* g) {
  if (!absl::ConsumePrefix(&line, kTracebackHeader) ||
      !absl::ConsumeSuffix(&line, ":")) {
    return false;
  }
  // The id, then (GOTRACEBACK=system) "gp=... m=...", then the bracket.
  const size_t digits = line.find_first_not_of("0123456789");
  const size_t open = line.find(" [");
  if (digits == 0 || open == absl::string_view::npos) return false;
  absl::string_view bracket = line.substr(open + 2);
  absl::string_view labels;
  if (absl::ConsumeSuffix(&bracket, "]")) {
    // Perhaps the labels of an early draft: "[select labels:{...}]".
    const size_t draft = bracket.find("labels:{");
    if (draft != absl::string_view::npos && absl::EndsWith(bracket, "}")) {
      labels = bracket.substr(draft + 7);
      bracket = absl::StripTrailingAsciiWhitespace(bracket.substr(0, draft));
      absl::ConsumeSuffix(&bracket, ",");
    }
  } else {
    // Go 1.27: "[select] {k: v}".
    const size_t close = bracket.find("] {");
    if (close == absl::string_view::npos || !absl::EndsWith(bracket, "}")) {
      return false;
    }
    labels = bracket.substr(close + 2);
    bracket = bracket.substr(0, close);
  }
  std::vector<absl::string_view> fields = absl::StrSplit(bracket, ", ");
  g->state = StripStateFlags(fields[0]);
  if (g->state.empty()) return false;
  for (size_t i = 1; i < fields.size(); ++i) {
    absl::string_view field = fields[i];
    int64_t minutes = 0;
    // Unknown fields ("locked to thread", a future one) are skipped.
    if (absl::ConsumeSuffix(&field, " minutes") &&
        absl::SimpleAtoi(field, &minutes) && minutes >= 0) {
      // No wait is longer than the age of the universe in minutes; the
      // bound keeps minutes * 60 far from overflowing.
      g->wait_minutes = std::min<int64_t>(minutes, int64_t{1} << 40);
    }
  }
  if (!labels.empty()) {
    if (auto parsed = ParseLabels(labels)) g->labels = *std::move(parsed);
  }
  return true;
}

// "main.(*T).run(0xc000010000, {0x1, 0x2})" -> "main.(*T).run": the
// arguments are the last parenthesized group (they hold no parentheses).
absl::string_view TracebackFrameFunction(absl::string_view line) {
  if (absl::EndsWith(line, ")")) {
    const size_t open = line.rfind('(');
    if (open != absl::string_view::npos && open > 0) line = line.substr(0, open);
  }
  return line;
}

absl::StatusOr<GoroutineDump> ParseTraceback(
    Lines& lines, const GoroutineDumpLimits& limits) {
  GoroutineDump dump;
  dump.format = GoroutineDumpFormat::kTraceback;
  GoroutineStack* g = nullptr;
  bool frames_done = false;
  absl::string_view line;
  while (true) {
    auto more = lines.Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (absl::StripAsciiWhitespace(line).empty()) {
      g = nullptr;
      continue;
    }
    if (absl::StartsWith(line, kTracebackHeader)) {
      GoroutineStack header;
      if (ParseTracebackHeader(line, &header)) {
        if (static_cast<int64_t>(dump.stacks.size()) >=
            limits.max_goroutines) {
          return absl::ResourceExhaustedError(
              absl::StrCat("the goroutine dump has more than the limit of ",
                           limits.max_goroutines, " goroutines"));
        }
        g = &dump.stacks.emplace_back(std::move(header));
        frames_done = false;
        continue;
      }
    }
    if (g == nullptr) {
      return Malformed(lines.number(),
                       "want \"goroutine ID [STATE...]:\" or a blank line");
    }
    if (line[0] == '\t' || absl::StartsWith(line, "...")) continue;
    // What created the goroutine, and (GODEBUG=tracebackancestors) the
    // stacks of its ancestors, are not where it is.
    if (absl::StartsWith(line, "created by ") ||
        absl::StartsWith(line, "[originating from goroutine")) {
      frames_done = true;
      continue;
    }
    if (!frames_done) g->functions.push_back(TracebackFrameFunction(line));
  }
  return dump;
}

}  // namespace

std::optional<GoroutineDumpFormat> DetectGoroutineDump(
    absl::string_view head) {
  if (absl::StartsWith(head, kCountedHeader)) {
    return GoroutineDumpFormat::kCounted;
  }
  if (absl::ConsumePrefix(&head, kTracebackHeader) && !head.empty() &&
      absl::ascii_isdigit(static_cast<unsigned char>(head[0]))) {
    return GoroutineDumpFormat::kTraceback;
  }
  return std::nullopt;
}

absl::StatusOr<GoroutineDump> ParseGoroutineDump(
    absl::string_view text, const GoroutineDumpLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("goroutine dump of ", text.size(),
                     " bytes exceeds the limit of ", limits.max_bytes,
                     " bytes"));
  }
  const std::optional<GoroutineDumpFormat> format = DetectGoroutineDump(text);
  if (!format) {
    return absl::InvalidArgumentError(
        "not a goroutine dump: it starts with neither \"goroutine profile: "
        "total\" (debug=1) nor \"goroutine ID [\" (debug=2)");
  }
  Lines lines(text, limits.max_line_bytes);
  return *format == GoroutineDumpFormat::kCounted
             ? ParseCounted(lines, limits)
             : ParseTraceback(lines, limits);
}

}  // namespace profile
