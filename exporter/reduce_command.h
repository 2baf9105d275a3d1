// `pprof_exporter reduce`: profile files in, the Prometheus text the daemon
// would export for them out. Useful on its own (a profile saved during an
// incident), and the way to check the exporter's numbers against
// `go tool pprof` by hand.
#ifndef PPROF_EXPORTER_EXPORTER_REDUCE_COMMAND_H_
#define PPROF_EXPORTER_EXPORTER_REDUCE_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace exporter {

// Exit codes: 0 all files reduced, 1 some file was bad (each reported as
// "FILE: reason" on `err`; the good ones are still printed), 2 usage error.
int RunReduce(const std::vector<std::string>& args, std::ostream& out,
              std::ostream& err);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_REDUCE_COMMAND_H_
