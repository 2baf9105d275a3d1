// ISA-L's inflate (Gunzip, GunzipChunks) against zlib's (ZlibInflater)
// through the same driver, on every gzip file of tests/testdata and
// tests/corpus/inputs and on hand-made edge cases of the gzip format: both
// must give the same bytes, or fail with the same code and the same
// message up to zlib's reason in parentheses. The messages the corpus pins
// (tests/corpus/EXPECTED) are checked exactly.
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/deflate.h"
#include "profile/inflate.h"
#include "profile/testing/zlib_inflater.h"

namespace profile {
namespace {

std::string Runfiles(absl::string_view dir) {
  if (const char* src = std::getenv("TEST_SRCDIR")) {
    return absl::StrCat(src, "/pprof_exporter/", dir);
  }
  return std::string(dir);
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string PseudoRandomText(size_t n, uint64_t seed) {
  static constexpr char kWords[][8] = {"main.", "runtime", "(*T)", "net/",
                                       "http", ".func1", "sync", "\n"};
  std::string out;
  while (out.size() < n) {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    out += kWords[seed >> 61];
  }
  out.resize(n);
  return out;
}

// Inflates `gz` fed in chunks of `chunk` bytes (0: whole) with a decoder.
absl::StatusOr<std::string> Inflate(GzipInflater& inflater,
                                    absl::string_view gz, size_t chunk,
                                    size_t max_output) {
  if (chunk == 0) return GunzipWith(inflater, gz, max_output);
  size_t at = 0;
  return GunzipChunksWith(
      inflater,
      [&]() -> absl::StatusOr<absl::string_view> {
        const absl::string_view piece = gz.substr(at, chunk);
        at += piece.size();
        return piece;
      },
      0, max_output);
}

// ISA-L and zlib agree on `gz`, whole and in chunks; returns ISA-L's
// outcome on the whole input.
absl::StatusOr<std::string> ExpectAgreement(absl::string_view gz,
                                            size_t max_output = 64 << 20) {
  absl::StatusOr<std::string> whole;
  for (size_t chunk : {size_t{0}, size_t{1}, size_t{7}, size_t{4096}}) {
    SCOPED_TRACE(absl::StrCat("chunks of ", chunk));
    ZlibInflater zlib;
    const absl::StatusOr<std::string> want = Inflate(zlib, gz, chunk, max_output);
    const absl::StatusOr<std::string> got =
        chunk == 0 ? Gunzip(gz, max_output) : [&] {
          size_t at = 0;
          return GunzipChunks(
              [&]() -> absl::StatusOr<absl::string_view> {
                const absl::string_view piece = gz.substr(at, chunk);
                at += piece.size();
                return piece;
              },
              0, max_output);
        }();
    EXPECT_EQ(got.ok(), want.ok())
        << "isa-l: " << got.status() << "\nzlib: " << want.status();
    if (got.ok() && want.ok()) {
      EXPECT_TRUE(*got == *want) << "different bytes";
    } else if (!got.ok() && !want.ok()) {
      EXPECT_EQ(InflateErrorClass(got.status()),
                InflateErrorClass(want.status()))
          << "isa-l: " << got.status() << "\nzlib: " << want.status();
    }
    if (chunk == 0) whole = got;
  }
  return whole;
}

TEST(InflateAgreesWithZlib, OnEveryFixtureAndCorpusInput) {
  int files = 0;
  for (const char* dir : {"tests/testdata", "tests/corpus/inputs"}) {
    for (const auto& entry :
         std::filesystem::directory_iterator(Runfiles(dir))) {
      const std::string bytes = ReadFile(entry.path());
      if (!IsGzip(bytes)) continue;
      SCOPED_TRACE(entry.path().string());
      // The corpus's bombs are bounded by the cap as in Decode().
      (void)ExpectAgreement(bytes, 64 << 20);
      ++files;
    }
  }
  EXPECT_GT(files, 20);
}

// The parts of a gzip member Gzip() writes: a plain 10-byte header, the
// deflate data, CRC-32 and ISIZE.
struct Member {
  std::string deflate;
  std::string trailer;
};

Member Split(absl::string_view gz) {
  return {std::string(gz.substr(10, gz.size() - 18)),
          std::string(gz.substr(gz.size() - 8))};
}

std::string Header(uint8_t flags, absl::string_view fields) {
  std::string h = {'\x1f', '\x8b', '\x08', static_cast<char>(flags),
                   0,      0,      0,      0,
                   0,      '\x03'};
  h.append(fields.data(), fields.size());
  return h;
}

uint16_t HeaderCrc(absl::string_view header) {
  return crc32(0, reinterpret_cast<const Bytef*>(header.data()),
               header.size()) &
         0xffff;
}

TEST(InflateAgreesWithZlib, OnHeaderFields) {
  const std::string data = PseudoRandomText(100000, 1);
  const Member m = Split(Gzip(data, 6));
  const std::string extra = std::string("\x04\x00", 2) + "abcd";
  const std::string name = std::string("profile.pb", 11);
  const std::string comment = std::string("hi", 3);
  for (uint8_t flags = 0; flags < 32; ++flags) {
    SCOPED_TRACE(static_cast<int>(flags));
    std::string fields;
    if (flags & 4) fields += extra;
    if (flags & 8) fields += name;
    if (flags & 16) fields += comment;
    std::string header = Header(flags, fields);
    if (flags & 2) {
      const uint16_t crc = HeaderCrc(header);
      header += static_cast<char>(crc & 0xff);
      header += static_cast<char>(crc >> 8);
    }
    auto out = ExpectAgreement(header + m.deflate + m.trailer);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_TRUE(*out == data);
  }
}

TEST(InflateAgreesWithZlib, OnBadHeaders) {
  const Member m = Split(Gzip(PseudoRandomText(1000, 2), 6));
  std::string bad_hcrc = Header(2, "");
  bad_hcrc += "\x12\x34";
  std::string bad_method = Header(0, "");
  bad_method[2] = 7;
  std::string reserved_flag = Header(0x20, "");
  std::string bad_magic = Header(0, "");
  bad_magic[1] = '\x8c';
  for (const std::string& header :
       {bad_hcrc, bad_method, reserved_flag, bad_magic}) {
    SCOPED_TRACE(testing::PrintToString(header));
    EXPECT_FALSE(ExpectAgreement(header + m.deflate + m.trailer).ok());
  }
}

TEST(InflateAgreesWithZlib, OnMembersAndTrailingBytes) {
  const std::string a = PseudoRandomText(70000, 3);
  const std::string b = PseudoRandomText(30000, 4);
  const std::string ga = Gzip(a, 1);
  const std::string gb = Gzip(b, 9);
  auto both = ExpectAgreement(ga + gb);
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_TRUE(*both == a + b);
  auto with_empty = ExpectAgreement(ga + Gzip("", 6) + gb);
  ASSERT_TRUE(with_empty.ok()) << with_empty.status();
  EXPECT_TRUE(*with_empty == a + b);

  EXPECT_EQ(ExpectAgreement(ga + "x").status().message(),
            "gzip: unexpected bytes after the stream");
  EXPECT_EQ(ExpectAgreement(ga + std::string(8, '\0')).status().message(),
            "gzip: unexpected bytes after the stream");
  EXPECT_THAT(std::string(ExpectAgreement(ga + "\x1f").status().message()),
              testing::StartsWith("gzip: truncated stream after "));
  EXPECT_THAT(std::string(
                  ExpectAgreement(ga + "\x1f\x8c" + gb).status().message()),
              testing::StartsWith("gzip: corrupt data"));
}

TEST(InflateAgreesWithZlib, OnTrailerFaults) {
  const std::string data = PseudoRandomText(50000, 5);
  const std::string gz = Gzip(data, 6);
  std::string bad_crc = gz;
  bad_crc[gz.size() - 8] ^= 1;
  EXPECT_EQ(ExpectAgreement(bad_crc).status().message(),
            "gzip: corrupt data (incorrect data check)");
  std::string bad_size = gz;
  bad_size[gz.size() - 4] ^= 1;
  EXPECT_EQ(ExpectAgreement(bad_size).status().message(),
            "gzip: corrupt data (incorrect length check)");
  // Cut inside ISIZE after a wrong CRC: zlib checks the CRC as soon as its
  // four bytes are in (found by the fuzzer).
  for (size_t cut = 1; cut <= 4; ++cut) {
    SCOPED_TRACE(absl::StrCat("bad crc, cut ", cut));
    EXPECT_EQ(ExpectAgreement(bad_crc.substr(0, gz.size() - cut))
                  .status()
                  .message(),
              "gzip: corrupt data (incorrect data check)");
  }
  for (size_t cut = 1; cut <= 8; ++cut) {
    SCOPED_TRACE(cut);
    EXPECT_EQ(ExpectAgreement(gz.substr(0, gz.size() - cut)).status().message(),
              absl::StrCat("gzip: truncated stream after ", gz.size() - cut,
                           " bytes"));
  }
}

// A stream that ends inside a dynamic block's header: zlib already finds
// its code lengths invalid, ISA-L waits for the rest of the header and
// calls the stream truncated. Both reject it as bad data (found by the
// fuzzer).
TEST(InflateAgreesWithZlib, OnStreamCutInsideBlockHeader) {
  const std::string gz("\x1f\x8b\x08\0\0\0\0\0LLLLLL\0\0\0\0", 18);
  ZlibInflater zlib;
  EXPECT_EQ(GunzipWith(zlib, gz, 1 << 20).status().message(),
            "gzip: corrupt data (invalid code lengths set)");
  EXPECT_THAT(std::string(ExpectAgreement(gz).status().message()),
              testing::StartsWith("gzip: truncated stream after "));
}

TEST(InflateAgreesWithZlib, OnCapsAndStoredBlocks) {
  for (int level : {0, 1, 6, 9}) {
    SCOPED_TRACE(level);
    const std::string data = PseudoRandomText(300000, 6);
    const std::string gz = Gzip(data, level);
    EXPECT_TRUE(ExpectAgreement(gz, data.size()).ok());
    EXPECT_EQ(ExpectAgreement(gz, data.size() - 1).status().code(),
              absl::StatusCode::kResourceExhausted);
  }
}

TEST(InflateAgreesWithZlib, OnCorruptDeflateData) {
  const std::string gz = Gzip(PseudoRandomText(20000, 7), 6);
  for (size_t i = 10; i < gz.size() - 8; i += 97) {
    for (uint8_t flip : {0x01, 0x10, 0x80}) {
      std::string bad = gz;
      bad[i] ^= flip;
      SCOPED_TRACE(absl::StrCat(i, " ^ ", flip));
      (void)ExpectAgreement(bad);
    }
  }
}

}  // namespace
}  // namespace profile
