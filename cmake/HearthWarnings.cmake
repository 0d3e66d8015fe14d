# SPDX-License-Identifier: Apache-2.0
# Not -Wnull-dereference: GCC 12 at -O2 reports false positives inside
# libstdc++ and CLI11 headers, which would fail every release -Werror build.
# Warnings travel as an INTERFACE target that each Hearth target links
# PRIVATE, so they never leak onto generated or third-party code.
add_library(hearth_warnings INTERFACE)
add_library(hearth::warnings ALIAS hearth_warnings)
target_compile_options(hearth_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  -Wswitch-enum)
# GCC 12 at -O2 reports -Wmismatched-new-delete for every Asio 1.18 awaitable
# frame (its class-specific sized operator delete pairs with its own operator
# new; GCC loses that through the coroutine lowering): a false positive.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(hearth_warnings INTERFACE -Wno-mismatched-new-delete)
endif()
# GCC 12 at -O2 also reports -Warray-bounds, -Wstringop-overflow and
# -Wstringop-overread inside libstdc++'s vector insert and copy (GCC bugs
# 105329, 106199, 107852): a byte string built from a string_view trips them.
# Off for GCC 12 only; the sanitizer preset checks bounds for real.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
   AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(hearth_warnings INTERFACE -Wno-array-bounds -Wno-stringop-overflow -Wno-stringop-overread)
endif()
if(HEARTH_WERROR)
  target_compile_options(hearth_warnings INTERFACE -Werror)
endif()
