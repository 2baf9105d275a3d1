#include "exporter/reduce_command.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <set>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "exporter/config/config.h"
#include "exporter/config/duration.h"
#include "exporter/config/kinds.h"
#include "exporter/flags.h"
#include "exporter/metrics/metrics.h"
#include "profile/decode.h"
#include "profile/goroutine_dump.h"
#include "profile/reduce.h"

namespace exporter {
namespace {

constexpr char kUsage[] =
    "usage: pprof_exporter reduce [--kind=cpu|heap|allocs|goroutine|mutex|"
    "block] [--target=NAME] [--top=N]\n"
    "    [--services=N | --service-label=KEY | --service-count-regex=RE] "
    "[--gc-regex=RE] [--stuck-after=DURATION] FILE...\n"
    "FILE is a profile.proto (gzipped or not) or a goroutine text dump "
    "(goroutine?debug=1 or ?debug=2).\n";

int Usage(std::ostream& err, absl::string_view problem) {
  err << "pprof_exporter reduce: " << problem << "\n" << kUsage;
  return 2;
}

// The flags of the reduce options, each named after the config key it
// stands for (--gc-regex: gc_regex), so both are checked by the same code.
constexpr absl::string_view kReduceOptionFlags[] = {
    "top", "gc-regex", "services", "service-label", "service-count-regex"};

absl::StatusOr<profile::ReduceOptions> OptionsFromFlags(
    const ParsedFlags& flags) {
  std::vector<std::pair<std::string, std::string>> values;
  for (absl::string_view flag : kReduceOptionFlags) {
    if (auto value = flags.Get(flag)) {
      values.emplace_back(absl::StrReplaceAll(flag, {{"-", "_"}}), *value);
    }
  }
  profile::ReduceOptions options;  // gc_regex null: the reducers' default
  absl::Status status = ApplyReduceOptions(values, options);
  if (!status.ok()) {
    // "gc_regex: bad regex ..." -> "--gc-regex: bad regex ..."
    const absl::string_view message = status.message();
    const size_t key_end = std::min(message.find(':'), message.size());
    return absl::InvalidArgumentError(absl::StrCat(
        "--", absl::StrReplaceAll(message.substr(0, key_end), {{"_", "-"}}),
        message.substr(key_end)));
  }
  return options;
}

// Decodes a file read in chunks, so that a large profile is never held
// both compressed and decompressed.
absl::StatusOr<profile::Profile> DecodeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open file");
  // The gzip trailer's size field sizes the output buffer up front.
  size_t size_hint = 0;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size >= 4) {
    char trailer[4];
    in.seekg(size - 4);
    in.read(trailer, 4);
    size_hint = std::min<size_t>(profile::GzipSizeHint({trailer, 4}),
                                 static_cast<size_t>(size) * 1032);
  }
  in.clear();
  in.seekg(0);
  // Small: it is read into and inflated from at once, and the peak memory
  // of a large profile is its decompressed size plus whatever else is
  // held while it is decoded.
  std::string buffer(64 << 10, '\0');
  return profile::DecodeChunks(
      [&]() -> absl::StatusOr<absl::string_view> {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        if (in.bad()) return absl::DataLossError("read error");
        return absl::string_view(buffer.data(),
                                 static_cast<size_t>(in.gcount()));
      },
      size_hint);
}

// A goroutine text dump (debug=1 or debug=2) reduced, or nullopt when the
// file is not one.
std::optional<absl::StatusOr<profile::Reduction>> ReduceIfTextDump(
    const std::string& path, const profile::ReduceOptions& options,
    absl::Duration stuck_after) {
  std::ifstream in(path, std::ios::binary);
  std::string head(32, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (!profile::DetectGoroutineDump(head)) return std::nullopt;
  in.clear();
  in.seekg(0, std::ios::end);
  const profile::GoroutineDumpLimits limits;
  // One byte over the limit is enough for the parser to refuse it.
  const size_t size = std::min(static_cast<size_t>(in.tellg()),
                               limits.max_bytes + 1);
  std::string text(size, '\0');
  in.seekg(0);
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (!in) return absl::DataLossError("read error");
  return profile::ReduceGoroutineDump(text, options, stuck_after, limits);
}

// Runs task(0) on this thread and the others on threads of their own (or
// here too, when no thread can be started).
void RunOnThreads(size_t n, absl::FunctionRef<void(size_t)> task) {
  std::vector<std::thread> threads;
  threads.reserve(n - 1);
  for (size_t i = 1; i < n; ++i) {
    try {
      threads.emplace_back([task, i] { task(i); });
    } catch (const std::system_error&) {
      task(i);
    }
  }
  task(0);
  for (std::thread& thread : threads) thread.join();
}

// The CPU reducer's pass over the samples is about half of the time
// `reduce` takes on a large profile, so it is split over the cores. A
// shard smaller than this saves less than its thread costs.
profile::SampleParallelism ParallelismFor(const profile::Profile& profile) {
  constexpr size_t kMinShardBytes = size_t{4} << 20;
  constexpr size_t kMaxThreads = 4;
  const size_t cores = std::clamp<size_t>(std::thread::hardware_concurrency(),
                                          1, kMaxThreads);
  profile::SampleParallelism parallelism;
  parallelism.max_shards =
      std::clamp<size_t>(profile.sample_bytes() / kMinShardBytes, 1, cores);
  parallelism.run = RunOnThreads;
  return parallelism;
}

// "heap.pb.gz" -> "heap": the default target label keeps the series of
// several files apart.
std::string TargetFromPath(absl::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash != absl::string_view::npos) path.remove_prefix(slash + 1);
  absl::ConsumeSuffix(&path, ".gz");
  absl::ConsumeSuffix(&path, ".pb");
  absl::ConsumeSuffix(&path, ".pprof");
  absl::ConsumeSuffix(&path, ".txt");
  return std::string(path);
}

