#pragma once
// What hardware and software a run used, in words, for `svgear info` and run records.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <c10/core/Device.h>

namespace svgear {

// "NVIDIA H200 (cuda:0, sm_90, 132 SMs, 139.8 GiB)" (a GPU below sm_80 adds that the ops run their
// ATen references there) or the CPU's model name with its thread count.
std::string device_description(const c10::Device& device);
// One line per visible CUDA device; empty without CUDA.
std::vector<std::string> cuda_device_descriptions();
std::string cpu_description();
// Free bytes on a CUDA device: what the driver reports (cudaMemGetInfo) plus what LibTorch's caching
// allocator holds unused; nullopt for the CPU and in builds without CUDA.
std::optional<int64_t> free_device_memory(const c10::Device& device);
// Host memory a new allocation can get without swapping: MemAvailable of /proc/meminfo, or less
// where a memory cgroup (a container's limit) leaves less; nullopt where neither can be read.
std::optional<int64_t> available_host_memory();
// The most a decoded video may take: three quarters of available_host_memory(), so that a damaged
// or hostile file fails with a message rather than by the OOM killer; unbounded where that figure
// cannot be read.
size_t decoded_video_budget();

// What the memory cgroups this process runs in (a container's `--memory`) still let it take, from
// `cgroup_list` (/proc/self/cgroup) and the cgroup file systems under `mount` (/sys/fs/cgroup; v1
// under its memory/): each limit less what the group uses, reclaimable page cache (inactive files)
// not counted as used; the least of them, or nullopt without a limit. MemAvailable is the whole
// host's: past a container's limit the kernel's OOM killer ends the process with no message.
std::optional<int64_t> cgroup_memory_headroom(const std::filesystem::path& cgroup_list,
                                              const std::filesystem::path& mount);

}  // namespace svgear
