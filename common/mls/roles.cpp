// SPDX-License-Identifier: Apache-2.0
#include "common/mls/roles.h"

namespace hearth::mls {}  // namespace hearth::mls
