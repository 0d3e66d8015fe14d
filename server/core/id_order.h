// SPDX-License-Identifier: Apache-2.0
#pragma once
// A strict weak order for byte ids, for ordered containers in the relay.
//
// Why not BytesId's operator<=>: GCC 12 at -O2 inlines std::vector's
// three-way comparison into a memcmp whose bound it cannot prove and fails
// the -Werror build with a false -Wstringop-overread. A byte loop is as fast
// for 16-byte ids and keeps release builds clean.

#include <cstddef>

#include "common/types/ids.h"

namespace hearth::relay {

struct IdLess {
  template <class Tag>
  bool operator()(const BytesId<Tag>& a, const BytesId<Tag>& b) const noexcept {
    const std::size_t n = a.v.size() < b.v.size() ? a.v.size() : b.v.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (a.v[i] != b.v[i]) return a.v[i] < b.v[i];
    }
    return a.v.size() < b.v.size();
  }
};

}  // namespace hearth::relay
