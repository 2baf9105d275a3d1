// Hand-built edge cases for Decode() and Gunzip(): the decoded model, the
// default sample type, nameless frames, and every way an input can be
// malformed or too large (each with its status code and message).
#include "profile/decode.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/inflate.h"
#include "profile/profile.h"
#include "profile/testing/profile_builder.h"

namespace profile {
namespace {

using ::profile::testing::Gzip;
using ::profile::testing::ProfileBuilder;
using ::profile::testing::SampleFrames;
using ::profile::testing::SampleLabels;
using ::profile::testing::SampleValues;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

void ExpectError(const absl::Status& status, absl::StatusCode code,
                 absl::string_view substring) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(std::string(substring)))
      << status;
}

// Decode() leaves the samples to the reducers' pass over them
// (profile.h); this is the outcome of decoding and reading every sample.
absl::Status DecodeAndReadSamples(absl::string_view bytes) {
  auto p = Decode(bytes);
  if (!p.ok()) return p.status();
  return p->ForEachSample([](const SampleRef&) {});
}

// Deterministic pseudo-random bytes (a 64-bit LCG), so failures reproduce.
std::string PseudoRandomBytes(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  for (char& c : out) {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    c = static_cast<char>(seed >> 56);
  }
  return out;
}

// A small valid CPU-like profile, for the malformed-input tests to corrupt.
ProfileBuilder SmallProfile() {
  ProfileBuilder b;
  b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
  b.PeriodType("cpu", "nanoseconds", 10'000'000);
  b.Stack({"main.leaf", "main.middle", "main.main"}, {1, 10'000'000});
  b.Stack({"main.other", "main.main"}, {2, 20'000'000});
  return b;
}

// A profile large enough that its gzip stream spans many deflate blocks.
ProfileBuilder LargerProfile() {
  ProfileBuilder b;
  b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
  for (int i = 0; i < 2000; ++i) {
    b.Stack({"pkg.leaf" + std::to_string(i), "pkg.mid" + std::to_string(i % 37),
             "main.main"},
            {i + 1, int64_t{i + 1} * 10'000'000});
  }
  return b;
}

// ---------------------------------------------------------------------------
// The decoded model.

TEST(Decode, GzippedAndRawBytesDecodeToTheSameProfile) {
  const ProfileBuilder b = SmallProfile();
  auto raw = Decode(b.Raw());
  auto gzipped = Decode(b.Gzipped());
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_TRUE(gzipped.ok()) << gzipped.status();
  EXPECT_EQ(raw->frame_names, gzipped->frame_names);
  EXPECT_EQ(SampleValues(*raw), SampleValues(*gzipped));
  ASSERT_EQ(raw->num_samples(), 2u);
  ASSERT_EQ(gzipped->num_samples(), 2u);
  for (size_t s = 0; s < 2; ++s) {
    EXPECT_EQ(SampleFrames(*raw, s), SampleFrames(*gzipped, s));
  }
  EXPECT_THAT(SampleFrames(*raw, 0),
              ElementsAre("main.leaf", "main.middle", "main.main"));
  EXPECT_THAT(SampleFrames(*raw, 1), ElementsAre("main.other", "main.main"));
  EXPECT_EQ(SampleValues(*raw)[1][0], 2);
  EXPECT_EQ(SampleValues(*raw)[1][1], 20'000'000);
}

TEST(Decode, HeaderFieldsAndTableSizesAreCopied) {
  ProfileBuilder b = SmallProfile();
  b.DurationNanos(5'000'000'000).TimeNanos(1'700'000'000'000'000'000);
  b.Mapping("/bin/app");
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->sample_types.size(), 2u);
  EXPECT_EQ(p->sample_types[0].type, "samples");
  EXPECT_EQ(p->sample_types[0].unit, "count");
  EXPECT_EQ(p->sample_types[1].type, "cpu");
  EXPECT_EQ(p->sample_types[1].unit, "nanoseconds");
  EXPECT_EQ(p->period_type.type, "cpu");
  EXPECT_EQ(p->period_type.unit, "nanoseconds");
  EXPECT_EQ(p->period, 10'000'000);
  EXPECT_EQ(p->duration_nanos, 5'000'000'000);
  EXPECT_EQ(p->time_nanos, 1'700'000'000'000'000'000);
  EXPECT_EQ(p->num_functions, 4u);
  EXPECT_EQ(p->num_mappings, 1u);
  EXPECT_EQ(p->num_locations(), 4u);
  EXPECT_EQ(p->num_samples(), 2u);
}

TEST(Decode, LocationLinesBecomeFramesInnermostFirst) {
  ProfileBuilder b;
  b.SampleType("samples", "count");
  const uint64_t inlined = b.Location({"main.inner", "main.outer"});
  b.Sample({inlined, b.Frame("main.main")}, {1});
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->num_locations(), 2u);
  std::vector<std::string> frames;
  for (uint32_t f : p->frames_of_location(0)) {
    frames.emplace_back(p->frame_names[f]);
  }
  EXPECT_THAT(frames, ElementsAre("main.inner", "main.outer"));
  EXPECT_THAT(SampleFrames(*p, 0),
              ElementsAre("main.inner", "main.outer", "main.main"));
}

