# Helpers that give every target of ours the same include paths, warnings and precompiled header.

add_library(svgear_base INTERFACE)
target_include_directories(svgear_base INTERFACE "${CMAKE_SOURCE_DIR}" "${CMAKE_BINARY_DIR}/generated")
target_compile_options(svgear_base INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-fPIC -Wall -Wextra -Wno-unused-parameter>)

# The ATen precompiled header: built once, reused by every torch-heavy target (saves ~15 s per file
# on two cores). Targets that reuse it must not add -D flags of their own; build facts live in the
# generated svgear/build_config.h instead.
add_library(svgear_pch STATIC "${CMAKE_SOURCE_DIR}/core/pch/pch.cpp")
target_link_libraries(svgear_pch PUBLIC svgear::torch svgear_base)
target_precompile_headers(svgear_pch PRIVATE <ATen/ATen.h>)

# svgear_torch_library(<name> <sources...>): a static library that uses LibTorch.
function(svgear_torch_library name)
  add_library(${name} STATIC ${ARGN})
  target_link_libraries(${name} PUBLIC svgear::torch svgear_base)
  target_precompile_headers(${name} REUSE_FROM svgear_pch)
endfunction()

# svgear_plain_library(<name> <sources...>): a static library without LibTorch.
function(svgear_plain_library name)
  add_library(${name} STATIC ${ARGN})
  target_link_libraries(${name} PUBLIC svgear_base)
endfunction()
