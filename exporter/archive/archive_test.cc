#include "exporter/archive/archive.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "exporter/config/config.h"
#include "exporter/metrics/metrics.h"
#include "exporter/archive/pprof_mirror.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/kind.h"

namespace exporter {
namespace {

namespace fs = std::filesystem;
using ::profile::Kind;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// --- names -----------------------------------------------------------------

TEST(EncodeTargetNameTest, KeepsPlainNamesAndEscapesTheRest) {
  EXPECT_EQ(EncodeTargetName("tsnsrv"), "tsnsrv");
  EXPECT_EQ(EncodeTargetName("api-1.prod_eu"), "api-1.prod_eu");
  EXPECT_EQ(EncodeTargetName("a/b"), "a%2Fb");
  EXPECT_EQ(EncodeTargetName("."), "%2E");
  EXPECT_EQ(EncodeTargetName(".."), "%2E.");
  EXPECT_EQ(EncodeTargetName(".hidden"), "%2Ehidden");
  EXPECT_EQ(EncodeTargetName("100%"), "100%25");
  EXPECT_EQ(EncodeTargetName("a b\n\x7f"), "a%20b%0A%7F");
  EXPECT_EQ(EncodeTargetName("m\xc3\xbcller"), "m%C3%BCller");
  EXPECT_EQ(EncodeTargetName(""), "%");
}

TEST(EncodeTargetNameTest, IsASafePathElementAndReversible) {
  std::mt19937 rng(42);
  std::vector<std::string> names = {"", ".", "..", "...", "/", "%", "%2F",
                                    "a/../b", std::string("\0x", 2)};
  for (int i = 0; i < 2000; ++i) {
    std::string name(rng() % 12, '\0');
    for (char& c : name) {
      // Mostly the interesting bytes, sometimes anything.
      static constexpr char kBytes[] = "./%aZ9_-\n ";
      c = rng() % 4 == 0 ? static_cast<char>(rng())
                         : kBytes[rng() % (sizeof(kBytes) - 1)];
    }
    names.push_back(name);
  }
  for (const std::string& name : names) {
    const std::string element = EncodeTargetName(name);
    SCOPED_TRACE(absl::StrCat("name=\"", name, "\" element=\"", element, "\""));
    ASSERT_FALSE(element.empty());
    EXPECT_NE(element, ".");
    EXPECT_NE(element, "..");
    EXPECT_NE(element[0], '.');
    for (char c : element) {
      EXPECT_NE(c, '/');
      EXPECT_GT(static_cast<unsigned char>(c), 0x20);
      EXPECT_LT(static_cast<unsigned char>(c), 0x7f);
    }
    EXPECT_EQ(DecodeTargetName(element), name);
  }
}

TEST(DecodeTargetNameTest, RejectsWhatTheEncoderNeverWrites) {
  for (const char* element :
       {"a/b", "..", ".", ".x", "%41", "%2f", "%2", "%zz", "a%", "", "a b"}) {
    EXPECT_EQ(DecodeTargetName(element), std::nullopt) << element;
  }
}

TEST(ArchiveFileNameTest, Rfc3339UtcMillisecondsAndBack) {
  EXPECT_EQ(ArchiveFileName(0), "1970-01-01T00:00:00.000Z.pb.gz");
  const int64_t t = absl::ToUnixMillis(absl::FromCivil(
                        absl::CivilSecond(2026, 11, 27, 13, 5, 44),
                        absl::UTCTimeZone())) +
                    123;
  EXPECT_EQ(ArchiveFileName(t), "2026-11-27T13:05:44.123Z.pb.gz");
  EXPECT_EQ(ParseArchiveFileName("2026-11-27T13:05:44.123Z.pb.gz"), t);
  for (const char* bad :
       {"2026-11-27T13:05:44Z.pb.gz", "2026-11-27T13:05:44.123Z.pb",
        "2026-11-27T13:05:44.123Z", "2026-11-27T13:05:44.1234Z.pb.gz",
        "2026-11-27 13:05:44.123Z.pb.gz", "2026-13-27T13:05:44.123Z.pb.gz",
        "2026-11-27T13:05:44.123+01:00.pb.gz",
        "../2026-11-27T13:05:44.123Z.pb.gz",
        " 2026-11-27T13:05:44.123Z.pb.gz", ".tmp-abcdef", ""}) {
    EXPECT_EQ(ParseArchiveFileName(bad), std::nullopt) << bad;
  }
}

// --- the archive on disk -----------------------------------------------------

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    root_ = fs::path(tmp != nullptr ? tmp : "/tmp") /
            absl::StrCat("archive_test_", getpid(), "_",
                         ::testing::UnitTest::GetInstance()
                             ->current_test_info()
                             ->name());
    fs::remove_all(root_);
    dir_ = (root_ / "archive").string();
  }
  void TearDown() override {
    std::error_code ignored;
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add,
                    ignored);
    fs::remove_all(root_, ignored);
  }

  Archive::Options Options(ArchiveLimits limits = {}) {
    Archive::Options options;
    options.dir = dir_;
    options.limits = limits;
    options.now = [this] { return now_; };
    options.retention_thread = false;
    return options;
  }

  static std::string ReadFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // Every regular file under the archive, relative to it.
  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    if (!fs::exists(dir_)) return out;
    for (const auto& e : fs::recursive_directory_iterator(dir_)) {
      if (e.is_regular_file()) {
        out.push_back(fs::relative(e.path(), dir_).string());
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static std::vector<std::string> Names(
      const std::vector<ArchivedProfile>& list) {
    std::vector<std::string> out;
    for (const auto& p : list) out.push_back(p.file_name);
    return out;
  }

  absl::Time At(int seconds) const {
    return base_ + absl::Seconds(seconds);
  }

  fs::path root_;
  std::string dir_;
  const absl::Time base_ = absl::FromUnixSeconds(1795784744);  // 2026-11-27
  absl::Time now_ = base_;
};

TEST_F(ArchiveTest, StoresTheExactBytesAtomically) {
  Archive archive(Options());
  const std::string bytes("\x1f\x8b\x08\0profile bytes", 17);
  ASSERT_TRUE(archive.Store("a/b", Kind::kHeap,
                            base_ + absl::Milliseconds(123), bytes)
                  .ok());
  const std::string name = ArchiveFileName(absl::ToUnixMillis(base_) + 123);
  EXPECT_EQ(name, "2026-11-27T13:05:44.123Z.pb.gz");
  EXPECT_THAT(Files(), ElementsAre("a%2Fb/heap/" + name));  // no temp file
  EXPECT_EQ(ReadFile(fs::path(dir_) / "a%2Fb" / "heap" / name), bytes);
  struct stat st;
  ASSERT_EQ(stat((fs::path(dir_) / "a%2Fb" / "heap" / name).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640);
  EXPECT_EQ(archive.Read("a/b", Kind::kHeap, name).value(), bytes);
  EXPECT_EQ(archive.total_bytes(), 17);
}

TEST_F(ArchiveTest, SameMillisecondMovesOneLater) {
  Archive archive(Options());
  ASSERT_TRUE(archive.Store("t", Kind::kCpu, At(0), "one").ok());
  ASSERT_TRUE(archive.Store("t", Kind::kCpu, At(0), "two").ok());
  const int64_t ms = absl::ToUnixMillis(At(0));
  EXPECT_THAT(Names(archive.List("t", Kind::kCpu)),
              ElementsAre(ArchiveFileName(ms + 1), ArchiveFileName(ms)));
  EXPECT_EQ(archive.Read("t", Kind::kCpu, ArchiveFileName(ms + 1)).value(),
            "two");
}

TEST_F(ArchiveTest, MaxBytesDeletesTheOldestFirstAcrossTargets) {
  Archive archive(Options({absl::Hours(24), 250}));
  const std::string hundred(100, 'x');
  ASSERT_TRUE(archive.Store("a", Kind::kHeap, At(1), hundred).ok());
  ASSERT_TRUE(archive.Store("b", Kind::kGoroutine, At(2), hundred).ok());
  EXPECT_EQ(Files().size(), 2u);
  // 300 > 250: the oldest file, a@1, goes.
  ASSERT_TRUE(archive.Store("a", Kind::kHeap, At(3), hundred).ok());
  EXPECT_THAT(Names(archive.List("a", Kind::kHeap)),
              ElementsAre(ArchiveFileName(absl::ToUnixMillis(At(3)))));
  EXPECT_EQ(archive.List("b", Kind::kGoroutine).size(), 1u);
  // Then b@2, although it is another target and kind.
  ASSERT_TRUE(archive.Store("a", Kind::kHeap, At(4), hundred).ok());
  EXPECT_THAT(archive.List("b", Kind::kGoroutine), IsEmpty());
  EXPECT_THAT(Names(archive.List("a", Kind::kHeap)),
              ElementsAre(ArchiveFileName(absl::ToUnixMillis(At(4))),
                          ArchiveFileName(absl::ToUnixMillis(At(3)))));
  EXPECT_EQ(archive.total_bytes(), 200);
  EXPECT_EQ(Files().size(), 2u);
}

TEST_F(ArchiveTest, OutOfOrderWritesStillGoOldestFirst) {
  Archive archive(Options({absl::Hours(24), 1000}));
  const std::string ten(10, 'x');
  ASSERT_TRUE(archive.Store("t", Kind::kHeap, At(5), ten).ok());
  ASSERT_TRUE(archive.Store("t", Kind::kHeap, At(3), ten).ok());  // late
  ASSERT_TRUE(archive.Store("u", Kind::kHeap, At(4), ten).ok());
  ASSERT_TRUE(archive.Store("t", Kind::kHeap, At(1), ten).ok());  // later
  auto times = [&] {
    std::vector<int> out;
    for (const auto& key : {"t", "u"}) {
      for (const auto& p : archive.List(key, Kind::kHeap)) {
        out.push_back(static_cast<int>(
            (p.unix_millis - absl::ToUnixMillis(base_)) / 1000));
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_THAT(times(), ElementsAre(1, 3, 4, 5));
  archive.SetLimits({absl::Hours(24), 30});
  EXPECT_THAT(times(), ElementsAre(3, 4, 5));
  archive.SetLimits({absl::Hours(24), 20});
  EXPECT_THAT(times(), ElementsAre(4, 5));
  archive.SetLimits({absl::Hours(24), 10});
  EXPECT_THAT(times(), ElementsAre(5));
  archive.SetLimits({absl::Hours(24), 9});
  EXPECT_THAT(times(), IsEmpty());
  EXPECT_EQ(archive.total_bytes(), 0);
  EXPECT_THAT(archive.Stats(), IsEmpty());
  EXPECT_THAT(Files(), IsEmpty());
}

TEST_F(ArchiveTest, MaxAgeDeletesOnWriteAndOnEnforce) {
  Archive archive(Options({absl::Seconds(7), int64_t{1} << 30}));
  now_ = At(0);
  ASSERT_TRUE(archive.Store("t", Kind::kHeap, At(-10), "old").ok());
  // Stored, then at once older than 7 s: deleted by the same write.
  EXPECT_THAT(archive.List("t", Kind::kHeap), IsEmpty());
  ASSERT_TRUE(archive.Store("t", Kind::kHeap, At(-5), "mid").ok());
  ASSERT_TRUE(archive.Store("t", Kind::kHeap, At(0), "new").ok());
  EXPECT_EQ(archive.List("t", Kind::kHeap).size(), 2u);
  now_ = At(3);
  archive.EnforceRetention();
  EXPECT_THAT(Names(archive.List("t", Kind::kHeap)),
              ElementsAre(ArchiveFileName(absl::ToUnixMillis(At(0)))));
  EXPECT_EQ(Files().size(), 1u);
  // Tighter limits on reload apply at once.
  archive.SetLimits({absl::Seconds(7), 2});
  EXPECT_THAT(archive.List("t", Kind::kHeap), IsEmpty());
}

TEST_F(ArchiveTest, RestartRebuildsTheIndexFromTheDirectory) {
  std::vector<ArchiveStats> before;
  {
    Archive archive(Options());
    ASSERT_TRUE(archive.Store("a/b", Kind::kHeap, At(1), "12345").ok());
    ASSERT_TRUE(archive.Store("a/b", Kind::kHeap, At(2), "123").ok());
    ASSERT_TRUE(archive.Store("..", Kind::kCpu, At(3), "1").ok());
    ASSERT_TRUE(archive.Store("m\xc3\xbc", Kind::kBlock, At(4), "12").ok());
    before = archive.Stats();
  }
  // Debris: a crash's temporary file (removed), foreign files and
  // directories (left alone, not indexed).
  std::ofstream(fs::path(dir_) / "a%2Fb" / "heap" / ".tmp-Xy12Z9") << "half";
  std::ofstream(fs::path(dir_) / "a%2Fb" / "heap" / "notes.txt") << "mine";
  std::ofstream(fs::path(dir_) / "README") << "mine";
  fs::create_directories(fs::path(dir_) / "a%2Fb" / "nokind");
  fs::create_directories(fs::path(dir_) / "not%valid" / "heap");
  fs::create_directories(fs::path(dir_) / "gone" / "heap");  // empty: removed

  Archive archive(Options());
  const std::vector<ArchiveStats> after = archive.Stats();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].target, before[i].target);
    EXPECT_EQ(after[i].kind, before[i].kind);
    EXPECT_EQ(after[i].profiles, before[i].profiles);
    EXPECT_EQ(after[i].bytes, before[i].bytes);
  }
  EXPECT_EQ(archive.total_bytes(), 11);
  EXPECT_THAT(Names(archive.List("a/b", Kind::kHeap)),
              ElementsAre(ArchiveFileName(absl::ToUnixMillis(At(2))),
                          ArchiveFileName(absl::ToUnixMillis(At(1)))));
  EXPECT_EQ(archive.Read("..", Kind::kCpu,
                         ArchiveFileName(absl::ToUnixMillis(At(3))))
                .value(),
            "1");
  EXPECT_FALSE(fs::exists(fs::path(dir_) / "a%2Fb" / "heap" / ".tmp-Xy12Z9"));
  EXPECT_TRUE(fs::exists(fs::path(dir_) / "a%2Fb" / "heap" / "notes.txt"));
  EXPECT_TRUE(fs::exists(fs::path(dir_) / "README"));
  EXPECT_FALSE(fs::exists(fs::path(dir_) / "gone"));
  // Retention at start-up, oldest first: with room for 4 bytes, a/b@1 (5)
  // and a/b@2 (3) go; ..@3 (1) and mü@4 (2) stay.
  Archive small(Options({absl::Hours(1), 4}));
  EXPECT_EQ(small.total_bytes(), 3);
  EXPECT_THAT(small.List("a/b", Kind::kHeap), IsEmpty());
  EXPECT_EQ(small.List("..", Kind::kCpu).size(), 1u);
  EXPECT_EQ(small.List("m\xc3\xbc", Kind::kBlock).size(), 1u);
}

TEST_F(ArchiveTest, ReadServesOnlyIndexedNames) {
  Archive archive(Options());
  ASSERT_TRUE(archive.Store("t", Kind::kHeap, At(0), "p").ok());
  std::ofstream(fs::path(dir_) / "t" / "heap" / "secret") << "s";
  for (const char* name :
       {"../../README", "secret", "..", "", "/etc/passwd",
        "2026-11-27T13:05:45.000Z.pb.gz",  // well-formed, not archived
        "t/heap/2026-11-27T13:05:44.000Z.pb.gz"}) {
    EXPECT_TRUE(absl::IsNotFound(archive.Read("t", Kind::kHeap, name).status()))
        << name;
  }
  EXPECT_TRUE(absl::IsNotFound(
      archive.Read("t", Kind::kCpu, ArchiveFileName(absl::ToUnixMillis(At(0))))
          .status()));
  EXPECT_TRUE(archive.Read("t", Kind::kHeap,
                           ArchiveFileName(absl::ToUnixMillis(At(0))))
                  .ok());
}

TEST_F(ArchiveTest, WriteFailuresAreCountedNotFatal) {
  // A file where the archive directory should be.
  fs::create_directories(root_);
  std::ofstream(dir_) << "in the way";
  Archive archive(Options());
  absl::Status status = archive.Store("t", Kind::kHeap, At(0), "p");
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("Not a directory"));
  ASSERT_TRUE(archive.Store("t", Kind::kHeap, At(1), "p").code() !=
              absl::StatusCode::kOk);
  const auto stats = archive.Stats({{"t", Kind::kHeap}, {"t", Kind::kCpu}});
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].kind, Kind::kCpu);
  EXPECT_EQ(stats[0].errors, 0u);
  EXPECT_EQ(stats[1].kind, Kind::kHeap);
  EXPECT_EQ(stats[1].errors, 2u);
  EXPECT_EQ(stats[1].profiles, 0);

  // Fixed: writes work again, the count stays.
  fs::remove(dir_);
  ASSERT_TRUE(archive.Store("t", Kind::kHeap, At(2), "p").ok());
  EXPECT_EQ(archive.Stats()[0].errors, 2u);
  EXPECT_EQ(archive.Stats()[0].profiles, 1);
}

