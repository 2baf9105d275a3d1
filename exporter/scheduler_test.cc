#include "exporter/scheduler.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "exporter/config.h"
#include "exporter/kinds.h"
#include "exporter/snapshot.h"
#include "exporter/testing/poll.h"
#include "gtest/gtest.h"
#include "profile/kind.h"

namespace exporter {
namespace {

// Generous: CI is a loaded 2-core machine. These tests check behaviour,
// not timing precision.
constexpr absl::Duration kDeadline = absl::Seconds(30);

// Polls `done` until it holds or `timeout` passes; returns its last value.
bool WaitFor(const std::function<bool()>& done,
             absl::Duration timeout = kDeadline) {
  return testing::PollUntil(done, timeout);
}

std::shared_ptr<Slot> MakeSlot(const std::string& name, absl::Duration interval,
                               profile::Kind kind = profile::Kind::kGoroutine) {
  auto target = std::make_shared<TargetConfig>();
  target->name = name;
  target->url = absl::StrCat("http://", name, ":9099/debug/pprof/");
  ProfileSchedule schedule;
  schedule.kind = kind;
  schedule.interval = interval;
  schedule.timeout = absl::Seconds(10);
  if (kind == profile::Kind::kCpu) schedule.cpu_seconds = 10;
  target->profiles = {schedule};
  return std::make_shared<Slot>(target, schedule);
}

std::shared_ptr<const SlotTable> MakeTable(
    const std::vector<std::shared_ptr<Slot>>& slots) {
  auto table = std::make_shared<SlotTable>();
  table->slots = slots;
  return table;
}

// What the scrape callback saw, per slot. Filled in before the scheduler
// starts; only the atomics and the guarded vectors change afterwards.
struct SlotStats {
  std::atomic<int> runs{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  absl::Mutex mu;
  std::vector<absl::Time> starts ABSL_GUARDED_BY(mu);
  std::vector<absl::Time> ends ABSL_GUARDED_BY(mu);
};

class Recorder {
 public:
  // Registers a slot; call before the scheduler can run it.
  SlotStats& Track(const std::shared_ptr<Slot>& slot) {
    auto& stats = stats_[slot.get()];
    stats = std::make_unique<SlotStats>();
    return *stats;
  }

  // The scrape callback. `work` simulates the scrape's duration.
  void Scrape(Slot& slot, absl::Duration work) {
    total_.fetch_add(1);
    if (after_stop_.load()) runs_after_stop_.fetch_add(1);
    auto it = stats_.find(&slot);
    if (it == stats_.end()) {
      if (work > absl::ZeroDuration()) absl::SleepFor(work);
      return;
    }
    SlotStats& s = *it->second;
    const int now_in_flight = s.in_flight.fetch_add(1) + 1;
    int seen = s.max_in_flight.load();
    while (now_in_flight > seen &&
           !s.max_in_flight.compare_exchange_weak(seen, now_in_flight)) {
    }
    {
      absl::MutexLock lock(&s.mu);
      s.starts.push_back(absl::Now());
    }
    s.runs.fetch_add(1);
    if (work > absl::ZeroDuration()) absl::SleepFor(work);
    {
      absl::MutexLock lock(&s.mu);
      s.ends.push_back(absl::Now());
    }
    s.in_flight.fetch_sub(1);
  }

  int total() const { return total_.load(); }
  void MarkStopped() { after_stop_.store(true); }
  int runs_after_stop() const { return runs_after_stop_.load(); }