// What the files reduced to, and which (target, kind) pairs they were.
struct ReducedFiles {
  struct File {
    profile::Kind kind;
    std::string target;
    profile::Reduction reduction;
  };
  std::vector<File> reductions;
  std::set<std::pair<std::string, profile::Kind>> kinds;

  // An error when `target` has a profile of `kind` already.
  absl::Status CheckNew(profile::Kind kind, const std::string& target) const {
    if (!kinds.contains({target, kind})) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        "a ", profile::KindName(kind),
        " profile was already reduced for target \"", target,
        "\"; give each file its own --target"));
  }
  absl::Status Add(profile::Kind kind, const std::string& target,
                   profile::Reduction reduction) {
    if (absl::Status s = CheckNew(kind, target); !s.ok()) return s;
    kinds.insert({target, kind});
    reductions.push_back({kind, target, std::move(reduction)});
    return absl::OkStatus();
  }
};

// The kind of a decoded file: `kind` if given, else its sample types say.
// FailedPrecondition when they cannot tell (mutex or block).
absl::StatusOr<profile::Kind> KindOfFile(std::optional<profile::Kind> kind,
                                         const profile::Profile& decoded) {
  if (kind) return *kind;
  absl::StatusOr<profile::Kind> guessed = profile::GuessKind(decoded);
  if (guessed.ok() || !absl::IsFailedPrecondition(guessed.status())) {
    return guessed;
  }
  // Decode() leaves the samples to the reducer's pass over them; a
  // malformed one is the file's error whatever its kind, and no --kind
  // would help.
  if (auto s = decoded.ForEachSample([](const profile::SampleRef&) {});
      !s.ok()) {
    return absl::InvalidArgumentError(s.message());
  }
  return absl::FailedPreconditionError(absl::StrCat(
      guessed.status().message(), " (pass --kind=mutex or --kind=block)"));
}

// Reduces one file (a profile or a goroutine text dump) into `files`.
absl::Status ReduceFile(const std::string& path, const std::string& target,
                        std::optional<profile::Kind> kind,
                        const profile::ReduceOptions& options,
                        absl::Duration stuck_after, ReducedFiles& files) {
  if (auto dump = ReduceIfTextDump(path, options, stuck_after)) {
    if (kind && *kind != profile::Kind::kGoroutine) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a goroutine text dump, not a ", profile::KindName(*kind),
          " profile"));
    }
    if (!dump->ok()) return dump->status();
    return files.Add(profile::Kind::kGoroutine, target, **std::move(dump));
  }
  auto decoded = DecodeFile(path);
  if (!decoded.ok()) return decoded.status();
  absl::StatusOr<profile::Kind> file_kind = KindOfFile(kind, *decoded);
  if (!file_kind.ok()) return file_kind.status();
  if (absl::Status s = files.CheckNew(*file_kind, target); !s.ok()) return s;
  auto reduction = profile::Reduce(*file_kind, *decoded, options,
                                   /*previous=*/nullptr,
                                   ParallelismFor(*decoded));
  if (!reduction.ok()) return reduction.status();
  return files.Add(*file_kind, target, *std::move(reduction));
}

}  // namespace

int RunReduce(const std::vector<std::string>& args, std::ostream& out,
              std::ostream& err) {
  auto flags = ParseFlags(args, {{"kind"},
                                 {"target"},
                                 {"top"},
                                 {"services"},
                                 {"service-label"},
                                 {"service-count-regex"},
                                 {"gc-regex"},
                                 {"stuck-after"}});
  if (!flags.ok()) return Usage(err, flags.status().message());
  if (flags->positional.empty()) return Usage(err, "no profile files given");
  std::optional<profile::Kind> kind;
  if (auto name = flags->Get("kind")) {
    kind = profile::ParseKind(*name);
    if (!kind) return Usage(err, absl::StrCat("unknown --kind=", *name));
  }
  auto options = OptionsFromFlags(*flags);
  if (!options.ok()) return Usage(err, options.status().message());
  absl::Duration stuck_after = absl::Minutes(10);
  if (auto text = flags->Get("stuck-after")) {
    auto parsed = ParsePromDuration(*text);
    if (!parsed.ok()) {
      return Usage(err, absl::StrCat("--stuck-after: ", parsed.status().message()));
    }
    stuck_after = *parsed;
  }

  ReducedFiles files;
  int exit_code = 0;
  for (const std::string& path : flags->positional) {
    const std::string target =
        flags->Get("target").value_or(TargetFromPath(path));
    const absl::Status status =
        ReduceFile(path, target, kind, *options, stuck_after, files);
    if (!status.ok()) {
      err << path << ": " << status.message() << "\n";
      // 2: the kind must be given (mutex or block); 1: a bad file.
      exit_code = std::max(exit_code, absl::IsFailedPrecondition(status) ? 2 : 1);
    }
  }
  FamilyBuilder families;
  for (const auto& [file_kind, target, reduction] : files.reductions) {
    const std::optional<profile::Kind> totals_from =
        SpecOf(file_kind).totals_from;
    AddReduction(file_kind, reduction, {{"target", target}}, &families,
                 totals_from && files.kinds.contains({target, *totals_from}));
  }
  out << SerializeText(std::move(families).Build());
  return exit_code;
}

}  // namespace exporter
