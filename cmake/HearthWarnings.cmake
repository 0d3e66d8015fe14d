# SPDX-License-Identifier: Apache-2.0
# Warnings travel as an INTERFACE target that each Hearth target links
# PRIVATE, so they never leak onto generated or third-party code.
add_library(hearth_warnings INTERFACE)
add_library(hearth::warnings ALIAS hearth_warnings)
target_compile_options(hearth_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  -Wswitch-enum)
if(HEARTH_WERROR)
  target_compile_options(hearth_warnings INTERFACE -Werror)
endif()
