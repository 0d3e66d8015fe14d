// SPDX-License-Identifier: Apache-2.0
#pragma once
// Byte-for-byte searches of files and buffers: the tests that prove a
// database or a log holds no plaintext read the raw file and look for it.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>

#include "common/types/bytes.h"

namespace hearth::test {

/// The whole file (empty when it cannot be read).
[[nodiscard]] inline Bytes file_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Whether `needle` occurs anywhere in `hay`.
[[nodiscard]] inline bool contains(BytesView hay, BytesView needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}
[[nodiscard]] inline bool contains(BytesView hay, std::string_view needle) {
  return contains(hay, BytesView(reinterpret_cast<const std::uint8_t*>(needle.data()), needle.size()));
}

}  // namespace hearth::test
