// pprof_exporter: `pprof_exporter reduce FILE...` reduces saved profiles;
// the daemon mode scrapes live targets (see README.md).
#include <iostream>
#include <string>
#include <vector>

#include "exporter/daemon.h"
#include "exporter/reduce_command.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "reduce") {
    args.erase(args.begin());
    return exporter::RunReduce(args, std::cout, std::cerr);
  }
  return exporter::RunDaemon(args);
}
