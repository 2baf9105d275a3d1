// The fast reader for Sample messages, the bulk of every profile: inline
// and without CodedInputStream, for the encoding Go and pprof write
// (single-byte tags, varints, packed runs). It only accepts; anything it
// does not recognise (other encodings, malformed bytes, unknown location
// ids) makes it return false, and then wire::ParseSample (wire.h) reads the
// message and gives the definitive answer, or the error. When it returns
// true, ParseSample reads the same: decode_reduce_fuzzer checks it.
#ifndef PPROF_EXPORTER_PROFILE_SAMPLE_READER_H_
#define PPROF_EXPORTER_PROFILE_SAMPLE_READER_H_

#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/base/config.h"
#include "absl/strings/string_view.h"

namespace profile::wire {

// Reads a varint as CodedInputStream does (at most 10 bytes; bits beyond 64
// are dropped) and advances `*p` past it. False when it does not end
// before `end`.
inline bool ReadVarint(const char** p, const char* end, uint64_t* value) {
  const char* q = *p;
  uint64_t result = 0;
  for (int shift = 0; shift < 70 && q < end; shift += 7) {
    const uint64_t byte = static_cast<uint8_t>(*q++);
    result |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      *p = q;
      *value = result;
      return true;
    }
  }
  return false;
}

// ReadVarint for the sample loops: with 8 readable bytes at `*p` (before
// `readable_end`, which may lie beyond `end`), decodes a varint of up to 8
// bytes without a branch per byte; anything else goes to ReadVarint.
inline bool ReadVarintFast(const char** p, const char* end,
                           const char* readable_end, uint64_t* value) {
#ifdef ABSL_IS_LITTLE_ENDIAN  // the 8 bytes, loaded as one word, in order
  if (readable_end - *p >= 8) {
    uint64_t x;
    std::memcpy(&x, *p, 8);
    const uint64_t last_bytes = ~x & 0x8080808080808080;
    if (last_bytes != 0) {
      const int bits = __builtin_ctzll(last_bytes) + 1;  // 8 * length
      const int length = bits >> 3;
      if (length > end - *p) return false;
      x &= ~uint64_t{0} >> (64 - bits);
      // Squeeze out the continuation bits: 7-bit groups into 14, 28, 56.
      x = (x & 0x007f007f007f007f) | ((x & 0x7f007f007f007f00) >> 1);
      x = (x & 0x00003fff00003fff) | ((x & 0x3fff00003fff0000) >> 2);
      x = (x & 0x000000000fffffff) | ((x & 0x0fffffff00000000) >> 4);
      *value = x;
      *p += length;
      return true;
    }
  }
#endif
  return ReadVarint(p, end, value);
}

// Reads a Label message in its usual encoding (single-byte tags, varint
// fields) and appends its key, str and num_unit to `label_strings`; false
// on anything else.
inline bool ReadPlainLabel(const char* p, const char* end,
                           std::vector<int64_t>* label_strings) {
  uint64_t fields[5] = {};  // by field number: key, str, num, num_unit
  while (p < end) {
    const uint8_t tag = static_cast<uint8_t>(*p++);
    const int field = tag >> 3;
    if ((tag & 7) != 0 || field < 1 || field > 4) return false;
    if (!ReadVarint(&p, end, &fields[field])) return false;
  }
  label_strings->insert(label_strings->end(),
                        {static_cast<int64_t>(fields[1]),
                         static_cast<int64_t>(fields[2]),
                         static_cast<int64_t>(fields[4])});
  return true;
}

// Reads a Sample message: maps each location id through `resolve` (id ->
// dense index, or -1 if unknown) into `locations`, its values into
// `values`, and each label's key, str and num_unit string indices into
// `label_strings`. False on anything but the usual encoding, unknown ids
// and malformed bytes included, leaving the outputs unspecified. The bytes
// after `bytes` up to `readable_end` may be read (never used): most varints
// are then decoded 8 bytes at a time.
template <typename Resolve>
bool ReadPlainSample(absl::string_view bytes, const char* readable_end,
                     const Resolve& resolve,
                     std::vector<uint32_t>* locations,
                     std::vector<int64_t>* values,
                     std::vector<int64_t>* label_strings) {
  // Tags of Sample's fields 1 (location_id), 2 (value), 3 (label).
  constexpr uint8_t kLocationId = 1 << 3, kLocationIds = 1 << 3 | 2;
  constexpr uint8_t kValue = 2 << 3, kValues = 2 << 3 | 2;
  constexpr uint8_t kLabel = 3 << 3 | 2;
  locations->clear();
  values->clear();
  label_strings->clear();
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  while (p < end) {
    const uint8_t tag = static_cast<uint8_t>(*p++);
    uint64_t v = 0;
    if (tag == kLocationId || tag == kValue) {
      if (!ReadVarintFast(&p, end, readable_end, &v)) return false;
      if (tag == kValue) {
        values->push_back(static_cast<int64_t>(v));
        continue;
      }
      const int index = resolve(v);
      if (index < 0) return false;
      locations->push_back(static_cast<uint32_t>(index));
      continue;
    }
    if (tag != kLocationIds && tag != kValues && tag != kLabel) return false;
    uint64_t size = 0;
    if (!ReadVarint(&p, end, &size) ||
        size > static_cast<uint64_t>(end - p)) {
      return false;
    }
    const char* const run_end = p + size;
    if (tag == kLocationIds) {
      while (p < run_end) {
        if (!ReadVarintFast(&p, run_end, readable_end, &v)) return false;
        const int index = resolve(v);
        if (index < 0) return false;
        locations->push_back(static_cast<uint32_t>(index));
      }
    } else if (tag == kValues) {
      while (p < run_end) {
        if (!ReadVarintFast(&p, run_end, readable_end, &v)) return false;
        values->push_back(static_cast<int64_t>(v));
      }
    } else if (!ReadPlainLabel(p, run_end, label_strings)) {
      return false;
    }
    p = run_end;
  }
  return true;
}

}  // namespace profile::wire

#endif  // PPROF_EXPORTER_PROFILE_SAMPLE_READER_H_
