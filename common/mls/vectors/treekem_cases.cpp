// SPDX-License-Identifier: Apache-2.0
#include "common/mls/vectors/cases.h"

namespace hearth::mls::vectors {

std::string check_treekem(const nlohmann::json&) { return "not implemented"; }

}  // namespace hearth::mls::vectors