TEST(Decode, FramesWithTheSameFunctionNameShareOneFrameId) {
  ProfileBuilder b;
  b.SampleType("samples", "count");
  // Two distinct functions (ids) with one name, as after a merge.
  const uint64_t f1 = b.NewFunction("main.f");
  const uint64_t f2 = b.NewFunction("main.f");
  b.Sample({b.LocationOfFunctionIds({f1}), b.LocationOfFunctionIds({f2})},
           {1});
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->frame_names, ElementsAre("main.f"));
  EXPECT_THAT(SampleFrames(*p, 0), ElementsAre("main.f", "main.f"));
}

TEST(Decode, LocationWithoutLinesIsNamedAfterMappingBasename) {
  ProfileBuilder b;
  b.SampleType("samples", "count");
  const uint64_t libc = b.Mapping("/usr/lib/x86_64-linux-gnu/libc.so.6");
  b.Sample({b.LocationWithoutLines(libc), b.Frame("main.main")}, {1});
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(SampleFrames(*p, 0), ElementsAre("[libc.so.6]", "main.main"));
}

TEST(Decode, MappingFileWithoutDirectoryIsItsOwnBasename) {
  ProfileBuilder b;
  b.SampleType("samples", "count");
  const uint64_t app = b.Mapping("app");
  b.Sample({b.LocationWithoutLines(app)}, {1});
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(SampleFrames(*p, 0), ElementsAre("[app]"));
}

TEST(Decode, LocationWithoutLinesOrMappingIsUnknown) {
  ProfileBuilder b;
  b.SampleType("samples", "count");
  b.Sample({b.LocationWithoutLines(), b.Frame("main.main")}, {1});
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(SampleFrames(*p, 0), ElementsAre("<unknown>", "main.main"));
}

TEST(Decode, LocationWithoutLinesAndMappingWithoutFileIsUnknown) {
  ProfileBuilder b;
  b.SampleType("samples", "count");
  const uint64_t anonymous = b.Mapping("");
  b.Sample({b.LocationWithoutLines(anonymous)}, {1});
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(SampleFrames(*p, 0), ElementsAre("<unknown>"));
}

TEST(Decode, FunctionWithEmptyNameIsNamedAfterMappingBasename) {
  ProfileBuilder b;
  b.SampleType("samples", "count");
  const uint64_t bin = b.Mapping("/opt/svc/bin/server");
  const uint64_t nameless = b.Function("");  // name = string index 0
  ASSERT_EQ(b.proto().function(0).name(), 0);
  b.Sample({b.LocationOfFunctionIds({nameless}, bin)}, {1});
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(SampleFrames(*p, 0), ElementsAre("[server]"));
}

TEST(Decode, FunctionWithEmptyNameWithoutMappingIsUnknown) {
  ProfileBuilder b;
  b.SampleType("samples", "count");
  b.Sample({b.LocationOfFunctionIds({b.Function("")})}, {1});
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(SampleFrames(*p, 0), ElementsAre("<unknown>"));
}

TEST(Decode, InlinedLineWithEmptyNameIsNamedAfterMappingOthersKeepTheirNames) {
  ProfileBuilder b;
  b.SampleType("samples", "count");
  const uint64_t bin = b.Mapping("/bin/app");
  b.Sample({b.Location({"", "main.outer"}, bin)}, {1});
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(SampleFrames(*p, 0), ElementsAre("[app]", "main.outer"));
}