TEST_F(ArchiveTest, TooLongTargetNameIsAnError) {
  Archive archive(Options());
  EXPECT_FALSE(archive.Store(std::string(100, '/'), Kind::kHeap, At(0), "p")
                   .ok());
  EXPECT_TRUE(archive.Store(std::string(255, 'x'), Kind::kHeap, At(0), "p")
                  .ok());
}

TEST_F(ArchiveTest, ReadOnlyDirectoryIsAnError) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  Archive archive(Options());
  ASSERT_TRUE(archive.Store("t", Kind::kHeap, At(0), "p").ok());
  fs::permissions(fs::path(dir_) / "t" / "heap", fs::perms(0555));
  EXPECT_FALSE(archive.Store("t", Kind::kHeap, At(1), "p").ok());
  EXPECT_EQ(archive.Stats()[0].errors, 1u);
  EXPECT_EQ(archive.Stats()[0].profiles, 1);
  fs::permissions(fs::path(dir_) / "t" / "heap", fs::perms(0755));
}

TEST_F(ArchiveTest, RetentionThreadExpiresFilesWithoutWrites) {
  std::atomic<int64_t> now_ms{absl::ToUnixMillis(At(0))};
  Archive::Options options = Options({absl::Seconds(2), int64_t{1} << 30});
  options.now = [&now_ms] { return absl::FromUnixMillis(now_ms.load()); };
  options.retention_thread = true;
  Archive archive(options);
  ASSERT_TRUE(archive.Store("t", Kind::kHeap, At(0), "p").ok());
  now_ms = absl::ToUnixMillis(At(10));
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!archive.List("t", Kind::kHeap).empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_THAT(archive.List("t", Kind::kHeap), IsEmpty());
}

