// libFuzzer target for everything a scraped body goes through: Decode (and
// DecodeChunks, which must agree with it), GuessKind, and every reducer under
// three ReduceOptions. Built with clang, libFuzzer, ASan and UBSan by
// `--config=fuzz`; run it with profile/fuzz/run_fuzzer.sh.
//
// Besides what the sanitizers catch (and _GLIBCXX_ASSERTIONS, which the fuzz
// config turns on, for out-of-range vector indices), it aborts when a decoded
// Profile breaks the invariants profile.h promises the reducers, when a
// reduction is impossible (a top list longer than asked for, a share of the
// total above 1), when a profile with a malformed sample reduces, or when
// the fast sample reader (sample_reader.h) accepts a Sample message and
// reads it otherwise than ParseSample (wire.h), the definitive reader, or
// when the CPU reducer's pass split in two shards reduces otherwise than
// the whole pass, or when ISA-L's inflate (profile/inflate.cc) and zlib's
// (profile/testing/zlib_inflater.h) do not give the same bytes or the same
// error (code and message up to zlib's reason in parentheses).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "profile/decode.h"
#include "profile/inflate.h"
#include "profile/kind.h"
#include "profile/options.h"
#include "profile/profile.h"
#include "profile/profile.pb.h"
#include "profile/reduce.h"
#include "profile/sample_reader.h"
#include "profile/testing/zlib_inflater.h"
#include "profile/wire.h"
#include "re2/re2.h"

namespace {

using ::profile::ContentionReduction;
using ::profile::CpuReduction;
using ::profile::FunctionShare;
using ::profile::GoroutineReduction;
using ::profile::HeapReduction;
using ::profile::Profile;
using ::profile::ReduceOptions;
using ::profile::ServiceCounting;

constexpr int kTop = 10;

// Small enough that a gzip bomb or a huge length cannot make the fuzzer run
// out of memory (-rss_limit_mb=2048), big enough for every fixture.
profile::DecodeLimits Limits() {
  profile::DecodeLimits limits;
  limits.max_compressed_bytes = size_t{4} << 20;
  limits.max_decompressed_bytes = size_t{4} << 20;
  return limits;
}

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "decode_reduce_fuzzer: %s\n", what);
  std::abort();
}

void Check(bool condition, const char* what) {
  if (!condition) Fail(what);
}

struct AllOptions {
  ReduceOptions top;       // static service count
  ReduceOptions by_label;  // services = values of the "service" label
  ReduceOptions by_regex;  // services = stacks through a supervisor
};

const AllOptions& Options() {
  static const AllOptions* const options = [] {
    auto* o = new AllOptions;
    o->top.top = kTop;
    o->by_label.top = kTop;
    o->by_label.services.method = ServiceCounting::Method::kLabel;
    o->by_label.services.label = "service";
    o->by_regex.top = kTop;
    o->by_regex.services.method = ServiceCounting::Method::kRegex;
    o->by_regex.services.regex =
        std::make_shared<const RE2>(R"(^main\.\(\*service\)\.supervise$)");
    Check(o->by_regex.services.regex->ok(), "service regex does not compile");
    return o;
  }();
  return *options;
}

// What profile.h promises every reducer. Returns whether the samples are
// well-formed.
bool CheckModel(const Profile& p) {
  const size_t num_types = p.sample_types.size();
  Check(num_types > 0, "a decoded profile without sample types");
  Check(p.default_sample_index >= 0 &&
            static_cast<size_t>(p.default_sample_index) < num_types,
        "default_sample_index out of range");
  Check(!p.location_begin.empty(), "location_begin is empty");
  Check(p.location_begin.front() == 0, "location_begin does not start at 0");
  Check(p.location_begin.back() == p.location_frames.size(),
        "location_begin does not end at location_frames.size()");
  for (size_t l = 1; l < p.location_begin.size(); ++l) {
    Check(p.location_begin[l - 1] <= p.location_begin[l],
          "location_begin decreases");
  }
  for (uint32_t frame : p.location_frames) {
    Check(frame < p.frame_names.size(), "frame id beyond frame_names");
  }
  size_t visited = 0;
  const absl::Status status = p.ForEachSample([&](const profile::SampleRef& s) {
    ++visited;
    Check(s.values.size() == num_types, "sample values != sample types");
    for (uint32_t loc : s.locations) {
      Check(loc < p.num_locations(), "sample location beyond the table");
    }
    for (const profile::Label& label : s.labels) {
      // Profile::string() indexes a vector; _GLIBCXX_ASSERTIONS checks it.
      (void)p.string(label.key);
      (void)p.string(label.value);
    }
  });
  if (!status.ok()) {
    Check(status.code() == absl::StatusCode::kInvalidArgument,
          "ForEachSample failed with a code other than InvalidArgument");
    Check(visited < p.num_samples(), "ForEachSample failed after the end");
    return false;
  }
  Check(visited == p.num_samples(), "ForEachSample missed samples");
  return true;
}

