// SPDX-License-Identifier: Apache-2.0
#include "common/mls/leaf_node.h"

namespace hearth::mls {}  // namespace hearth::mls