 private:
  std::map<const Slot*, std::unique_ptr<SlotStats>> stats_;
  std::atomic<int> total_{0};
  std::atomic<bool> after_stop_{false};
  std::atomic<int> runs_after_stop_{0};
};

std::vector<absl::Time> Starts(SlotStats& s) {
  absl::MutexLock lock(&s.mu);
  return s.starts;
}

TEST(SchedulerTest, EverySlotRunsRepeatedlyOnItsInterval) {
  Recorder recorder;
  const std::vector<absl::Duration> intervals = {
      absl::Milliseconds(200), absl::Milliseconds(300),
      absl::Milliseconds(500)};
  std::vector<std::shared_ptr<Slot>> slots;
  std::vector<SlotStats*> stats;
  for (size_t i = 0; i < intervals.size(); ++i) {
    slots.push_back(MakeSlot(absl::StrCat("t", i), intervals[i]));
    stats.push_back(&recorder.Track(slots.back()));
  }
  Scheduler scheduler(
      [&](Slot& slot) { recorder.Scrape(slot, absl::ZeroDuration()); });
  auto table = MakeTable(slots);
  scheduler.SetTable(table);
  // Sub-second intervals count as heavy load (a scrape is assumed to hold
  // a worker for about a second), so this is more than kMinWorkers.
  EXPECT_EQ(scheduler.workers(), Scheduler::WorkersFor(*table));

  ASSERT_TRUE(WaitFor([&] {
    return std::all_of(stats.begin(), stats.end(),
                       [](SlotStats* s) { return s->runs.load() >= 4; });
  })) << stats[0]->runs << " " << stats[1]->runs << " " << stats[2]->runs;
  scheduler.Stop();

  for (size_t i = 0; i < slots.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(stats[i]->max_in_flight.load(), 1);
    const std::vector<absl::Time> starts = Starts(*stats[i]);
    ASSERT_GE(starts.size(), 4u);
    // Runs follow the interval rather than firing back to back. Individual
    // gaps jitter under load, so check the span of all runs, loosely.
    const absl::Duration span = starts.back() - starts.front();
    EXPECT_GE(span, (starts.size() - 1) * intervals[i] / 2)
        << "runs: " << starts.size();
  }
}

TEST(SchedulerTest, SlowSlotNeverOverlapsItselfAndSkipsTurns) {
  Recorder recorder;
  const absl::Duration interval = absl::Milliseconds(200);
  const absl::Duration slow = absl::Milliseconds(700);
  auto slow_slot = MakeSlot("slow", interval);
  auto fast_slot = MakeSlot("fast", interval);
  SlotStats& slow_stats = recorder.Track(slow_slot);
  SlotStats& fast_stats = recorder.Track(fast_slot);
  constexpr int kSlowRuns = 3;
  std::atomic<int> slow_started{0};
  absl::Mutex mu;
  absl::Time slow_phase_end;  // guarded by mu

  Scheduler scheduler([&](Slot& slot) {
    if (&slot == slow_slot.get() && slow_started.fetch_add(1) < kSlowRuns) {
      recorder.Scrape(slot, slow);
      if (slow_started.load() >= kSlowRuns) {
        absl::MutexLock lock(&mu);
        slow_phase_end = std::max(slow_phase_end, absl::Now());
      }
      return;
    }
    recorder.Scrape(slot, absl::ZeroDuration());
  });
  {
    absl::MutexLock lock(&mu);
    slow_phase_end = absl::InfinitePast();
  }
  scheduler.SetTable(MakeTable({slow_slot, fast_slot}));

  // Let the slow slot finish its slow runs and then run fast a few times.
  ASSERT_TRUE(WaitFor([&] { return slow_stats.runs.load() >= kSlowRuns + 4; }))
      << slow_stats.runs;
  scheduler.Stop();

  // Never two scrapes of the slot at once, though 4 workers were free and
  // its turn came up about every 200 ms during each 700 ms scrape.
  EXPECT_EQ(slow_stats.max_in_flight.load(), 1);
  EXPECT_EQ(fast_stats.max_in_flight.load(), 1);
  // The other slot kept its schedule meanwhile: about 3 turns per slow run.
  EXPECT_GE(fast_stats.runs.load(), kSlowRuns + 4);

  // Turns are skipped, not deferred: after the slow phase the missed turns
  // (about 7) are not replayed in a burst. At most the one turn that is due
  // next (plus one late straggler) can start within half an interval.
  absl::Time end;
  {
    absl::MutexLock lock(&mu);
    end = slow_phase_end;
  }
  ASSERT_NE(end, absl::InfinitePast());
  const std::vector<absl::Time> starts = Starts(slow_stats);
  int burst = 0;
  for (absl::Time t : starts) {
    if (t >= end && t < end + interval / 2) ++burst;
  }
  EXPECT_LE(burst, 2) << "missed turns were replayed";
  // And the slow runs themselves did not overlap: each started after the
  // previous one ended.
  {
    absl::MutexLock lock(&slow_stats.mu);
    for (size_t i = 1; i < slow_stats.starts.size(); ++i) {
      EXPECT_GE(slow_stats.starts[i], slow_stats.ends[i - 1]) << i;
    }
  }
}

TEST(SchedulerTest, StopIsPromptAndFinal) {
  Recorder recorder;
  std::vector<std::shared_ptr<Slot>> slots;
  std::vector<SlotStats*> stats;
  for (int i = 0; i < 6; ++i) {
    slots.push_back(MakeSlot(absl::StrCat("t", i), absl::Milliseconds(200)));
    stats.push_back(&recorder.Track(slots.back()));
  }
  auto scheduler = std::make_unique<Scheduler>(
      [&](Slot& slot) { recorder.Scrape(slot, absl::Milliseconds(20)); });
  scheduler->SetTable(MakeTable(slots));
  ASSERT_TRUE(WaitFor([&] {
    return std::all_of(stats.begin(), stats.end(),
                       [](SlotStats* s) { return s->runs.load() >= 2; });
  }));

  const absl::Time before = absl::Now();
  scheduler->Stop();
  const absl::Duration took = absl::Now() - before;
  recorder.MarkStopped();
  EXPECT_LT(took, absl::Seconds(5));
  for (SlotStats* s : stats) EXPECT_EQ(s->in_flight.load(), 0);
  const int total = recorder.total();

  // Nothing starts afterwards, not even after a new table (ignored once
  // stopped). Watch for several intervals.
  scheduler->SetTable(MakeTable(slots));
  EXPECT_FALSE(WaitFor([&] { return recorder.runs_after_stop() > 0; },
                       absl::Seconds(1)));
  EXPECT_EQ(recorder.total(), total);
  EXPECT_EQ(recorder.runs_after_stop(), 0);

  scheduler->Stop();  // idempotent
  scheduler.reset();  // and the destructor's Stop() too
  EXPECT_EQ(recorder.runs_after_stop(), 0);
}

TEST(SchedulerTest, StopWaitsForTheScrapeInFlight) {
  absl::Notification entered, release;
  std::atomic<bool> finished{false};
  auto slot = MakeSlot("t", absl::Milliseconds(200));
  Scheduler scheduler([&](Slot&) {
    if (entered.HasBeenNotified()) return;
    entered.Notify();
    release.WaitForNotificationWithTimeout(absl::Seconds(20));
    finished.store(true);
  });
  scheduler.SetTable(MakeTable({slot}));
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(kDeadline));

  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    scheduler.Stop();
    stopped.store(true);
  });
  // Stop() must not return while the scrape still runs.
  EXPECT_FALSE(WaitFor([&] { return stopped.load(); }, absl::Milliseconds(300)));
  release.Notify();
  EXPECT_TRUE(WaitFor([&] { return stopped.load(); }, absl::Seconds(10)));
  stopper.join();
  EXPECT_TRUE(finished.load());
}