// If the fast reader accepts `message`, ParseSample must read the same.
// Location ids map to themselves (those beyond int are unknown).
void CheckSampleReaders(absl::string_view message, const char* readable_end) {
  std::vector<uint32_t> locations;
  std::vector<int64_t> values;
  std::vector<int64_t> label_strings;
  auto resolve = [](uint64_t id) {
    return id <= 0x7fffffff ? static_cast<int>(id) : -1;
  };
  if (!profile::wire::ReadPlainSample(message, readable_end, resolve,
                                      &locations, &values, &label_strings)) {
    return;
  }
  profile::wire::Sample sample;
  Check(profile::wire::ParseSample(message, &sample).ok(),
        "ReadPlainSample accepted a Sample that ParseSample rejects");
  Check(std::equal(locations.begin(), locations.end(),
                   sample.location_ids.begin(), sample.location_ids.end()),
        "ReadPlainSample and ParseSample read different location ids");
  Check(values == sample.values,
        "ReadPlainSample and ParseSample read different values");
  Check(label_strings == sample.label_strings,
        "ReadPlainSample and ParseSample read different labels");
}

// The input as one Sample message (also with bytes readable beyond it,
// which the fast reader's 8-byte loads use), and every Sample message of
// the input as an uncompressed profile.
void CheckSampleReadersOn(absl::string_view bytes) {
  const char* const end = bytes.data() + bytes.size();
  CheckSampleReaders(bytes, end);
  if (bytes.size() > 8) {
    CheckSampleReaders(bytes.substr(0, bytes.size() - 8), end);
  }
  profile::wire::Profile wire;
  if (!profile::wire::ParseProfile(bytes, size_t{1} << 20, &wire).ok()) {
    return;
  }
  profile::wire::ForEachMessage(
      bytes, wire.samples, perftools::profiles::Profile::kSampleFieldNumber,
      [&](absl::string_view message) {
        CheckSampleReaders(message, end);
        return true;
      });
}

void CheckTop(const std::vector<FunctionShare>& top) {
  Check(top.size() <= kTop, "top list longer than options.top");
  for (const FunctionShare& f : top) {
    // |flat| and |cum| never exceed the sum of |value|.
    Check(!std::isnan(f.flat_ratio) && std::fabs(f.flat_ratio) <= 1,
          "flat_ratio outside [-1, 1]");
    Check(!std::isnan(f.cum_ratio) && std::fabs(f.cum_ratio) <= 1,
          "cum_ratio outside [-1, 1]");
  }
}

void CheckReduction(const profile::Reduction& r) {
  if (const auto* cpu = std::get_if<CpuReduction>(&r)) {
    CheckTop(cpu->top_flat);
    CheckTop(cpu->top_cum);
  } else if (const auto* heap = std::get_if<HeapReduction>(&r)) {
    CheckTop(heap->top_flat);
    CheckTop(heap->top_cum);
  } else if (const auto* g = std::get_if<GoroutineReduction>(&r)) {
    // Not services >= 0: hostile sample values may be negative.
    Check(g->by_function.size() <= kTop, "by_function longer than top");
  } else if (const auto* c = std::get_if<ContentionReduction>(&r)) {
    CheckTop(c->top_flat);
    CheckTop(c->top_cum);
  } else if (const auto* l = std::get_if<profile::GoroutineLeakReduction>(&r)) {
    Check(l->by_function.size() <= kTop, "leak by_function longer than top");
  }
}

bool SameTop(const std::vector<FunctionShare>& a,
             const std::vector<FunctionShare>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].function != b[i].function || a[i].flat != b[i].flat ||
        a[i].cum != b[i].cum || a[i].flat_ratio != b[i].flat_ratio ||
        a[i].cum_ratio != b[i].cum_ratio) {
      return false;
    }
  }
  return true;
}

// The CPU reducer's pass split in two shards, as `reduce` splits a large
// profile over threads, must give exactly what the whole pass gives: the
// same numbers, or the same error.
void CheckShardedCpu(const Profile& p, const ReduceOptions& options,
                     const absl::StatusOr<profile::Reduction>& whole) {
  profile::SampleParallelism two_shards;
  two_shards.max_shards = 2;
  const absl::StatusOr<profile::Reduction> split = profile::Reduce(
      profile::Kind::kCpu, p, options, /*previous=*/nullptr, two_shards);
  Check(whole.status() == split.status(),
        "the CPU reducer fails otherwise in two shards");
  if (!whole.ok()) return;
  const auto& a = std::get<CpuReduction>(*whole);
  const auto& b = std::get<CpuReduction>(*split);
  Check(a.sampled_seconds == b.sampled_seconds &&
            a.duration_seconds == b.duration_seconds &&
            a.gc_value == b.gc_value && a.gc_ratio == b.gc_ratio &&
            a.gc_idle_value == b.gc_idle_value &&
            a.gc_idle_ratio == b.gc_idle_ratio &&
            SameTop(a.top_flat, b.top_flat) && SameTop(a.top_cum, b.top_cum),
        "the CPU reducer reduces otherwise in two shards");
}