// --- re-serving ------------------------------------------------------------

class ServePprofTest : public ArchiveTest {
 protected:
  PprofResponse Get(const std::string& path, const Archive* archive) {
    PprofSources sources;
    sources.configured = [this](const std::string& target, Kind) {
      return target != "removed";
    };
    sources.latest = &latest_;
    sources.archive = archive;
    return ServePprof(path, sources);
  }
  std::string Header(const PprofResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }
  LatestProfiles latest_;
};

TEST_F(ServePprofTest, LatestProfile) {
  EXPECT_EQ(Get("/debug/pprof/a%2Fb/heap", nullptr).status, 404);
  latest_.Put("a/b", Kind::kHeap,
              std::make_shared<const RawProfile>(RawProfile{"bytes", At(0)}));
  latest_.Put("removed", Kind::kHeap,
              std::make_shared<const RawProfile>(RawProfile{"bytes", At(0)}));
  const PprofResponse r = Get("/debug/pprof/a%2fb/heap", nullptr);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/octet-stream");
  EXPECT_EQ(*r.body, "bytes");
  EXPECT_EQ(Header(r, "Content-Disposition"),
            "attachment; filename=\"heap.pb.gz\"");
  EXPECT_EQ(Header(r, "Last-Modified"), "Fri, 27 Nov 2026 13:05:44 GMT");
  for (const char* path :
       {"/debug/pprof/a%2Fb/cpu", "/debug/pprof/a/b/heap",
        "/debug/pprof/a%2Fb/nonsense", "/debug/pprof/removed/heap",
        "/debug/pprof/a%2Fb/heap/", "/debug/pprof/a%2Fb", "/debug/pprof/",
        "/debug/pprof/a%2/heap", "/metrics", "/debug/pprof//heap"}) {
    EXPECT_EQ(Get(path, nullptr).status, 404) << path;
  }
  latest_.Retain([](const std::string& t, Kind) { return t != "removed"; });
  EXPECT_EQ(latest_.size(), 1u);
}

