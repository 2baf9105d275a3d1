#include "exporter/scrape/scheduler.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "exporter/config/kinds.h"

namespace exporter {
namespace {

constexpr absl::Duration kMaxFirstDelay = absl::Seconds(10);

// How long Go samples before it answers: zero for snapshot kinds.
absl::Duration SampledWindow(const ProfileSchedule& schedule) {
  return SpecOf(schedule.kind).sampled ? absl::Seconds(schedule.cpu_seconds)
                                       : absl::ZeroDuration();
}

// How long one scrape of this slot holds a worker, roughly.
absl::Duration BusyTime(const ProfileSchedule& schedule) {
  return SampledWindow(schedule) + absl::Seconds(1);
}

}  // namespace

// A stable phase for a target and kind, from a hash of both. A CPU profile
// holds a worker for its whole window, so CPU turns are spread over the
// whole interval, as Prometheus spreads its scrapes: 1000 targets' 10 s
// profiles every 60 s then overlap ~180 at a time, within the pool, instead
// of all coming due in the first 10 s and queueing in waves. Snapshot
// kinds take milliseconds; they start within min(interval, 10 s), so a
// fresh exporter shows them soon.
absl::Duration Scheduler::FirstDelay(const Slot& slot) {
  const ProfileSchedule& schedule = slot.schedule();
  const absl::Duration window =
      SpecOf(schedule.kind).sampled
          ? schedule.interval
          : std::min(schedule.interval, kMaxFirstDelay);
  const size_t hash =
      absl::HashOf(slot.target().name, static_cast<int>(schedule.kind));
  const int64_t window_ms =
      std::max<int64_t>(1, absl::ToInt64Milliseconds(window));
  return absl::Milliseconds(static_cast<int64_t>(hash % window_ms));
}

Scheduler::Scheduler(std::function<void(Slot&)> scrape)
    : Scheduler(
          [scrape = std::move(scrape)](Slot& slot) {
            scrape(slot);
            return AfterScrape::kDone;
          },
          RetryPolicy{}) {}

Scheduler::Scheduler(std::function<AfterScrape(Slot&)> scrape,
                     RetryPolicy retry)
    : scrape_(std::move(scrape)),
      retry_(retry),
      random_(std::random_device{}()) {
  timer_ = std::thread([this] { TimerLoop(); });
}

Scheduler::~Scheduler() { Stop(); }

int Scheduler::WorkersFor(const SlotTable& table) {
  double load = 0;
  for (const auto& slot : table.slots) {
    load += absl::FDivDuration(BusyTime(slot->schedule()),
                               slot->schedule().interval);
  }
  const int wanted = static_cast<int>(std::ceil(2 * load));
  return std::clamp(wanted, kMinWorkers, kMaxWorkers);
}

int Scheduler::workers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(workers_.size());
}

void Scheduler::SetTable(std::shared_ptr<const SlotTable> table) {
  const absl::Time now = absl::Now();
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  absl::flat_hash_map<const Slot*, absl::Time> phase;
  for (const Due& due : timers_) phase[due.slot.get()] = due.when;
  timers_.clear();
  for (const auto& slot : table->slots) {
    auto kept = phase.find(slot.get());
    timers_.push_back({kept != phase.end() ? kept->second
                                           : now + FirstDelay(*slot),
                       slot});
  }
  std::make_heap(timers_.begin(), timers_.end(), std::greater<Due>());
  // A pending retry survives with its slot, like the slot's phase.
  absl::flat_hash_set<const Slot*> present;
  for (const auto& slot : table->slots) present.insert(slot.get());
  retries_.erase(std::remove_if(retries_.begin(), retries_.end(),
                                [&](const Retry& retry) {
                                  return !present.contains(retry.slot.get());
                                }),
                 retries_.end());
  table_changed_ = true;
  timer_wake_.notify_one();
  const int wanted = WorkersFor(*table);
  while (static_cast<int>(workers_.size()) < wanted) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

void Scheduler::Stop() {
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && workers_.empty() && !timer_.joinable()) return;
    stopping_ = true;
    workers.swap(workers_);
  }
  timer_wake_.notify_all();
  worker_wake_.notify_all();
  if (timer_.joinable()) timer_.join();
  for (auto& worker : workers) worker.join();
}