TEST(SchedulerTest, SetTableKeepsThePhaseOfCarriedOverSlots) {
  // If SetTable restarted carried-over slots at now + their first delay (a
  // hash-chosen point in [0, interval)), reloading more often than that
  // delay would starve them. With 8 slots, some are sure to have a delay
  // longer than the 10 ms between reloads below.
  Recorder recorder;
  const absl::Duration interval = absl::Milliseconds(400);
  std::vector<std::shared_ptr<Slot>> slots;
  std::vector<SlotStats*> stats;
  for (int i = 0; i < 8; ++i) {
    slots.push_back(MakeSlot(absl::StrCat("kept-", i), interval));
    stats.push_back(&recorder.Track(slots.back()));
  }
  Scheduler scheduler(
      [&](Slot& slot) { recorder.Scrape(slot, absl::ZeroDuration()); });
  scheduler.SetTable(MakeTable(slots));
  ASSERT_TRUE(WaitFor([&] {
    return std::all_of(stats.begin(), stats.end(),
                       [](SlotStats* s) { return s->runs.load() >= 1; });
  }));

  std::vector<int> before;
  for (SlotStats* s : stats) before.push_back(s->runs.load());
  // Reload every 10 ms until every slot ran 3 more times (about 1.2 s when
  // phases are kept), with a fresh table object and a new slot each time.
  const absl::Time give_up = absl::Now() + kDeadline;
  int reloads = 0;
  auto all_ran = [&] {
    for (size_t i = 0; i < stats.size(); ++i) {
      if (stats[i]->runs.load() < before[i] + 3) return false;
    }
    return true;
  };
  while (!all_ran() && absl::Now() < give_up) {
    std::vector<std::shared_ptr<Slot>> next = slots;
    next.push_back(
        MakeSlot(absl::StrCat("new-", reloads), absl::Seconds(60)));
    scheduler.SetTable(MakeTable(next));
    ++reloads;
    absl::SleepFor(absl::Milliseconds(10));
  }
  scheduler.Stop();
  for (size_t i = 0; i < stats.size(); ++i) {
    EXPECT_GE(stats[i]->runs.load(), before[i] + 3)
        << "slot " << i << " starved by " << reloads << " reloads";
    EXPECT_EQ(stats[i]->max_in_flight.load(), 1);
  }
}

