// SPDX-License-Identifier: Apache-2.0
#include "common/mls/public_group.h"

namespace hearth::mls {}  // namespace hearth::mls