TEST(Decode, StringIndexZeroDecodesAsEmptyString) {
  ProfileBuilder b;
  b.SampleType("samples", "");  // unit = string index 0
  b.Stack({"main.main"}, {3}, {{"", "value-of-empty-key"}});
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->sample_types[0].unit, "");
  EXPECT_EQ(p->period_type.type, "");  // period_type left at index 0
  EXPECT_EQ(p->period_type.unit, "");
  EXPECT_THAT(SampleLabels(*p, 0), ElementsAre("=value-of-empty-key"));
}

TEST(Decode, StringLabelsAreKeptAndNumericLabelsAreNot) {
  ProfileBuilder b;
  b.SampleType("goroutine", "count");
  b.Stack({"main.main"}, {1}, {{"service", "svc-1"}, {"component", "api"}});
  auto* numeric = b.proto().mutable_sample(0)->add_label();
  numeric->set_key(b.Str("bytes"));
  numeric->set_num(4096);
  numeric->set_num_unit(b.Str("bytes"));
  b.Stack({"main.main"}, {2});
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->num_samples(), 2u);
  EXPECT_THAT(SampleLabels(*p, 0),
              ElementsAre("service=svc-1", "component=api"));
  EXPECT_THAT(SampleLabels(*p, 1), IsEmpty());
}

TEST(Decode, SparseIdsResolveLikeDenseOnes) {
  ProfileBuilder b;
  b.SampleType("samples", "count");
  const uint64_t mapping = b.Mapping("/bin/app");
  const uint64_t loc = b.Location({"main.inner", "main.outer"}, mapping);
  const uint64_t bare = b.LocationWithoutLines(mapping);
  // Renumber every table with huge, sparse ids.
  auto& proto = b.proto();
  constexpr uint64_t kBig = uint64_t{1} << 40;
  proto.mutable_mapping(0)->set_id(kBig + 7);
  for (int i = 0; i < proto.function_size(); ++i) {
    proto.mutable_function(i)->set_id(kBig * (i + 2));
  }
  for (int i = 0; i < proto.location_size(); ++i) {
    auto* l = proto.mutable_location(i);
    l->set_id(std::numeric_limits<uint64_t>::max() - i);
    l->set_mapping_id(kBig + 7);
    for (int j = 0; j < l->line_size(); ++j) {
      l->mutable_line(j)->set_function_id(kBig * (j + 2));
    }
  }
  (void)loc;
  (void)bare;
  b.Sample({std::numeric_limits<uint64_t>::max(),
            std::numeric_limits<uint64_t>::max() - 1},
           {5});
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(SampleFrames(*p, 0),
              ElementsAre("main.inner", "main.outer", "[app]"));
}

TEST(Decode, ValidProfileWithoutSamplesDecodes) {
  ProfileBuilder b;
  b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
  b.Location({"main.unused"});
  auto p = Decode(b.Gzipped());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->num_samples(), 0u);
  EXPECT_EQ(p->num_locations(), 1u);
  EXPECT_THAT(SampleValues(*p), IsEmpty());
  EXPECT_EQ(p->default_sample_index, 1);
}

// ---------------------------------------------------------------------------
// pprof's default sample type.

TEST(DefaultSampleIndex, DefaultSampleTypeWinsWhenSet) {
  ProfileBuilder b;
  b.SampleType("alloc_objects", "count").SampleType("alloc_space", "bytes");
  b.SampleType("inuse_objects", "count").SampleType("inuse_space", "bytes");
  b.DefaultSampleType("alloc_space");
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->default_sample_index, 1);
  EXPECT_EQ(DefaultSampleIndex(*p, "inuse_objects"), 2);
}

TEST(DefaultSampleIndex, InuseSpaceWhenUnsetEvenIfNotLast) {
  ProfileBuilder b;
  b.SampleType("inuse_space", "bytes").SampleType("inuse_objects", "count");
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->default_sample_index, 0);
  EXPECT_EQ(DefaultSampleIndex(*p, ""), 0);
}

TEST(DefaultSampleIndex, LastSampleTypeWhenUnsetWithoutInuseSpace) {
  ProfileBuilder b;
  b.SampleType("contentions", "count").SampleType("delay", "nanoseconds");
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->default_sample_index, 1);
}