TEST(SchedulerTest, SetTableStopsSchedulingRemovedSlots) {
  Recorder recorder;
  auto kept = MakeSlot("kept", absl::Milliseconds(200));
  auto removed = MakeSlot("removed", absl::Milliseconds(200));
  SlotStats& kept_stats = recorder.Track(kept);
  SlotStats& removed_stats = recorder.Track(removed);
  Scheduler scheduler(
      [&](Slot& slot) { recorder.Scrape(slot, absl::ZeroDuration()); });
  scheduler.SetTable(MakeTable({kept, removed}));
  ASSERT_TRUE(WaitFor([&] {
    return kept_stats.runs.load() >= 2 && removed_stats.runs.load() >= 2;
  }));

  scheduler.SetTable(MakeTable({kept}));
  // A turn queued just before the switch may still run; wait it out.
  ASSERT_TRUE(WaitFor([&] {
    return !removed->busy.load() && removed_stats.in_flight.load() == 0;
  }));
  const int removed_runs = removed_stats.runs.load();
  const int kept_runs = kept_stats.runs.load();
  // Five more turns of the kept slot: the removed one, on the same
  // interval, would have had as many.
  ASSERT_TRUE(WaitFor([&] { return kept_stats.runs.load() >= kept_runs + 5; }));
  scheduler.Stop();
  EXPECT_EQ(removed_stats.runs.load(), removed_runs);
}

// --- retries of busy targets ---

std::shared_ptr<Slot> MakeCpuSlot(const std::string& name,
                                  absl::Duration interval, int cpu_seconds) {
  auto target = std::make_shared<TargetConfig>();
  target->name = name;
  target->url = absl::StrCat("http://", name, ":9099/debug/pprof/");
  ProfileSchedule schedule;
  schedule.kind = profile::Kind::kCpu;
  schedule.interval = interval;
  schedule.cpu_seconds = cpu_seconds;
  schedule.timeout = absl::Seconds(cpu_seconds) * 2;
  target->profiles = {schedule};
  return std::make_shared<Slot>(target, schedule);
}

// Short backoffs for tests: 100-200 ms, then 200-400 ms, 400-800 ms, ...
constexpr RetryPolicy kFastRetry = {
    absl::Milliseconds(100), absl::Milliseconds(200), absl::Milliseconds(100)};

// Start times of the scrapes of one slot, and what to answer.
class BusyTarget {
 public:
  // Answers kRetrySoon to the first `busy_answers` scrapes (-1: always).
  explicit BusyTarget(int busy_answers) : busy_answers_(busy_answers) {}

  AfterScrape Scrape() {
    std::lock_guard<std::mutex> lock(mu_);
    starts_.push_back(absl::Now());
    const bool busy =
        busy_answers_ < 0 || static_cast<int>(starts_.size()) <= busy_answers_;
    return busy ? AfterScrape::kRetrySoon : AfterScrape::kDone;
  }
  std::vector<absl::Time> starts() {
    std::lock_guard<std::mutex> lock(mu_);
    return starts_;
  }
  size_t runs() { return starts().size(); }

 private:
  const int busy_answers_;
  // std::mutex: Debian's abseil is not built for ThreadSanitizer.
  std::mutex mu_;
  std::vector<absl::Time> starts_;  // guarded by mu_
};

std::string Offsets(const std::vector<absl::Time>& starts) {
  std::string out;
  for (absl::Time t : starts) {
    absl::StrAppend(&out, absl::FormatDuration(t - starts.front()), " ");
  }
  return out;
}

