// The scheduler runs every slot of the current SlotTable on its own
// interval, on a bounded pool of worker threads.
//  - First scrapes are spread by a hash of target and kind, so many targets
//    do not all fire at once; later ones keep that phase. CPU profiles are
//    spread over their whole interval, other kinds over up to 10 s.
//  - A slot whose previous scrape is still queued or running skips its
//    turn: never two scrapes of one kind of one target at once, so never
//    two CPU profiles of one target.
//  - The pool grows with the configured load (a CPU profile holds a worker
//    for its whole window) up to kMaxWorkers, and never beyond it.
//  - A scrape may ask for a retry (a CPU profile refused because another
//    profiler runs): the slot then gets one-shot turns after a jittered,
//    doubling backoff, only as long as such a turn still ends before the
//    slot's next regular turn. Retries never move the regular turns.
#ifndef PPROF_EXPORTER_EXPORTER_SCRAPE_SCHEDULER_H_
#define PPROF_EXPORTER_EXPORTER_SCRAPE_SCHEDULER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "exporter/scrape/slot.h"

namespace exporter {

// What a scrape asks of the scheduler.
enum class AfterScrape {
  kDone,       // wait for the next regular turn
  kRetrySoon,  // the target was busy: try again before the next turn
};

// When retries happen. Retry k (1, 2, ...) waits a uniformly random time in
// [first_min, first_max] * 2^(k-1) after the previous attempt ended. A retry
// is only scheduled if it starts at least the slot's CPU window plus
// `margin` before its next regular turn, so it ends before that turn (which
// would otherwise be skipped as busy). A regular turn starts a new series.
struct RetryPolicy {
  absl::Duration first_min = absl::Seconds(5);
  absl::Duration first_max = absl::Seconds(15);
  absl::Duration margin = absl::Seconds(1);
};

class Scheduler {
 public:
  static constexpr int kMinWorkers = 4;
  static constexpr int kMaxWorkers = 256;

  // `scrape` runs on a worker thread for each due slot; it never retries.
  explicit Scheduler(std::function<void(Slot&)> scrape);
  // `scrape` may ask for retries, which follow `retry`.
  Scheduler(std::function<AfterScrape(Slot&)> scrape, RetryPolicy retry);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  ~Scheduler();  // Stop()s

  // Starts scheduling `table`, or switches to it on reload. Slots carried
  // over from the previous table keep their phase and a pending retry.
  void SetTable(std::shared_ptr<const SlotTable> table);

  // Stops the timer and the workers. Scrapes in flight finish first: the
  // caller cancels their fetches beforehand to make that quick.
  void Stop();

  // The number of worker threads, for tests and the landing page.
  int workers() const;

  // Workers needed to keep `table` on schedule: the sum over slots of the
  // time a scrape holds a worker divided by its interval, doubled for
  // headroom, within [kMinWorkers, kMaxWorkers].
  static int WorkersFor(const SlotTable& table);

  // When a new slot's first turn comes, after SetTable: its phase.
  static absl::Duration FirstDelay(const Slot& slot);

 private:
  struct Due {
    absl::Time when;
    std::shared_ptr<Slot> slot;
    bool operator>(const Due& other) const { return when > other.when; }
  };
  // A one-shot turn; `attempt` is 1 for the first retry after a regular
  // turn.
  struct Retry {
    absl::Time when;
    std::shared_ptr<Slot> slot;
    int attempt = 1;
  };
  // A turn handed to the workers: attempt 0 is a regular one.
  struct Queued {
    std::shared_ptr<Slot> slot;
    int attempt = 0;
  };

  void TimerLoop();
  void WorkerLoop();
  // After a scrape asked for a retry; `attempt` is the attempt that asked.
  void ScheduleRetry(const std::shared_ptr<Slot>& slot, int attempt);

  const std::function<AfterScrape(Slot&)> scrape_;
  const RetryPolicy retry_;
  // std::mutex rather than absl::Mutex: Debian's abseil is not built for
  // ThreadSanitizer, which then reports false races.
  mutable std::mutex mu_;
  std::condition_variable timer_wake_;   // stopping_ or table_changed_
  std::condition_variable worker_wake_;  // stopping_ or queue_ not empty
  bool stopping_ = false;                               // guarded by mu_
  bool table_changed_ = false;  // or retries_; guarded by mu_
  std::vector<Due> timers_;  // a min-heap on `when`; guarded by mu_
  // At most one per slot, few at any time: a plain vector. Guarded by mu_.
  std::vector<Retry> retries_;
  std::mt19937_64 random_;                              // guarded by mu_
  std::deque<Queued> queue_;                            // guarded by mu_
  std::vector<std::thread> workers_;                    // guarded by mu_
  std::thread timer_;
};

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_SCRAPE_SCHEDULER_H_