TEST(DefaultSampleIndex, UnknownDefaultSampleTypeFallsBack) {
  ProfileBuilder b;
  b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
  b.DefaultSampleType("no_such_type");
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->default_sample_index, 1);

  ProfileBuilder heap;
  heap.SampleType("inuse_space", "bytes").SampleType("alloc_space", "bytes");
  heap.DefaultSampleType("no_such_type");
  auto h = Decode(heap.Raw());
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->default_sample_index, 0);
}

// ---------------------------------------------------------------------------
// Inputs that are not profiles at all.

TEST(DecodeRejects, EmptyInput) {
  ExpectError(Decode("").status(), absl::StatusCode::kInvalidArgument,
              "empty input");
}

TEST(DecodeRejects, GzipOfEmptyInput) {
  ExpectError(Decode(Gzip("")).status(), absl::StatusCode::kInvalidArgument,
              "empty input");
}

TEST(DecodeRejects, HtmlBody) {
  ExpectError(
      Decode("<html><head><title>Error</title></head><body>oops</body></html>")
          .status(),
      absl::StatusCode::kInvalidArgument, "not a profile.proto");
}

TEST(DecodeRejects, GoNotFoundBody) {
  ExpectError(Decode("404 page not found\n").status(),
              absl::StatusCode::kInvalidArgument, "not a profile.proto");
}

TEST(DecodeRejects, GzippedHtmlBody) {
  ExpectError(Decode(Gzip("<html><body>login required</body></html>")).status(),
              absl::StatusCode::kInvalidArgument, "not a profile.proto");
}

TEST(DecodeRejects, RandomNonProtobufBytes) {
  std::string bytes = PseudoRandomBytes(4096, 42);
  ASSERT_FALSE(IsGzip(bytes));
  ExpectError(Decode(bytes).status(), absl::StatusCode::kInvalidArgument,
              "malformed profile");
}

TEST(DecodeRejects, TextProfileInsteadOfProtobuf) {
  ExpectError(
      Decode("goroutine profile: total 48\n1 @ 0x43a8d6 0x406d5c\n").status(),
      absl::StatusCode::kInvalidArgument, "malformed profile");
}

// ---------------------------------------------------------------------------
// Broken gzip and size limits.

TEST(DecodeRejects, GzipCutInHalf) {
  const std::string gz = LargerProfile().Gzipped();
  ASSERT_GT(gz.size(), 1000u);
  ExpectError(Decode(gz.substr(0, gz.size() / 2)).status(),
              absl::StatusCode::kInvalidArgument, "truncated");
}

TEST(DecodeRejects, GzipWithoutItsTrailer) {
  const std::string gz = SmallProfile().Gzipped();
  ExpectError(Decode(gz.substr(0, gz.size() - 8)).status(),
              absl::StatusCode::kInvalidArgument, "truncated");
}

TEST(DecodeRejects, GzipWithWrongChecksum) {
  std::string gz = SmallProfile().Gzipped();
  gz[gz.size() - 8] ^= 0x01;  // first byte of the CRC-32
  ExpectError(Decode(gz).status(), absl::StatusCode::kInvalidArgument,
              "gzip: corrupt data");
}