TEST(SchedulerRetryTest, BusySlotIsRetriedWithBackoffBeforeItsNextTurn) {
  const absl::Duration interval = absl::Seconds(3);
  auto slot = MakeCpuSlot("busy", interval, 1);
  BusyTarget target(3);  // busy, busy on two retries, then fine
  Scheduler scheduler([&](Slot&) { return target.Scrape(); }, kFastRetry);
  scheduler.SetTable(MakeTable({slot}));
  // The first turn, three retries, and the next regular turn.
  ASSERT_TRUE(WaitFor([&] { return target.runs() >= 5; }));
  scheduler.Stop();
  const std::vector<absl::Time> s = target.starts();
  SCOPED_TRACE(Offsets(s));
  // Each wait at least the lower end of its doubling range.
  EXPECT_GE(s[1] - s[0], absl::Milliseconds(100));
  EXPECT_GE(s[2] - s[1], absl::Milliseconds(200));
  EXPECT_GE(s[3] - s[2], absl::Milliseconds(400));
  // The successful retry started early enough to end (1 s window + 100 ms
  // margin) before the next regular turn.
  EXPECT_LE(s[3] - s[0], interval - absl::Milliseconds(1100) +
                             absl::Milliseconds(300));  // + timer latency
  // The regular turn kept its phase: one interval after the first, neither
  // earlier nor pushed back by the retries.
  EXPECT_GE(s[4] - s[0], interval - absl::Milliseconds(50));
  EXPECT_LT(s[4] - s[0], interval + absl::Milliseconds(700));
}

TEST(SchedulerRetryTest, AlwaysBusyStopsRetryingBeforeTheNextTurn) {
  const absl::Duration interval = absl::Seconds(2);
  auto slot = MakeCpuSlot("always-busy", interval, 1);
  auto other = MakeSlot("other", absl::Milliseconds(200));
  BusyTarget target(-1);
  std::atomic<int> other_runs{0};
  Scheduler scheduler(
      [&](Slot& s) {
        if (&s == other.get()) {
          other_runs.fetch_add(1);
          return AfterScrape::kDone;
        }
        return target.Scrape();
      },
      kFastRetry);
  scheduler.SetTable(MakeTable({slot, other}));
  ASSERT_TRUE(WaitFor([&] { return target.runs() >= 1; }));
  const absl::Time first = target.starts()[0];
  // Through the second regular turn and its retries.
  ASSERT_TRUE(WaitFor([&] {
    const auto s = target.starts();
    return s.back() - first >= interval + absl::Milliseconds(300);
  }));
  scheduler.Stop();
  const std::vector<absl::Time> s = target.starts();
  SCOPED_TRACE(Offsets(s));
  // Retries may start until 2 s - 1 s window - 100 ms margin = 0.9 s after
  // the turn; then nothing until the next regular turn at 2 s.
  int retries_first_series = 0;
  bool second_turn = false;
  for (size_t i = 1; i < s.size(); ++i) {
    const absl::Duration at = s[i] - first;
    if (at < absl::Milliseconds(900) + absl::Milliseconds(300)) {
      ++retries_first_series;
    } else if (at < interval - absl::Milliseconds(50)) {
      ADD_FAILURE() << "a retry at " << at << " would overlap the next turn";
    } else if (!second_turn) {
      second_turn = true;
      EXPECT_LT(at, interval + absl::Milliseconds(700)) << "turn moved";
    }
  }
  // 100-200 ms, then +200-400 ms; a third (+400-800 ms) only if early.
  EXPECT_GE(retries_first_series, 2);
  EXPECT_LE(retries_first_series, 3);
  EXPECT_TRUE(second_turn);
  // The second turn started a new series of retries.
  EXPECT_GE(s.size(), static_cast<size_t>(retries_first_series) + 3);
  // The other slot was not held up meanwhile.
  EXPECT_GE(other_runs.load(), 5);
}

