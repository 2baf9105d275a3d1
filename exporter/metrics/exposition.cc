#include "exporter/metrics/exposition.h"

#include <sstream>
#include <utility>

#include "prometheus/text_serializer.h"

namespace exporter {

Rendering Render(const std::vector<prometheus::MetricFamily>& families) {
  Rendering rendering;
  rendering.reserve(families.size());
  const prometheus::TextSerializer serializer;
  for (const prometheus::MetricFamily& family : families) {
    std::ostringstream out;
    serializer.Serialize(out, {family});
    std::string text = std::move(out).str();
    // The serializer writes the HELP line, then the TYPE line, then the
    // samples. (Debian's prometheus-cpp writes HELP texts unescaped; ours
    // are constants on one line.)
    size_t header_end = text.find("# TYPE ");
    header_end = header_end == std::string::npos
                     ? std::string::npos
                     : text.find('\n', header_end);
    header_end = header_end == std::string::npos ? text.size() : header_end + 1;
    RenderedFamily& rendered = rendering.emplace_back();
    rendered.name = family.name;
    rendered.header = text.substr(0, header_end);
    rendered.samples = text.substr(header_end);
  }
  return rendering;
}

void ExpositionWriter::Add(std::shared_ptr<const Rendering> rendering) {
  for (const RenderedFamily& family : *rendering) {
    auto [it, added] = block_index_.try_emplace(family.name, blocks_.size());
    if (added) {
      blocks_.push_back({family.header, {}});
      bytes_ += family.header.size();
    }
    blocks_[it->second].samples.push_back(family.samples);
    bytes_ += family.samples.size();
  }
  renderings_.push_back(std::move(rendering));
}

void ExpositionWriter::Add(
    const std::vector<prometheus::MetricFamily>& families) {
  Add(std::make_shared<const Rendering>(Render(families)));
}

std::string ExpositionWriter::Finish() && {
  std::string body;
  body.reserve(bytes_);
  for (const Block& block : blocks_) {
    body.append(block.header);
    for (std::string_view samples : block.samples) body.append(samples);
  }
  return body;
}

}  // namespace exporter
