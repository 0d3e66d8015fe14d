// SPDX-License-Identifier: Apache-2.0
#include "common/mls/vectors/cases.h"

namespace hearth::mls::vectors {

std::string check_tree_validation(const nlohmann::json&) { return "not implemented"; }
std::string check_tree_operations(const nlohmann::json&) { return "not implemented"; }

}  // namespace hearth::mls::vectors
