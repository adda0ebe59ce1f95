#include "core/model/wan_checkpoint_index.h"

#include <string_view>
#include <utility>

#include "core/model/wan_weight_names.h"
#include "core/weights/safetensors_file.h"

namespace svgear {

const TensorEntry& StoredTensor::entry() const { return *file->find(stored_name); }

WanCheckpointIndex index_wan_checkpoint(const std::vector<std::shared_ptr<SafetensorsFile>>& files) {
  constexpr std::string_view kAnchor = "patch_embedding.weight";
  std::string prefix;
  bool anchored = false;
  for (const auto& file : files) {
    for (const TensorEntry& entry : file->tensors()) {
      if (!anchored && entry.name.ends_with(kAnchor)) {
        prefix = entry.name.substr(0, entry.name.size() - kAnchor.size());
        anchored = true;
      }
    }
  }

  std::vector<std::pair<std::string, StoredTensor>> found;
  bool diffusers = false;
  for (const auto& file : files) {
    for (const TensorEntry& entry : file->tensors()) {
      if (!entry.name.starts_with(prefix)) continue;
      std::string local = entry.name.substr(prefix.size());
      diffusers = diffusers || wan_is_diffusers_name(local);
      found.push_back({std::move(local), StoredTensor{file.get(), entry.name}});
    }
  }
  WanCheckpointIndex index;
  for (auto& [local, stored] : found) {
    const auto [it, fresh] = index.emplace(diffusers ? wan_original_name(local) : local, stored);
    if (!fresh) {
      throw WeightsError("the tensor '" + stored.stored_name + "' is in both '" + it->second.file->path().string() +
                         "' and '" + stored.file->path().string() +
                         "': remove the shard that does not belong to this model (its index names the shards)");
    }
  }
  return index;
}

}  // namespace svgear