TEST_F(ServePprofTest, ArchiveListAndFiles) {
  Archive archive(Options());
  EXPECT_EQ(Get("/debug/pprof/a%2Fb/heap/archive", &archive).status, 404);
  ASSERT_TRUE(archive.Store("a/b", Kind::kHeap, At(1), "older").ok());
  ASSERT_TRUE(archive.Store("a/b", Kind::kHeap, At(2), "newer").ok());
  const std::string older = ArchiveFileName(absl::ToUnixMillis(At(1)));
  const std::string newer = ArchiveFileName(absl::ToUnixMillis(At(2)));

  const PprofResponse list = Get("/debug/pprof/a%2Fb/heap/archive", &archive);
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.content_type, "text/html; charset=utf-8");
  const size_t first = list.body->find(
      absl::StrCat("href=\"/debug/pprof/a%2Fb/heap/archive/", newer, "\""));
  const size_t second = list.body->find(
      absl::StrCat("href=\"/debug/pprof/a%2Fb/heap/archive/", older, "\""));
  ASSERT_NE(first, std::string::npos) << *list.body;
  ASSERT_NE(second, std::string::npos) << *list.body;
  EXPECT_LT(first, second);  // newest first
  EXPECT_EQ(Get("/debug/pprof/a%2Fb/heap/archive/", &archive).status, 200);

  const PprofResponse file =
      Get("/debug/pprof/a%2Fb/heap/archive/" + older, &archive);
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(*file.body, "older");
  EXPECT_EQ(Header(file, "Content-Disposition"),
            absl::StrCat("attachment; filename=\"heap-", older, "\""));

  // Removed targets' files are still served from the archive.
  ASSERT_TRUE(archive.Store("removed", Kind::kHeap, At(1), "r").ok());
  EXPECT_EQ(Get("/debug/pprof/removed/heap/archive/" + older, &archive).status,
            200);

  for (const std::string& path : std::vector<std::string>{
           "/debug/pprof/a%2Fb/heap/archive/..%2F..%2F..%2Fetc%2Fpasswd",
           "/debug/pprof/a%2Fb/heap/archive/../../a%2Fb/heap/" + older,
           "/debug/pprof/a%2Fb/heap/archive/" + older + "/x",
           "/debug/pprof/a%2Fb/cpu/archive/" + older,
           "/debug/pprof/%2E%2E/heap/archive/" + older,
           "/debug/pprof/a%2Fb/heap/archive/.tmp-abcdef",
           "/debug/pprof/a%2Fb/heap/archiv/" + older}) {
    EXPECT_EQ(Get(path, &archive).status, 404) << path;
  }
  EXPECT_EQ(Get("/debug/pprof/a%2Fb/heap/archive", nullptr).status, 404);
}