// pprof (Go's gzip reader) fails on bytes after the gzip member that are
// not another member: "decompressing profile: unexpected EOF".
TEST(DecodeRejects, GzipFollowedByTrailingBytes) {
  const std::string gz = SmallProfile().Gzipped();
  for (const std::string& trailer :
       {std::string("garbage!"), std::string(4, '\0')}) {
    SCOPED_TRACE(trailer.size());
    EXPECT_EQ(Decode(gz + trailer).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

// Go's gzip reader reads concatenated members as one stream, and so does
// pprof: a profile gzipped in two pieces decodes whole.
TEST(Decode, ConcatenatedGzipMembersDecodeAsOneStream) {
  const std::string raw = SmallProfile().Raw();
  const size_t half = raw.size() / 2;
  const std::string two_members =
      Gzip(raw.substr(0, half)) + Gzip(raw.substr(half));
  auto p = Decode(two_members);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->num_samples(), 2u);
}

TEST(DecodeRejects, GzipBombBeyondDecompressedLimit) {
  const std::string zeros(10 << 20, '\0');
  const std::string bomb = Gzip(zeros);
  ASSERT_LT(bomb.size(), 64u << 10);
  DecodeLimits limits;
  limits.max_decompressed_bytes = 1 << 20;
  ExpectError(Decode(bomb, limits).status(),
              absl::StatusCode::kResourceExhausted,
              "exceeds the limit of 1048576 bytes");
}

TEST(DecodeRejects, CompressedInputOverCompressedLimit) {
  const std::string gz = LargerProfile().Gzipped();
  DecodeLimits limits;
  limits.max_compressed_bytes = gz.size() - 1;
  ExpectError(Decode(gz, limits).status(),
              absl::StatusCode::kResourceExhausted,
              "exceeds the limit of " + std::to_string(gz.size() - 1));
  limits.max_compressed_bytes = gz.size();
  EXPECT_TRUE(Decode(gz, limits).ok());
}

TEST(DecodeRejects, RawInputOverDecompressedLimit) {
  const std::string raw = SmallProfile().Raw();
  DecodeLimits limits;
  limits.max_decompressed_bytes = raw.size() - 1;
  ExpectError(Decode(raw, limits).status(),
              absl::StatusCode::kResourceExhausted,
              "exceeds the limit of " + std::to_string(raw.size() - 1));
  limits.max_decompressed_bytes = raw.size();
  EXPECT_TRUE(Decode(raw, limits).ok());
}

TEST(DecodeRejects, RawInputOverCompressedLimit) {
  const std::string raw = SmallProfile().Raw();
  DecodeLimits limits;
  limits.max_compressed_bytes = 16;
  ExpectError(Decode(raw, limits).status(),
              absl::StatusCode::kResourceExhausted, "exceeds the limit of 16");
}

TEST(Decode, GzippedProfileExactlyAtDecompressedLimitIsAccepted) {
  const ProfileBuilder b = LargerProfile();
  const std::string raw = b.Raw();
  const std::string gz = b.Gzipped();
  DecodeLimits limits;
  limits.max_decompressed_bytes = raw.size();
  EXPECT_TRUE(Decode(gz, limits).ok());
  limits.max_decompressed_bytes = raw.size() - 1;
  ExpectError(Decode(gz, limits).status(),
              absl::StatusCode::kResourceExhausted, "exceeds the limit");
}

// ---------------------------------------------------------------------------
// Broken protobuf encoding.

TEST(DecodeRejects, VarintWithoutTerminatingByte) {
  // Field 1 (sample_type), length-delimited, then a length varint whose
  // continuation bit never clears.
  const std::string bytes("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11);
  ExpectError(Decode(bytes).status(), absl::StatusCode::kInvalidArgument,
              "not a profile.proto");
}

TEST(DecodeRejects, VarintCutAtTheEndOfTheInput) {
  const std::string bytes = SmallProfile().Raw() + std::string("\x48\xff\xff");
  ExpectError(Decode(bytes).status(), absl::StatusCode::kInvalidArgument,
              "not a profile.proto");
}

TEST(DecodeRejects, LengthBeyondTheInput) {
  // A valid profile followed by a string_table entry claiming 100 bytes.
  const std::string bytes = SmallProfile().Raw() + std::string("\x32\x64" "ab");
  ExpectError(Decode(bytes).status(), absl::StatusCode::kInvalidArgument,
              "not a profile.proto");
}

TEST(DecodeRejects, InvalidWireType) {
  // Field 1 with wire type 7, which does not exist.
  const std::string bytes = SmallProfile().Raw() + std::string("\x0f\x00", 2);
  ExpectError(Decode(bytes).status(), absl::StatusCode::kInvalidArgument,
              "not a profile.proto");
}

// pprof's own decoder checks the wire type of every field it knows and
// fails with "type mismatch"; so must we.
TEST(DecodeRejects, KnownFieldWithWrongWireType) {
  const std::string valid = SmallProfile().Raw();
  ASSERT_TRUE(Decode(valid).ok());
  struct Case {
    const char* what;
    std::string suffix;
  };
  const Case cases[] = {
      // Field 2 (Sample, a message) as a varint.
      {"sample as varint", std::string("\x10\x01", 2)},
      // Field 7 (drop_frames, an int64) as a length-delimited field.
      {"drop_frames as bytes", std::string("\x3a\x01x", 3)},
      // Field 6 (string_table, strings) as a fixed32.
      {"string_table as fixed32", std::string("\x35\x01\x02\x03\x04", 5)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(Decode(valid + c.suffix).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

// ---------------------------------------------------------------------------
// Well-formed protobuf, invalid profile.

TEST(DecodeRejects, DanglingLocationIdInSample) {
  ProfileBuilder b = SmallProfile();
  b.Sample({b.Frame("main.main"), 99}, {1, 1});
  ExpectError(DecodeAndReadSamples(b.Raw()),
              absl::StatusCode::kInvalidArgument,
              "unknown location id 99");
}

TEST(DecodeRejects, LocationIdZeroInSample) {
  ProfileBuilder b = SmallProfile();
  b.Sample({0}, {1, 1});
  ExpectError(DecodeAndReadSamples(b.Raw()),
              absl::StatusCode::kInvalidArgument,
              "unknown location id 0");
}

TEST(DecodeRejects, DanglingFunctionIdInLine) {
  ProfileBuilder b = SmallProfile();
  b.LocationOfFunctionIds({b.Function("main.main"), 99});
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "unknown function id 99");
}

TEST(DecodeRejects, FunctionIdZeroInLine) {
  ProfileBuilder b = SmallProfile();
  b.LocationOfFunctionIds({0});
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "unknown function id 0");
}

TEST(DecodeRejects, DanglingMappingIdInLocation) {
  ProfileBuilder b = SmallProfile();
  b.Mapping("/bin/app");
  b.Location({"main.main"}, 7);
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "unknown mapping id 7");
}

TEST(DecodeRejects, StringIndexBeyondTableInFunctionName) {
  ProfileBuilder b = SmallProfile();
  const int64_t size = b.proto().string_table_size();
  b.proto().mutable_function(0)->set_name(size);
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "function.name refers to string " + std::to_string(size) +
                  " beyond the string table");
}

TEST(DecodeRejects, NegativeStringIndexInFunctionName) {
  ProfileBuilder b = SmallProfile();
  b.proto().mutable_function(0)->set_name(-1);
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "refers to string -1");
}

TEST(DecodeRejects, StringIndexBeyondTableInFunctionFilename) {
  ProfileBuilder b = SmallProfile();
  b.proto().mutable_function(1)->set_filename(1000);
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "refers to string 1000");
}

TEST(DecodeRejects, StringIndexBeyondTableInLabelKey) {
  ProfileBuilder b = SmallProfile();
  b.Stack({"main.main"}, {1, 1}, {{"service", "a"}});
  b.proto().mutable_sample(2)->mutable_label(0)->set_key(1000);
  ExpectError(DecodeAndReadSamples(b.Raw()),
              absl::StatusCode::kInvalidArgument,
              "label refers to string 1000");
}

TEST(DecodeRejects, StringIndexBeyondTableInLabelValue) {
  ProfileBuilder b = SmallProfile();
  b.Stack({"main.main"}, {1, 1}, {{"service", "a"}});
  b.proto().mutable_sample(2)->mutable_label(0)->set_str(1000);
  ExpectError(DecodeAndReadSamples(b.Raw()),
              absl::StatusCode::kInvalidArgument,
              "label refers to string 1000");
}

TEST(DecodeRejects, StringIndexBeyondTableInNumericLabelUnit) {
  ProfileBuilder b = SmallProfile();
  b.Stack({"main.main"}, {1, 1});
  auto* label = b.proto().mutable_sample(2)->add_label();
  label->set_key(b.Str("bytes"));
  label->set_num(1);
  label->set_num_unit(1000);
  ExpectError(DecodeAndReadSamples(b.Raw()),
              absl::StatusCode::kInvalidArgument,
              "label refers to string 1000");
}

TEST(DecodeRejects, StringIndexBeyondTableInSampleType) {
  ProfileBuilder b = SmallProfile();
  b.proto().mutable_sample_type(1)->set_unit(1000);
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "sample_type refers to string 1000");
}