TEST(SchedulerRetryTest, PendingRetrySurvivesAReloadThatKeepsItsSlot) {
  const absl::Duration interval = absl::Seconds(3);
  auto slot = MakeCpuSlot("kept", interval, 1);
  BusyTarget target(1);
  Scheduler scheduler(
      [&](Slot& s) {
        return &s == slot.get() ? target.Scrape() : AfterScrape::kDone;
      },
      RetryPolicy{absl::Milliseconds(500), absl::Milliseconds(600),
                  absl::Milliseconds(100)});
  scheduler.SetTable(MakeTable({slot}));
  // The slot is released after its retry was scheduled.
  ASSERT_TRUE(
      WaitFor([&] { return target.runs() >= 1 && !slot->busy.load(); }));
  // Reload while the retry is pending: the slot stays, another is added.
  scheduler.SetTable(MakeTable({slot, MakeSlot("added", absl::Seconds(60))}));
  ASSERT_TRUE(WaitFor([&] { return target.runs() >= 3; }));
  scheduler.Stop();
  const std::vector<absl::Time> s = target.starts();
  SCOPED_TRACE(Offsets(s));
  // The retry came 0.5-0.6 s after the first turn, and the regular turn
  // kept its phase.
  EXPECT_GE(s[1] - s[0], absl::Milliseconds(500));
  EXPECT_LT(s[1] - s[0], absl::Milliseconds(600) + absl::Milliseconds(500));
  EXPECT_GE(s[2] - s[0], interval - absl::Milliseconds(50));
  EXPECT_LT(s[2] - s[0], interval + absl::Milliseconds(700));
}

TEST(SchedulerRetryTest, PendingRetryGoesWithItsRemovedSlot) {
  auto slot = MakeCpuSlot("removed", absl::Seconds(3), 1);
  BusyTarget target(-1);
  Scheduler scheduler(
      [&](Slot& s) {
        return &s == slot.get() ? target.Scrape() : AfterScrape::kDone;
      },
      RetryPolicy{absl::Milliseconds(300), absl::Milliseconds(400),
                  absl::Milliseconds(100)});
  scheduler.SetTable(MakeTable({slot}));
  ASSERT_TRUE(
      WaitFor([&] { return target.runs() >= 1 && !slot->busy.load(); }));
  scheduler.SetTable(MakeTable({MakeSlot("other", absl::Seconds(60))}));
  // The retry was due 0.3-0.4 s after the turn.
  EXPECT_FALSE(WaitFor([&] { return target.runs() >= 2; }, absl::Seconds(1)));
  scheduler.Stop();
}

TEST(SchedulerRetryTest, NoRetryWhenTheNextTurnIsTooClose) {
  // A retry after 1-1.5 s with a 2 s CPU window and 100 ms margin would
  // end after the next turn, 3 s after this one: the turn comes first.
  auto slot = MakeCpuSlot("tight", absl::Seconds(3), 2);
  BusyTarget target(-1);
  Scheduler scheduler([&](Slot&) { return target.Scrape(); },
                      RetryPolicy{absl::Seconds(1), absl::Milliseconds(1500),
                                  absl::Milliseconds(100)});
  scheduler.SetTable(MakeTable({slot}));
  ASSERT_TRUE(WaitFor([&] { return target.runs() >= 1; }));
  EXPECT_FALSE(
      WaitFor([&] { return target.runs() >= 2; }, absl::Milliseconds(2500)));
  scheduler.Stop();
}

// A table of `targets` targets, each with all six kinds at the defaults:
// 60 s interval, CPU profiles of 10 s.
std::shared_ptr<const SlotTable> DefaultTable(int targets) {
  auto table = std::make_shared<SlotTable>();
  for (int t = 0; t < targets; ++t) {
    auto target = std::make_shared<TargetConfig>();
    target->name = absl::StrCat("target-", t);
    target->url = absl::StrCat("http://10.0.0.", t % 250, ":9099/debug/pprof/");
    for (profile::Kind kind : DefaultKinds()) {
      ProfileSchedule s;
      s.kind = kind;
      s.interval = absl::Seconds(60);
      s.cpu_seconds = kind == profile::Kind::kCpu ? kDefaultCpuSeconds : 0;
      s.timeout = ScrapeTimeout(kind, s.cpu_seconds, absl::Seconds(10));
      target->profiles.push_back(s);
    }
    for (const auto& s : target->profiles) {
      table->slots.push_back(std::make_shared<Slot>(target, s));
    }
  }
  return table;
}