// The same bytes read piece by piece, as the CLI reads a file
// (exporter/reduce_command.cc): the size hint from the gzip trailer,
// bounded by deflate's maximum ratio.
absl::StatusOr<Profile> DecodeInChunks(absl::string_view data) {
  constexpr size_t kChunk = 4096;
  size_t at = 0;
  const size_t hint =
      data.size() >= 4
          ? std::min(profile::GzipSizeHint(data.substr(data.size() - 4)),
                     data.size() * 1032)
          : 0;
  return profile::DecodeChunks(
      [&]() -> absl::StatusOr<absl::string_view> {
        const absl::string_view chunk = data.substr(at, kChunk);
        at += chunk.size();
        return chunk;
      },
      hint, Limits());
}

}  // namespace

namespace {

// Decode and DecodeChunks may tell these two apart (see below).
bool OverCapAndCorrupt(const absl::Status& a, const absl::Status& b) {
  auto over_cap = [](const absl::Status& s) {
    return s.code() == absl::StatusCode::kResourceExhausted &&
           absl::StartsWith(s.message(), "gzip: decompressed profile exceeds");
  };
  auto corrupt = [](const absl::Status& s) {
    return s.code() == absl::StatusCode::kInvalidArgument &&
           absl::StartsWith(s.message(), "gzip: corrupt data");
  };
  return (over_cap(a) && corrupt(b)) || (corrupt(a) && over_cap(b));
}

// ISA-L's inflate gives what zlib's gives.
void CheckInflateAgainstZlib(absl::string_view gzipped,
                             const absl::StatusOr<std::string>& isal) {
  profile::ZlibInflater zlib_inflater;
  const absl::StatusOr<std::string> zlib = profile::GunzipWith(
      zlib_inflater, gzipped, Limits().max_decompressed_bytes);
  if (isal.ok() != zlib.ok() ||
      (isal.ok() && *isal != *zlib) ||
      (!isal.ok() && profile::InflateErrorClass(isal.status()) !=
                         profile::InflateErrorClass(zlib.status()))) {
    std::fprintf(stderr, "ISA-L: %s\nzlib:  %s\n",
                 isal.status().ToString().c_str(),
                 zlib.status().ToString().c_str());
    Fail("ISA-L and zlib inflate differently");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (profile::IsGzip(bytes)) {
    auto raw = profile::Gunzip(bytes, Limits().max_decompressed_bytes);
    CheckInflateAgainstZlib(bytes, raw);
    if (raw.ok()) CheckSampleReadersOn(*raw);
  } else {
    CheckSampleReadersOn(bytes);
  }
  absl::StatusOr<Profile> decoded = profile::Decode(bytes, Limits());

  // Both entry points must accept and reject the same inputs the same way,
  // except for a stream both over the cap and corrupt near it: ISA-L
  // decodes up to 64 KiB ahead into its own buffer when given little
  // input or output room, so it may see the corruption before the cap.
  const absl::StatusOr<Profile> chunked = DecodeInChunks(bytes);
  if (decoded.ok() != chunked.ok() ||
      (decoded.status().code() != chunked.status().code() &&
       !OverCapAndCorrupt(decoded.status(), chunked.status()))) {
    std::fprintf(stderr, "Decode: %s\nDecodeChunks: %s\n",
                 decoded.status().ToString().c_str(),
                 chunked.status().ToString().c_str());
    Fail("Decode and DecodeChunks disagree");
  }
  if (!decoded.ok()) {
    Check(decoded.status().code() == absl::StatusCode::kInvalidArgument ||
              decoded.status().code() ==
                  absl::StatusCode::kResourceExhausted,
          "Decode failed with a code other than InvalidArgument or "
          "ResourceExhausted");
    return 0;
  }
  const Profile& p = *decoded;
  Check(p.num_samples() == chunked->num_samples() &&
            p.frame_names == chunked->frame_names,
        "Decode and DecodeChunks decode different profiles");
  const bool samples_ok = CheckModel(p);

  (void)profile::GuessKind(p);
  const AllOptions& options = Options();
  auto check = [&](const absl::StatusOr<profile::Reduction>& r) {
    if (r.ok()) {
      Check(samples_ok, "a profile with a malformed sample reduced");
      CheckReduction(*r);
    }
  };
  for (profile::Kind kind : profile::kAllKinds) {
    const absl::StatusOr<profile::Reduction> r =
        profile::Reduce(kind, p, options.top);
    check(r);
    if (kind == profile::Kind::kCpu) CheckShardedCpu(p, options.top, r);
  }
  check(profile::ReduceGoroutineLeak(p, options.top));
  // Only the goroutine reducer counts services.
  for (const ReduceOptions* o : {&options.by_label, &options.by_regex}) {
    check(profile::Reduce(profile::Kind::kGoroutine, p, *o));
  }
  return 0;
}