TEST(DecodeRejects, StringIndexBeyondTableInPeriodType) {
  ProfileBuilder b = SmallProfile();
  b.proto().mutable_period_type()->set_type(1000);
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "period_type refers to string 1000");
}

TEST(DecodeRejects, StringIndexBeyondTableInDefaultSampleType) {
  ProfileBuilder b = SmallProfile();
  b.proto().set_default_sample_type(1000);
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "default_sample_type refers to string 1000");
}

TEST(DecodeRejects, StringIndexBeyondTableInDropFrames) {
  ProfileBuilder b = SmallProfile();
  b.proto().set_drop_frames(1000);
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "drop_frames refers to string 1000");
}

TEST(DecodeRejects, StringIndexBeyondTableInMappingFilename) {
  ProfileBuilder b = SmallProfile();
  b.Mapping("/bin/app");
  b.proto().mutable_mapping(0)->set_filename(1000);
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "refers to string 1000");
}

TEST(DecodeRejects, StringIndexBeyondTableInComment) {
  ProfileBuilder b = SmallProfile();
  b.proto().add_comment(1000);
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "comment refers to string 1000");
}

TEST(DecodeRejects, NonEmptyFirstString) {
  ProfileBuilder b = SmallProfile();
  b.proto().set_string_table(0, "not empty");
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "string_table[0] must be the empty string");
}

