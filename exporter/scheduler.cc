#include "exporter/scheduler.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"

namespace exporter {
namespace {

constexpr absl::Duration kMaxFirstDelay = absl::Seconds(10);

// A stable phase in [0, min(interval, 10 s)) for a target and kind.
absl::Duration FirstDelay(const Slot& slot) {
  const absl::Duration window =
      std::min(slot.schedule().interval, kMaxFirstDelay);
  const size_t hash = absl::HashOf(slot.target().name,
                                   static_cast<int>(slot.schedule().kind));
  const int64_t window_ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(window));
  return absl::Milliseconds(static_cast<int64_t>(hash % window_ms));
}

// How long one scrape of this slot holds a worker, roughly.
absl::Duration BusyTime(const ProfileSchedule& schedule) {
  return schedule.kind == profile::Kind::kCpu
             ? absl::Seconds(schedule.cpu_seconds) + absl::Seconds(1)
             : absl::Seconds(1);
}

}  // namespace

Scheduler::Scheduler(std::function<void(Slot&)> scrape)
    : scrape_(std::move(scrape)) {
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
    if (timers_.empty()) {
      timer_wake_.wait(lock, woken);
    } else {
      timer_wake_.wait_until(lock, absl::ToChronoTime(timers_.front().when),
                             woken);
    }
    if (stopping_) break;
    const absl::Time now = absl::Now();
    while (!timers_.empty() && timers_.front().when <= now) {
      std::pop_heap(timers_.begin(), timers_.end(), std::greater<Due>());
      Due& due = timers_.back();
      // Skip the turn of a slot still busy with its previous scrape.
      if (!due.slot->busy.exchange(true)) {
        queue_.push_back(due.slot);
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
    std::shared_ptr<Slot> slot;
    {
      std::unique_lock<std::mutex> lock(mu_);
      worker_wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      slot = std::move(queue_.front());
      queue_.pop_front();
    }
    scrape_(*slot);
    slot->busy.store(false);
  }
}

}  // namespace exporter
