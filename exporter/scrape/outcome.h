// What follows a scrape besides publishing its result: the log and the
// back-off of a missing kind. The log says when a slot starts failing,
// recovers, or fails differently; repeats of one failure at most every 10
// minutes; "profiler busy" (another profiler at work, no fault of the
// target) once per episode at info; a kind the target's Go lacks
// (KindSpec::not_found_means) once, in plain words, and that slot skips its
// turns for interval x (2^k - 1) after the k-th 404 in a row, at most a
// day; each warning of a successful scrape once until the warnings change.
// Only the worker holding the slot's `busy` calls it.
#ifndef PPROF_EXPORTER_EXPORTER_SCRAPE_OUTCOME_H_
#define PPROF_EXPORTER_EXPORTER_SCRAPE_OUTCOME_H_

#include "exporter/scrape/slot.h"

namespace exporter {

void RecordOutcome(Slot& slot, const ScrapeResult& before,
                   const ScrapeResult& after);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_SCRAPE_OUTCOME_H_
