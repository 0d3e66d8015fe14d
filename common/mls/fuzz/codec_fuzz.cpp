// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the MLS codec: every decoder must either fail with a
// typed error or produce a value that re-encodes to exactly its input.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "common/mls/content.h"
#include "common/mls/wire.h"

namespace {

using namespace hearth;
using namespace hearth::mls;

template <class T>
void round_trip(BytesView in) {
  const auto decoded = decode<T>(in);
  if (!decoded) return;
  const Bytes again = encode(*decoded);
  if (again.size() != in.size() || !std::equal(again.begin(), again.end(), in.begin())) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the type, so one corpus covers every decoder.
  const BytesView in(data + 1, size - 1);
  switch (data[0] % 9) {
    case 0: round_trip<MlsMessage>(in); break;
    case 1: round_trip<RatchetTree>(in); break;
    case 2: round_trip<Commit>(in); break;
    case 3: round_trip<Proposal>(in); break;
    case 4: round_trip<GroupSecrets>(in); break;
    case 5: round_trip<AuthenticatedContent>(in); break;
    case 6: round_trip<KeyPackage>(in); break;
    case 7: round_trip<GroupInfo>(in); break;
    default: {
      const auto v = decode_varint(in);
      if (v && encode_varint(*v) != Bytes(in.begin(), in.end())) std::abort();
      break;
    }
  }
  return 0;
}