TEST(DecodeRejects, EmptyStringTable) {
  ProfileBuilder b = SmallProfile();
  b.proto().clear_string_table();
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "string_table[0] must be the empty string");
}

TEST(DecodeRejects, SampleWithTooFewValues) {
  ProfileBuilder b = SmallProfile();
  b.Stack({"main.main"}, {1});
  ExpectError(DecodeAndReadSamples(b.Raw()),
              absl::StatusCode::kInvalidArgument,
              "sample has 1 values for 2 sample types");
}

TEST(DecodeRejects, SampleWithTooManyValues) {
  ProfileBuilder b = SmallProfile();
  b.Stack({"main.main"}, {1, 2, 3});
  ExpectError(DecodeAndReadSamples(b.Raw()),
              absl::StatusCode::kInvalidArgument,
              "sample has 3 values for 2 sample types");
}

TEST(DecodeRejects, DuplicateLocationId) {
  ProfileBuilder b = SmallProfile();
  b.proto().mutable_location(1)->set_id(b.proto().location(0).id());
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "duplicate location id 1");
}

TEST(DecodeRejects, DuplicateFunctionId) {
  ProfileBuilder b = SmallProfile();
  b.proto().mutable_function(2)->set_id(1);
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "duplicate function id 1");
}

TEST(DecodeRejects, DuplicateMappingId) {
  ProfileBuilder b = SmallProfile();
  b.Mapping("/bin/a");
  b.Mapping("/bin/b");
  b.proto().mutable_mapping(1)->set_id(1);
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "duplicate mapping id 1");
}

TEST(DecodeRejects, DuplicateSparseLocationId) {
  ProfileBuilder b = SmallProfile();
  constexpr uint64_t kHuge = uint64_t{1} << 50;
  b.proto().mutable_location(0)->set_id(kHuge);
  b.proto().mutable_location(1)->set_id(kHuge);
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "duplicate location id " + std::to_string(kHuge));
}

TEST(DecodeRejects, LocationIdZeroInTable) {
  ProfileBuilder b = SmallProfile();
  b.proto().mutable_location(3)->set_id(0);
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "location with reserved id 0");
}

TEST(DecodeRejects, FunctionIdZeroInTable) {
  ProfileBuilder b = SmallProfile();
  b.proto().mutable_function(0)->set_id(0);
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "function with reserved id 0");
}

TEST(DecodeRejects, MappingIdZeroInTable) {
  ProfileBuilder b = SmallProfile();
  b.Mapping("/bin/app");
  b.proto().mutable_mapping(0)->set_id(0);
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "mapping with reserved id 0");
}

TEST(DecodeRejects, NoSampleTypes) {
  ProfileBuilder b;
  b.Str("unrelated");
  ExpectError(Decode(b.Raw()).status(), absl::StatusCode::kInvalidArgument,
              "no sample types");
}

// ---------------------------------------------------------------------------
// Gunzip on its own.

TEST(Gunzip, RoundTripsArbitraryBytes) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{65535}, size_t{65536},
                   size_t{65537}, size_t{300000}}) {
    SCOPED_TRACE(n);
    const std::string data = PseudoRandomBytes(n, n + 1);
    auto out = Gunzip(Gzip(data), 1 << 20);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(*out, data);
  }
}