void Scheduler::TimerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    table_changed_ = false;
    auto woken = [this] { return stopping_ || table_changed_; };
    absl::Time next = absl::InfiniteFuture();
    if (!timers_.empty()) next = timers_.front().when;
    for (const Retry& retry : retries_) next = std::min(next, retry.when);
    if (next == absl::InfiniteFuture()) {
      timer_wake_.wait(lock, woken);
    } else {
      timer_wake_.wait_until(lock, absl::ToChronoTime(next), woken);
    }
    if (stopping_) break;
    const absl::Time now = absl::Now();
    // Retries first: one due now was meant to end before the regular turn.
    for (auto it = retries_.begin(); it != retries_.end();) {
      if (it->when > now) {
        ++it;
        continue;
      }
      // Dropped if the slot is busy: a scrape of it is running anyway.
      if (!it->slot->busy.exchange(true)) {
        queue_.push_back({it->slot, it->attempt});
        worker_wake_.notify_one();
      }
      it = retries_.erase(it);
    }
    while (!timers_.empty() && timers_.front().when <= now) {
      std::pop_heap(timers_.begin(), timers_.end(), std::greater<Due>());
      Due& due = timers_.back();
      // A regular turn ends any series of retries of its slot.
      retries_.erase(std::remove_if(retries_.begin(), retries_.end(),
                                    [&](const Retry& retry) {
                                      return retry.slot == due.slot;
                                    }),
                     retries_.end());
      // Skip the turn of a slot still busy with its previous scrape.
      if (!due.slot->busy.exchange(true)) {
        queue_.push_back({due.slot, 0});
        worker_wake_.notify_one();
      }
      const absl::Duration interval = due.slot->schedule().interval;
      due.when += interval;
      // After a long stall (suspend, clock jump) resume from now rather
      // than firing every missed turn.
      if (due.when <= now) due.when = now + interval;
      std::push_heap(timers_.begin(), timers_.end(), std::greater<Due>());
    }
  }
}

void Scheduler::WorkerLoop() {
  for (;;) {
    Queued turn;
    {
      std::unique_lock<std::mutex> lock(mu_);
      worker_wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      turn = std::move(queue_.front());
      queue_.pop_front();
    }
    if (scrape_(*turn.slot) == AfterScrape::kRetrySoon) {
      ScheduleRetry(turn.slot, turn.attempt);
    }
    turn.slot->busy.store(false);
  }
}

void Scheduler::ScheduleRetry(const std::shared_ptr<Slot>& slot, int attempt) {
  const absl::Time now = absl::Now();
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  // The next regular turn; none if a reload removed the slot.
  absl::Time next_turn = absl::InfinitePast();
  for (const Due& due : timers_) {
    if (due.slot == slot) next_turn = due.when;
  }
  if (next_turn == absl::InfinitePast()) return;
  const int64_t scale = int64_t{1} << std::min(attempt, 20);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const absl::Duration low = retry_.first_min * scale;
  const absl::Duration high = std::max(low, retry_.first_max * scale);
  const absl::Time when = now + low + (high - low) * unit(random_);
  const absl::Duration window = SampledWindow(slot->schedule());
  // Too late: the regular turn comes first and starts afresh.
  if (when + window + retry_.margin > next_turn) return;
  retries_.erase(
      std::remove_if(retries_.begin(), retries_.end(),
                     [&](const Retry& retry) { return retry.slot == slot; }),
      retries_.end());
  retries_.push_back({when, slot, attempt + 1});
  table_changed_ = true;  // the timer's next wake-up may be earlier now
  timer_wake_.notify_one();
}

}  // namespace exporter
