#include "exporter/archive/kept_profiles.h"

#include "exporter/base/log.h"

namespace exporter {

void KeptProfiles::Configure(const std::optional<ArchiveConfig>& config) {
  std::lock_guard<std::mutex> lock(configure_mu_);
  auto current = archive();
  if (!config.has_value()) {
    if (current != nullptr) {
      Log(LogLevel::kInfo, "profile archive disabled",
          {{"dir", current->dir()}});
    }
    std::atomic_store(&archive_, std::shared_ptr<Archive>());
    archive_dir_.clear();
    return;
  }
  const ArchiveLimits limits{config->max_age, config->max_bytes};
  if (current != nullptr && archive_dir_ == config->dir) {
    current->SetLimits(limits);
    return;
  }
  Archive::Options options;
  options.dir = config->dir;
  options.limits = limits;
  std::atomic_store(&archive_, std::make_shared<Archive>(std::move(options)));
  archive_dir_ = config->dir;
}

void KeptProfiles::Keep(const std::string& target, profile::Kind kind,
                        absl::Time fetched, std::string bytes, size_t slots,
                        const IsConfigured& configured) {
  if (auto archive = this->archive()) {
    (void)archive->Store(target, kind, fetched, bytes);
  }
  if (!mirror_) return;
  latest_.Put(target, kind,
              std::make_shared<const RawProfile>(
                  RawProfile{std::move(bytes), fetched}));
  // More entries than slots: some target was removed; forget it.
  if (latest_.size() > slots) latest_.Retain(configured);
}

PprofResponse KeptProfiles::Serve(const std::string& raw_path,
                                  const IsConfigured& configured) const {
  auto archive = this->archive();
  PprofSources sources;
  sources.configured = configured;
  sources.latest = &latest_;
  sources.archive = archive.get();
  return ServePprof(raw_path, sources);
}

void KeptProfiles::AddMetrics(
    const std::vector<std::pair<std::string, profile::Kind>>& slots,
    FamilyBuilder& out) const {
  auto archive = this->archive();
  if (archive == nullptr) return;
  AddArchiveStats(archive->Stats(slots), &out);
}

}  // namespace exporter