TEST(EscapePathSegmentTest, RoundTrip) {
  EXPECT_EQ(EscapePathSegment("a/b c%~._-"), "a%2Fb%20c%25~._-");
  EXPECT_EQ(PercentDecode("a%2Fb%20c%25~._-"), "a/b c%~._-");
  EXPECT_EQ(PercentDecode("%zz"), std::nullopt);
  EXPECT_EQ(MirrorPath("a/b", Kind::kCpu), "/debug/pprof/a%2Fb/cpu");
  EXPECT_EQ(ArchiveListPath("x", Kind::kAllocs),
            "/debug/pprof/x/allocs/archive");
}

// --- config and metrics ------------------------------------------------------

TEST(ArchiveConfigTest, ParsesTheBlock) {
  auto config = ParseConfig(
      "global:\n"
      "  archive: {dir: /var/lib/pprof-exporter, max_age: 7d, "
      "max_bytes: 10GiB}\n",
      "c.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->archive.has_value());
  EXPECT_EQ(config->archive->dir, "/var/lib/pprof-exporter");
  EXPECT_EQ(config->archive->max_age, absl::Hours(24 * 7));
  EXPECT_EQ(config->archive->max_bytes, int64_t{10} << 30);

  EXPECT_FALSE(ParseConfig("global: {}\n", "c.yml")->archive.has_value());
  auto relative = ParseConfig("global: {archive: {dir: arch}}\n",
                              "/etc/pprof/c.yml");
  ASSERT_TRUE(relative.ok());
  EXPECT_EQ(relative->archive->dir, "/etc/pprof/arch");
  EXPECT_EQ(relative->archive->max_age, absl::Hours(24 * 7));  // defaults
  EXPECT_EQ(relative->archive->max_bytes, int64_t{10} << 30);

  const std::pair<const char*, int64_t> sizes[] = {
      {"1", 1},          {"4096", 4096},          {"5B", 5},
      {"3KiB", 3 << 10}, {"512MiB", 512LL << 20}, {"2TiB", 2LL << 40}};
  for (const auto& [text, want] : sizes) {
    auto parsed = ParseConfig(
        absl::StrCat("global: {archive: {dir: /a, max_bytes: ", text, "}}\n"),
        "c.yml");
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status();
    EXPECT_EQ(parsed->archive->max_bytes, want) << text;
  }
}

TEST(ArchiveConfigTest, ErrorsNameFileLineAndKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"global:\n  archive: {max_age: 1d}\n",
       "c.yml:2: global.archive: dir is required"},
      {"global:\n  archive:\n    dir: /a\n    max_bytes: 10GB\n",
       "c.yml:4: global.archive.max_bytes: bad byte size \"10GB\""},
      {"global:\n  archive:\n    dir: /a\n    max_bytes: 0\n",
       "c.yml:4: global.archive.max_bytes: must be greater than 0"},
      {"global:\n  archive:\n    dir: /a\n    max_bytes: -1\n",
       "c.yml:4: global.archive.max_bytes: bad byte size"},
      {"global:\n  archive:\n    dir: /a\n    max_bytes: 99999999999TiB\n",
       "c.yml:4: global.archive.max_bytes: bad byte size"},
      {"global:\n  archive:\n    dir: /a\n    max_age: 7 days\n",
       "c.yml:4: global.archive.max_age: bad duration"},
      {"global:\n  archive:\n    dir: /a\n    max_age: 0s\n",
       "c.yml:4: global.archive.max_age: must be greater than 0"},
      {"global:\n  archive:\n    dir: /a\n    maxage: 1d\n",
       "c.yml:4: global.archive.maxage: unknown key"},
      {"global:\n  archive:\n    dir: ''\n",
       "c.yml:3: global.archive.dir: must not be empty"},
      {"global:\n  archive: /var/lib/x\n",
       "c.yml:2: global.archive: expected a map"},
  };
  for (const auto& [yaml, want] : cases) {
    auto config = ParseConfig(yaml, "c.yml");
    ASSERT_FALSE(config.ok()) << yaml;
    EXPECT_THAT(std::string(config.status().message()), HasSubstr(want));
  }
}

TEST(ArchiveMetricsTest, FamiliesAndLabels) {
  FamilyBuilder families;
  AddArchiveStats({{"a\"b", Kind::kHeap, 3, 300, 2}}, &families);
  const std::string text = SerializeText(std::move(families).Build());
  EXPECT_THAT(text, HasSubstr("# TYPE pprof_archive_profiles gauge\n"
                              "pprof_archive_profiles{target=\"a\\\"b\","
                              "profile=\"heap\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("pprof_archive_bytes{target=\"a\\\"b\","
                              "profile=\"heap\"} 300\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE pprof_archive_errors_total counter\n"
                              "pprof_archive_errors_total{target=\"a\\\"b\","
                              "profile=\"heap\"} 2\n"));
}

}  // namespace
}  // namespace exporter
