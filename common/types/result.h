// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace hearth {

/// The one Result alias. Each domain brings its own error type: usually an
/// `enum class` with a stable `to_string()`, or `Failure<Code>` when a detail
/// text helps the reader (the detail never holds secrets or content).
template <class T, class E>
using Result = tl::expected<T, E>;

template <class Code>
struct Failure {
  Code code;
  std::string detail;
};

/// `return fail(Code::X);` or `return fail(Failure<Code>{...});`
template <class E>
[[nodiscard]] auto fail(E&& e) {
  return tl::make_unexpected(std::forward<E>(e));
}

}  // namespace hearth
