# Imports LibTorch from the PyTorch wheel as one interface target, `svgear::torch`.
#
# We do not call find_package(Torch): its config pulls in Caffe2's CUDA/cuDNN/NVTX detection, which
# fails on a CPU-only machine and costs seconds per configure. We only need the headers, libc10 and
# libtorch_cpu (plus libtorch_cuda/libc10_cuda for SVGEAR_CUDA).
#
# Where the wheel is looked for, first hit wins:
#   -DSVGEAR_TORCH_ROOT=<dir holding lib/ and include/>   (or the same environment variable)
#   /opt/svgear-deps/torch-2.11.0/torch                    (what packaging/install-deps.sh unpacks)
#   the `torch` package of python3                         (the GPU machine's PyTorch)

set(SVGEAR_TORCH_VERSION "2.11.0")
set(SVGEAR_TORCH_ROOT "$ENV{SVGEAR_TORCH_ROOT}" CACHE PATH "LibTorch root (the wheel's torch/ folder)")
if(NOT SVGEAR_TORCH_ROOT)
  if(EXISTS "/opt/svgear-deps/torch-${SVGEAR_TORCH_VERSION}/torch/lib/libtorch_cpu.so")
    set(SVGEAR_TORCH_ROOT "/opt/svgear-deps/torch-${SVGEAR_TORCH_VERSION}/torch" CACHE PATH "" FORCE)
  else()
    execute_process(
      COMMAND python3 -c "import os, torch; print(os.path.dirname(torch.__file__))"
      OUTPUT_VARIABLE _svgear_py_torch OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(_svgear_py_torch)
      set(SVGEAR_TORCH_ROOT "${_svgear_py_torch}" CACHE PATH "" FORCE)
    endif()
  endif()
endif()
if(NOT EXISTS "${SVGEAR_TORCH_ROOT}/lib/libtorch_cpu.so")
  message(FATAL_ERROR "LibTorch not found (looked at '${SVGEAR_TORCH_ROOT}'). "
                      "Run packaging/install-deps.sh, or pass -DSVGEAR_TORCH_ROOT=<site-packages>/torch.")
endif()
file(STRINGS "${SVGEAR_TORCH_ROOT}/version.py" _svgear_torch_version_line REGEX "^__version__")
message(STATUS "LibTorch: ${SVGEAR_TORCH_ROOT} (${_svgear_torch_version_line})")
if(NOT _svgear_torch_version_line MATCHES "'${SVGEAR_TORCH_VERSION}[+']")
  message(WARNING "LibTorch at ${SVGEAR_TORCH_ROOT} is not the pinned ${SVGEAR_TORCH_VERSION} "
                  "(${_svgear_torch_version_line}): run packaging/install-deps.sh and configure afresh "
                  "(rm -rf build/<preset>), or pass -DSVGEAR_TORCH_ROOT")
endif()
# A GPU build needs the CUDA libraries LibTorch's own loads (cuBLAS, cuDNN, …), which come with the
# pip-installed wheel, not with install-deps' CPU-side unpack (cudart and CUPTI only).
if(SVGEAR_CUDA AND NOT EXISTS "${SVGEAR_TORCH_ROOT}/../nvidia/cu13/lib/libcublas.so.13")
  message(WARNING "no cuBLAS beside LibTorch (${SVGEAR_TORCH_ROOT}/../nvidia/cu13/lib): the GPU binaries "
                  "will fail to start. Point -DSVGEAR_TORCH_ROOT at a pip-installed torch ${SVGEAR_TORCH_VERSION} "
                  "(CUDA 13.0) (README, GPU build)")
endif()

set(_lib "${SVGEAR_TORCH_ROOT}/lib")
add_library(svgear_torch INTERFACE)
add_library(svgear::torch ALIAS svgear_torch)
target_include_directories(svgear_torch SYSTEM INTERFACE
  "${SVGEAR_TORCH_ROOT}/include"
  "${SVGEAR_TORCH_ROOT}/include/torch/csrc/api/include")
# --no-as-needed: the CUDA kernels of ATen register themselves from static initialisers of
# libtorch_cuda.so; nothing references its symbols directly, so as-needed linking would drop it.
target_link_libraries(svgear_torch INTERFACE "${_lib}/libtorch_cpu.so" "${_lib}/libc10.so")
if(SVGEAR_CUDA)
  target_link_libraries(svgear_torch INTERFACE
    "-Wl,--no-as-needed" "${_lib}/libtorch_cuda.so" "${_lib}/libc10_cuda.so" "-Wl,--as-needed"
    CUDA::cudart
    # The wheel's libtorch_cuda needs cuSPARSELt, cuFile and NVSHMEM from NVIDIA's wheels; a build
    # machine with only the CUDA toolkit lacks them. They are resolved at run time on the GPU machine.
    "-Wl,--allow-shlib-undefined")
endif()
# The wheel's shared libraries find each other (and cudart/cupti under ../../nvidia) by their own RPATH;
# our binaries only need the torch/lib folder.
set(SVGEAR_TORCH_LIBDIR "${_lib}")
list(APPEND CMAKE_BUILD_RPATH "${_lib}")
list(APPEND CMAKE_INSTALL_RPATH "${_lib}")
