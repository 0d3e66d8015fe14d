// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the frame reader and the codec on arbitrary bytes.
// Build: cmake -DHEARTH_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ ...; run:
//   ./hearth_wire_fuzz -max_total_time=60
#include <cstddef>
#include <cstdint>

#include "common/wire/codec.h"
#include "common/wire/framing.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hearth;
  BytesView in(data, size);
  // As a frame body.
  if (auto frame = wire::decode(in)) {
    // Whatever decodes must re-encode and decode to the same value.
    auto again = wire::decode(wire::encode(*frame));
    if (!again || !(*again == *frame)) __builtin_trap();
  }
  // As a stream.
  wire::FrameReader reader(wire::kMinMaxFrameSize);
  reader.feed(in);
  for (int i = 0; i < 64; ++i) {
    auto next = reader.next();
    if (!next || !*next) break;
    (void)wire::decode(**next);
  }
  return 0;
}