// The CLI reads files in chunks and sizes the buffer from the trailer's
// hint. When the trailer arrives in a chunk of its own, the buffer is full
// before it: it must not grow (doubling briefly holds three profiles).
TEST(Gunzip, ExactHintAndATrailerInItsOwnChunkDoNotGrowTheBuffer) {
  for (size_t n : {size_t{100000}, size_t{1} << 20}) {
    SCOPED_TRACE(n);
    const std::string data = PseudoRandomBytes(n, 3);
    const std::string gz = Gzip(data);
    const std::vector<absl::string_view> chunks = {
        absl::string_view(gz).substr(0, gz.size() - 8),
        absl::string_view(gz).substr(gz.size() - 8)};
    size_t next = 0;
    auto out = GunzipChunks(
        [&]() -> absl::StatusOr<absl::string_view> {
          return next < chunks.size() ? chunks[next++] : absl::string_view();
        },
        GzipSizeHint(gz.substr(gz.size() - 4)), size_t{64} << 20);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(*out, data);
    EXPECT_LT(out->capacity(), n + n / 2);
  }
}

TEST(Gunzip, OutputExactlyAtTheCapIsAcceptedOneMoreByteIsNot) {
  // Both below and above the initial 64 KiB buffer.
  for (size_t n : {size_t{1000}, size_t{100000}, size_t{1} << 20}) {
    SCOPED_TRACE(n);
    const std::string data = PseudoRandomBytes(n, 7);
    const std::string gz = Gzip(data);
    auto exact = Gunzip(gz, n);
    ASSERT_TRUE(exact.ok()) << exact.status();
    EXPECT_EQ(*exact, data);
    ExpectError(Gunzip(gz, n - 1).status(),
                absl::StatusCode::kResourceExhausted,
                "exceeds the limit of " + std::to_string(n - 1) + " bytes");
  }
}

TEST(Gunzip, CapHoldsEvenWhenTheTrailerUnderstatesTheSize) {
  const std::string data(200000, 'x');
  std::string gz = Gzip(data);
  // Claim ISIZE = 10 in the trailer (CRC still matches the real data).
  gz[gz.size() - 4] = 10;
  gz[gz.size() - 3] = gz[gz.size() - 2] = gz[gz.size() - 1] = 0;
  ExpectError(Gunzip(gz, 100000).status(),
              absl::StatusCode::kResourceExhausted, "exceeds the limit");
}

TEST(Gunzip, CorruptDeflateDataIsInvalidArgument) {
  const std::string data = PseudoRandomBytes(50000, 3);
  std::string gz = Gzip(data);
  for (size_t i = 20; i < 60; ++i) gz[i] = static_cast<char>(0xff);
  const absl::Status status = Gunzip(gz, 1 << 20).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST(Gunzip, WrongChecksumIsCorrupt) {
  std::string gz = Gzip("hello, profile");
  gz[gz.size() - 5] ^= 0x40;  // last byte of the CRC-32
  ExpectError(Gunzip(gz, 1 << 20).status(),
              absl::StatusCode::kInvalidArgument, "gzip: corrupt data");
}

TEST(Gunzip, TruncatedStreamIsInvalidArgument) {
  const std::string gz = Gzip(PseudoRandomBytes(100000, 5));
  for (size_t cut : {size_t{0}, size_t{5}, size_t{10}, gz.size() / 2,
                     gz.size() - 1}) {
    SCOPED_TRACE(cut);
    ExpectError(Gunzip(gz.substr(0, cut), 1 << 20).status(),
                absl::StatusCode::kInvalidArgument, "gzip:");
  }
  ExpectError(Gunzip(gz.substr(0, gz.size() / 2), 1 << 20).status(),
              absl::StatusCode::kInvalidArgument, "truncated");
}

TEST(Gunzip, NonGzipInputIsInvalidArgument) {
  ExpectError(Gunzip("plain text, not gzip", 1 << 20).status(),
              absl::StatusCode::kInvalidArgument, "gzip:");
}

TEST(IsGzip, RecognizesTheMagicBytesOnly) {
  EXPECT_TRUE(IsGzip(Gzip("x")));
  EXPECT_TRUE(IsGzip("\x1f\x8b"));
  EXPECT_FALSE(IsGzip("\x1f"));
  EXPECT_FALSE(IsGzip(""));
  EXPECT_FALSE(IsGzip("\x8b\x1f"));
  EXPECT_FALSE(IsGzip(SmallProfile().Raw()));
}

}  // namespace
}  // namespace profile
