// Translation unit that owns the shared ATen precompiled header (see cmake/SvgearTargets.cmake).
