// SPDX-License-Identifier: Apache-2.0
#include "common/mls/proposals.h"

namespace hearth::mls {}  // namespace hearth::mls
