// The scheduler runs every slot of the current SlotTable on its own
// interval, on a bounded pool of worker threads.
//  - First scrapes are spread over up to 10 s by a hash of target and kind,
//    so many targets do not all fire at once; later ones keep that phase.
//  - A slot whose previous scrape is still queued or running skips its
//    turn: never two scrapes of one kind of one target at once, so never
//    two CPU profiles of one target.
//  - The pool grows with the configured load (a CPU profile holds a worker
//    for its whole window) up to kMaxWorkers, and never beyond it.
#ifndef PPROF_EXPORTER_EXPORTER_SCHEDULER_H_
#define PPROF_EXPORTER_EXPORTER_SCHEDULER_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "exporter/snapshot.h"

namespace exporter {

class Scheduler {
 public:
  static constexpr int kMinWorkers = 4;
  static constexpr int kMaxWorkers = 256;

  // `scrape` runs on a worker thread for each due slot.
  explicit Scheduler(std::function<void(Slot&)> scrape);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  ~Scheduler();  // Stop()s

  // Starts scheduling `table`, or switches to it on reload. Slots carried
  // over from the previous table keep their phase.
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

 private:
  struct Due {
    absl::Time when;
    std::shared_ptr<Slot> slot;
    bool operator>(const Due& other) const { return when > other.when; }
  };

  void TimerLoop();
  void WorkerLoop();

  const std::function<void(Slot&)> scrape_;
  // std::mutex rather than absl::Mutex: Debian's abseil is not built for
  // ThreadSanitizer, which then reports false races.
  mutable std::mutex mu_;
  std::condition_variable timer_wake_;   // stopping_ or table_changed_
  std::condition_variable worker_wake_;  // stopping_ or queue_ not empty
  bool stopping_ = false;                               // guarded by mu_
  bool table_changed_ = false;                          // guarded by mu_
  std::vector<Due> timers_;  // a min-heap on `when`; guarded by mu_
  std::deque<std::shared_ptr<Slot>> queue_;             // guarded by mu_
  std::vector<std::thread> workers_;                    // guarded by mu_
  std::thread timer_;
};

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_SCHEDULER_H_
