// Writes the malformed and pathological profiles of tests/corpus/inputs/.
// The files are committed, so tests never need this program; run it again
// only to change or add a case, then update EXPECTED by hand:
//
//   bazel run //tests/corpus:generate_corpus -- "$PWD/tests/corpus/inputs"
//
// Files found by the fuzzer (fuzz-*) are not generated: they are committed
// as the fuzzer wrote them. Everything here is deterministic, so running it
// again rewrites the same bytes (with the same zlib).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "profile/testing/profile_builder.h"

namespace {

using ::profile::testing::Gzip;
using ::profile::testing::ProfileBuilder;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

std::string out_dir;

void Write(absl::string_view name, absl::string_view bytes) {
  const std::string path = absl::StrCat(out_dir, "/", name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::cerr << "cannot write " << path << "\n";
    std::exit(1);
  }
  if (bytes.size() > 50 * 1024) {
    std::cerr << name << ": " << bytes.size() << " bytes, keep files < 50 KB\n";
    std::exit(1);
  }
  std::cout << absl::StrFormat("%-40s %8d bytes\n", name, bytes.size());
}

// Deterministic pseudo-random bytes (a 64-bit LCG).
std::string PseudoRandomBytes(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  for (char& c : out) {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    c = static_cast<char>(seed >> 56);
  }
  return out;
}

// A protobuf varint.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

// A length-delimited field.
std::string LengthField(int field, absl::string_view payload) {
  return absl::StrCat(Varint(static_cast<uint64_t>(field) << 3 | 2),
                      Varint(payload.size()), payload);
}

// A small valid CPU profile, for the malformed cases to corrupt.
ProfileBuilder SmallCpu() {
  ProfileBuilder b;
  b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
  b.PeriodType("cpu", "nanoseconds", 10'000'000);
  b.DurationNanos(1'000'000'000);
  b.Stack({"main.leaf", "main.middle", "main.main"}, {1, 10'000'000});
  b.Stack({"main.other", "main.main"}, {2, 20'000'000});
  return b;
}

// Large enough that its gzip stream spans several deflate blocks.
ProfileBuilder LargerCpu() {
  ProfileBuilder b;
  b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
  for (int i = 0; i < 2000; ++i) {
    b.Stack({absl::StrCat("pkg.leaf", i), absl::StrCat("pkg.mid", i % 37),
             "main.main"},
            {i + 1, int64_t{i + 1} * 10'000'000});
  }
  return b;
}

void ValidProfiles() {
  // Small valid raw profiles: regression entries, and seeds the fuzzer
  // mutates better than gzip.
  Write("valid-cpu.pb", SmallCpu().Raw());

  ProfileBuilder g;
  g.SampleType("goroutine", "count");
  g.PeriodType("goroutine", "count", 1);
  for (int s = 0; s < 3; ++s) {
    const std::string service = absl::StrCat("svc-", s);
    g.Stack({"runtime.gopark", "runtime.selectgo",
             "main.(*service).supervise", "main.main.func1"},
            {1}, {{"service", service}});
    g.Stack({"runtime.gopark", "runtime.chanrecv", "main.(*service).recvLoop"},
            {2}, {{"service", service}});
  }
  g.Stack({"runtime.gopark", "net/http.(*Server).Serve", "main.main"}, {1});
  Write("valid-goroutine.pb", g.Raw());

  ProfileBuilder h;
  h.SampleType("alloc_objects", "count").SampleType("alloc_space", "bytes");
  h.SampleType("inuse_objects", "count").SampleType("inuse_space", "bytes");
  h.PeriodType("space", "bytes", 512 * 1024);
  h.Stack({"runtime.mallocgc", "main.alloc", "main.main"}, {4, 4096, 1, 1024});
  h.Stack({"runtime.mallocgc", "main.cache", "main.main"}, {2, 2048, 2, 2048});
  Write("valid-heap.pb", h.Raw());

  ProfileBuilder m;
  m.SampleType("contentions", "count").SampleType("delay", "nanoseconds");
  m.PeriodType("contentions", "count", 1);
  m.Stack({"sync.(*Mutex).Unlock", "main.mutexContender"}, {10, 5'000'000});
  Write("valid-mutex.pb", m.Raw());

  // drop_frames cuts the allocator frames off, and a location without
  // lines is named after its mapping.
  ProfileBuilder d;
  d.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
  d.DropFrames("runtime\\.mallocgc|runtime\\.newobject");
  const uint64_t libc = d.Mapping("/lib/x86_64-linux-gnu/libc.so.6");
  d.Sample({d.LocationWithoutLines(libc), d.Frame("runtime.mallocgc"),
            d.Frame("runtime.newobject"), d.Frame("main.work")},
           {1, 10'000'000});
  Write("valid-drop-frames.pb", d.Raw());
}

void NotProfiles() {
  Write("empty.bin", "");
  Write("gzip-of-empty.pb.gz", Gzip(""));
  Write("random.bin", PseudoRandomBytes(4096, 42));
  Write("login.html",
        "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n"
        "<body><form action=\"/login\" method=\"post\">"
        "<input name=\"user\"><input name=\"password\" type=\"password\">"
        "</form></body></html>\n");
  Write("login.html.gz",
        Gzip("<html><body>login required</body></html>\n"));
  Write("404.txt", "404 page not found\n");
  Write("goroutine-debug1.txt",
        "goroutine profile: total 48\n"
        "8 @ 0x43a8d6 0x406d5c 0x406a18 0x6b1f05 0x46d2e1\n"
        "#\t0x6b1f04\tmain.(*service).supervise+0x84\t/src/main.go:80\n");
}

void BrokenGzip() {
  const std::string larger = LargerCpu().Gzipped();
  Write("gzip-truncated.pb.gz", larger.substr(0, larger.size() / 2));
  Write("gzip-header-only.pb.gz", larger.substr(0, 10));
  const std::string small = SmallCpu().Gzipped();
  Write("gzip-no-trailer.pb.gz", small.substr(0, small.size() - 8));

  std::string bad_crc = small;
  bad_crc[bad_crc.size() - 8] ^= 0x01;  // first byte of the CRC-32
  Write("gzip-bad-crc.pb.gz", bad_crc);

  // ISIZE claims almost 4 GiB: only ever a hint, and zlib's length check
  // fails.
  std::string lying = small;
  for (int i = 1; i <= 4; ++i) lying[lying.size() - i] = '\xff';
  lying[lying.size() - 4] = '\xf0';
  Write("gzip-lying-size.pb.gz", lying);

  Write("gzip-trailing-garbage.pb.gz", small + "garbage!");

  // The gzip magic, then garbage instead of a deflate stream.
  Write("gzip-corrupt-deflate.pb.gz",
        std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10) +
            PseudoRandomBytes(512, 7));

  // Bombs: far more output than the 1 MiB limit EXPECTED gives them.
  Write("gzip-bomb.pb.gz", Gzip(std::string(2 << 20, '\0')));
  std::string members;
  for (int i = 0; i < 40; ++i) members += Gzip(std::string(64 << 10, '\0'));
  Write("gzip-bomb-members.pb.gz", members);  // 40 x 64 KiB, one stream
  // A real profile whose string table holds a 3 MiB function name.
  ProfileBuilder long_name;
  long_name.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
  long_name.Stack({"main." + std::string(3 << 20, 'x')}, {1, 1});
  Write("gzip-bomb-profile.pb.gz", long_name.Gzipped());
}

void BrokenProtobuf() {
  const std::string raw = SmallCpu().Raw();
  // Field 1 (sample_type), length-delimited, then a length varint whose
  // continuation bit never clears.
  Write("varint-unterminated.pb",
        std::string("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11));
  // A valid profile, then a varint field (9: time_nanos) cut short.
  Write("varint-cut.pb", raw + std::string("\x48\xff\xff", 3));
  // A string_table entry claiming 100 bytes, with 2.
  Write("length-beyond-input.pb", raw + std::string("\x32\x64" "ab", 4));
  // Field 1 with wire type 7, which does not exist.
  Write("wire-type-invalid.pb", raw + std::string("\x0f\x00", 2));
  // Field 2 (Sample, a message) as a varint.
  Write("wire-type-sample-as-varint.pb", raw + std::string("\x10\x01", 2));
  // Field 6 (string_table) as a fixed32.
  Write("wire-type-string-as-fixed32.pb",
        raw + std::string("\x35\x01\x02\x03\x04", 5));
  // A Sample whose location_id (field 1) is a fixed64.
  Write("wire-type-location-id-fixed64.pb",
        raw + LengthField(2, std::string("\x09\x01\x00\x00\x00\x00\x00\x00\x00"
                                         "\x10\x01\x10\x01",
                                         13)));
}

void InvalidProfiles() {
  {
    ProfileBuilder b = SmallCpu();
    b.Sample({b.Frame("main.main"), 99}, {1, 1});
    Write("dangling-location-id.pb.gz", b.Gzipped());
  }
  {
    ProfileBuilder b = SmallCpu();
    b.Sample({b.LocationOfFunctionIds({b.Function("main.main"), 99})}, {1, 1});
    Write("dangling-function-id.pb.gz", b.Gzipped());
  }
  {
    ProfileBuilder b = SmallCpu();
    b.Mapping("/bin/app");
    b.Location({"main.main"}, 7);
    Write("dangling-mapping-id.pb.gz", b.Gzipped());
  }
  {
    ProfileBuilder b = SmallCpu();
    b.proto().mutable_function(0)->set_name(1000);
    Write("dangling-string-function-name.pb.gz", b.Gzipped());
  }
  {
    ProfileBuilder b = SmallCpu();
    b.Stack({"main.main"}, {1, 1}, {{"service", "a"}});
    b.proto().mutable_sample(2)->mutable_label(0)->set_str(1000);
    Write("dangling-string-label.pb.gz", b.Gzipped());
  }
  {
    ProfileBuilder b = SmallCpu();
    b.proto().mutable_sample_type(1)->set_type(-1);
    Write("negative-string-index.pb.gz", b.Gzipped());
  }
  {
    ProfileBuilder b = SmallCpu();
    b.proto().mutable_location(1)->set_id(b.proto().location(0).id());
    Write("duplicate-location-id.pb.gz", b.Gzipped());
  }
  {
    ProfileBuilder b;
    b.Str("unrelated");
    Write("no-sample-types.pb.gz", b.Gzipped());
  }
  {
    ProfileBuilder b = SmallCpu();
    b.Stack({"main.main"}, {1});
    Write("values-mismatch.pb.gz", b.Gzipped());
  }
  {
    ProfileBuilder b = SmallCpu();
    b.proto().set_string_table(0, "not empty");
    Write("nonempty-first-string.pb.gz", b.Gzipped());
  }
}

// Small files that expand into a lot of work.
void HugeRepeatedFields() {
  constexpr int kIds = 4'000'000;
  {
    // One sample whose packed location_id run holds 4 million ids, all of
    // location 1 (one byte each): 4 MB raw.
    ProfileBuilder b;
    b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
    const uint64_t loc = b.Frame("main.spin");
    auto* sample = b.proto().add_sample();
    for (int i = 0; i < kIds; ++i) sample->add_location_id(loc);
    sample->add_value(1);
    sample->add_value(10'000'000);
    Write("huge-packed-location-ids.pb.gz", b.Gzipped());
    // The same with a dangling id at the very end.
    sample->set_location_id(kIds - 1, 99);
    Write("huge-packed-location-ids-dangling.pb.gz", b.Gzipped());
  }
  {
    // One sample with 4 million values for 2 sample types.
    ProfileBuilder b;
    b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
    auto* sample = b.proto().add_sample();
    sample->add_location_id(b.Frame("main.main"));
    for (int i = 0; i < kIds; ++i) sample->add_value(1);
    Write("huge-packed-values.pb.gz", b.Gzipped());
  }
  {
    // 500,000 samples of one location.
    ProfileBuilder b;
    b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
    const uint64_t loc = b.Frame("main.main");
    for (int i = 0; i < 500'000; ++i) b.Sample({loc}, {1, 10'000'000});
    Write("many-samples.pb.gz", b.Gzipped());
  }
  {
    // 1,000,000 sample types (all ""/"") and no samples.
    ProfileBuilder b;
    for (int i = 0; i < 1'000'000; ++i) b.proto().add_sample_type();
    Write("many-sample-types.pb.gz", b.Gzipped());
  }
  {
    // 4,000,000 empty sample types, two bytes each on the wire: 8 MB raw
    // in an 8 KB gzip. Each becomes a decoded ValueType of two strings.
    std::string raw = LengthField(6, "");  // string_table[0] = ""
    for (int i = 0; i < 4'000'000; ++i) raw += std::string("\x0a\x00", 2);
    Write("amplify-sample-types.pb.gz", Gzip(raw));
  }
  {
    // Empty functions, two bytes each on the wire: just under and just over
    // DecodeLimits' default cap of 8Mi table entries (16.6 and 16.8 MB raw,
    // 16 KB gzip each). Under the cap this is the most memory a 2-byte
    // entry can cost.
    for (const auto& [name, n] :
         {std::pair<const char*, int>{"amplify-functions.pb.gz", 8'300'000},
          std::pair<const char*, int>{"amplify-functions-over-cap.pb.gz",
                                      8'400'000}}) {
      std::string raw = LengthField(6, "") + LengthField(1, "");
      for (int i = 0; i < n; ++i) raw += std::string("\x2a\x00", 2);
      Write(name, Gzip(raw));
    }
  }
  {
    // 2,000,000 strings, all empty.
    ProfileBuilder b = SmallCpu();
    for (int i = 0; i < 2'000'000; ++i) b.proto().add_string_table("");
    Write("many-strings.pb.gz", b.Gzipped());
  }
  {
    // Location ids at the dense-index limit (2n + 64) of 10,000 locations.
    ProfileBuilder b;
    b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
    const uint64_t fn = b.Function("main.main");
    constexpr uint64_t kLocations = 10'000;
    for (uint64_t i = 0; i < kLocations; ++i) {
      auto* loc = b.proto().add_location();
      loc->set_id(2 * kLocations + 64 - i);
      loc->add_line()->set_function_id(fn);
    }
    b.Sample({2 * kLocations + 64}, {1, 1});
    Write("dense-ids-at-limit.pb.gz", b.Gzipped());
  }
  {
    // Ids near 2^64: the sparse index.
    ProfileBuilder b;
    b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
    const uint64_t fn = b.Function("main.main");
    auto* loc = b.proto().add_location();
    loc->set_id(std::numeric_limits<uint64_t>::max());
    loc->add_line()->set_function_id(fn);
    b.proto().mutable_function(0)->set_id(std::numeric_limits<uint64_t>::max() - 1);
    loc->mutable_line(0)->set_function_id(std::numeric_limits<uint64_t>::max() - 1);
    b.Sample({std::numeric_limits<uint64_t>::max()}, {1, 1});
    Write("sparse-ids.pb.gz", b.Gzipped());
  }
}

// Values whose sums overflow int64: the reducers sum in 128 bits.
void Overflow() {
  {
    ProfileBuilder b;
    b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
    b.PeriodType("cpu", "nanoseconds", 10'000'000);
    b.Stack({"main.a", "main.main"}, {kMax, kMax});
    b.Stack({"main.b", "main.main"}, {kMax, kMax});
    b.Stack({"main.c", "runtime.gcBgMarkWorker"}, {kMax, kMax});
    b.Stack({"main.d", "main.main"}, {kMin, kMin});
    Write("overflow-int64-cpu.pb.gz", b.Gzipped());
  }
  {
    ProfileBuilder b;
    b.SampleType("alloc_objects", "count").SampleType("alloc_space", "bytes");
    b.SampleType("inuse_objects", "count").SampleType("inuse_space", "bytes");
    b.Stack({"main.alloc", "main.main"}, {kMax, kMax, kMax, kMax});
    b.Stack({"main.cache", "main.main"}, {kMax, kMax, kMax, kMax});
    Write("overflow-int64-heap.pb.gz", b.Gzipped());
  }
  {
    ProfileBuilder b;
    b.SampleType("contentions", "count").SampleType("delay", "nanoseconds");
    b.Stack({"sync.(*Mutex).Unlock", "main.a"}, {kMax, kMax});
    b.Stack({"sync.(*Mutex).Unlock", "main.b"}, {kMax, kMax});
    Write("overflow-int64-contention.pb.gz", b.Gzipped());
  }
  {
    // Goroutine counts: the total, the per-label and the per-function
    // counts all exceed int64.
    ProfileBuilder b;
    b.SampleType("goroutine", "count");
    b.Stack({"runtime.gopark", "main.(*service).supervise"}, {kMax},
            {{"service", "svc-0"}});
    b.Stack({"runtime.gopark", "main.(*service).supervise"}, {kMax},
            {{"service", "svc-0"}});
    Write("overflow-int64-goroutine.pb.gz", b.Gzipped());
  }
}

// 100,000 frames deep. Distinct functions are limited to a few thousand
// (the stacks cycle through them, like deep mutual recursion) so that the
// files stay small: incrementing ids hardly compress.
void DeepStacks() {
  constexpr int kDepth = 100'000;
  {
    // One sample, 100,000 frames through 2,000 distinct functions.
    ProfileBuilder b;
    b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
    std::vector<uint64_t> cycle;
    for (int i = 0; i < 2'000; ++i) {
      cycle.push_back(b.Frame(absl::StrFormat("pkg.f%04d", i)));
    }
    std::vector<uint64_t> stack;
    stack.reserve(kDepth);
    for (int i = 0; i < kDepth; ++i) stack.push_back(cycle[i % cycle.size()]);
    b.Sample(stack, {1, 10'000'000});
    b.Stack({"main.shallow", "main.main"}, {1, 10'000'000});
    Write("deep-stack.pb.gz", b.Gzipped());
  }
  {
    // 100,000 frames of one recursive function: cum counts it once.
    ProfileBuilder b;
    b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
    const uint64_t loc = b.Frame("main.recurse");
    std::vector<uint64_t> stack(kDepth, loc);
    stack.push_back(b.Frame("main.main"));
    b.Sample(stack, {1, 10'000'000});
    b.Sample(stack, {2, 20'000'000});
    Write("deep-recursion.pb.gz", b.Gzipped());
  }
  {
    // 100,000 frames in locations of 3 inlined functions each, with
    // drop_frames active: pruning walks the whole stack.
    ProfileBuilder b;
    b.SampleType("goroutine", "count");
    b.DropFrames("runtime\\.gopark");
    std::vector<uint64_t> cycle;
    for (int i = 0; i < 1'000; ++i) {
      cycle.push_back(b.Location({absl::StrFormat("pkg.inl%04d", i),
                                  absl::StrFormat("pkg.mid%04d", i),
                                  absl::StrFormat("main.out%04d", i)}));
    }
    std::vector<uint64_t> stack;
    stack.push_back(b.Frame("runtime.gopark"));
    for (int i = 0; i < kDepth / 3; ++i) stack.push_back(cycle[i % cycle.size()]);
    b.Sample(stack, {5}, {{"service", "svc-deep"}});
    Write("deep-stack-inlined-pruned.pb.gz", b.Gzipped());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: generate_corpus OUTPUT_DIR\n";
    return 2;
  }
  out_dir = argv[1];
  ValidProfiles();
  NotProfiles();
  BrokenGzip();
  BrokenProtobuf();
  InvalidProfiles();
  HugeRepeatedFields();
  Overflow();
  DeepStacks();
  return 0;
}