TEST(SchedulerTest, WorkersForGrowsWithLoadWithinBounds) {
  const int none = Scheduler::WorkersFor(SlotTable{});
  const int one = Scheduler::WorkersFor(*DefaultTable(1));
  const int ten = Scheduler::WorkersFor(*DefaultTable(10));
  const int typical = Scheduler::WorkersFor(*DefaultTable(57));
  const int many = Scheduler::WorkersFor(*DefaultTable(200));
  const int huge = Scheduler::WorkersFor(*DefaultTable(1000));

  EXPECT_EQ(none, Scheduler::kMinWorkers);
  EXPECT_EQ(one, Scheduler::kMinWorkers);
  for (int w : {none, one, ten, typical, many, huge}) {
    EXPECT_GE(w, Scheduler::kMinWorkers);
    EXPECT_LE(w, Scheduler::kMaxWorkers);
  }
  EXPECT_LE(one, ten);
  EXPECT_LT(ten, typical);
  EXPECT_LT(typical, many);
  EXPECT_LE(many, huge);
  // 57 CPU profiles of 10 s a minute alone keep 9.5 workers busy; with the
  // other kinds and headroom the pool must exceed that, yet stay well below
  // one thread per slot (342).
  EXPECT_GE(typical, 19);
  EXPECT_LT(typical, 57 * 6);
  // 1000 targets hold about 167 workers in CPU profiles alone: doubled, it
  // is past the cap.
  EXPECT_EQ(huge, Scheduler::kMaxWorkers);

  // Shorter intervals mean more load.
  auto fast = std::make_shared<SlotTable>();
  const auto defaults = DefaultTable(57);
  for (const auto& slot : defaults->slots) {
    ProfileSchedule s = slot->schedule();
    s.interval = absl::Seconds(30);
    fast->slots.push_back(
        std::make_shared<Slot>(std::make_shared<TargetConfig>(slot->target()), s));
  }
  EXPECT_GT(Scheduler::WorkersFor(*fast), typical);
}

// 1000 targets at the defaults: if their CPU profiles all started within
// the first 10 s, 1000 windows of 10 s would need 1000 workers at once and
// run in waves behind the 256-worker cap. Spread over the interval, the
// most that overlap at any moment stays within the pool.
TEST(SchedulerTest, FirstCpuTurnsSpreadOverTheIntervalWithinThePool) {
  const auto table = DefaultTable(1000);
  std::vector<int> cpu_running(60, 0);  // per second of the first interval
  for (const auto& slot : table->slots) {
    const absl::Duration delay = Scheduler::FirstDelay(*slot);
    EXPECT_GE(delay, absl::ZeroDuration());
    EXPECT_LT(delay, slot->schedule().interval);
    // The phase is stable for the process (absl::Hash is seeded per process).
    EXPECT_EQ(delay, Scheduler::FirstDelay(*slot));
    if (slot->schedule().kind != profile::Kind::kCpu) {
      EXPECT_LT(delay, absl::Seconds(10));  // snapshots show up soon
      continue;
    }
    // The window (10 s) plus the fetch: seconds [start, start + 11),
    // wrapping into the next interval.
    const int start = static_cast<int>(absl::ToInt64Seconds(delay));
    for (int t = start; t < start + kDefaultCpuSeconds + 1; ++t) {
      ++cpu_running[t % 60];
    }
  }
  const int peak = *std::max_element(cpu_running.begin(), cpu_running.end());
  // 1000 x 11 s / 60 s = 183 on average; a uniform hash stays near it.
  EXPECT_GT(peak, 150);
  EXPECT_LT(peak, Scheduler::kMaxWorkers - 20);
}

TEST(SchedulerTest, PoolGrowsOnSetTableAndNeverPastTheCap) {
  std::atomic<int> scrapes{0};
  Scheduler scheduler([&](Slot&) { scrapes.fetch_add(1); });
  EXPECT_EQ(scheduler.workers(), 0);
  auto small = DefaultTable(1);
  scheduler.SetTable(small);
  EXPECT_EQ(scheduler.workers(), Scheduler::kMinWorkers);
  auto typical = DefaultTable(57);
  scheduler.SetTable(typical);
  EXPECT_EQ(scheduler.workers(), Scheduler::WorkersFor(*typical));
  EXPECT_GT(scheduler.workers(), Scheduler::kMinWorkers);
  scheduler.SetTable(small);
  EXPECT_GE(scheduler.workers(), Scheduler::WorkersFor(*small));
  EXPECT_LE(scheduler.workers(), Scheduler::kMaxWorkers);
  scheduler.Stop();
}

}  // namespace
}  // namespace exporter
