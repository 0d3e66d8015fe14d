// SPDX-License-Identifier: Apache-2.0
#include "common/mls/group_state.h"

namespace hearth::mls {}  // namespace hearth::mls
