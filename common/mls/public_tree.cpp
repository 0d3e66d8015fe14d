// SPDX-License-Identifier: Apache-2.0
#include "common/mls/public_tree.h"

namespace hearth::mls {}  // namespace hearth::mls
