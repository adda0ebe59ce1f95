#pragma once
// WanCheckpointIndex: a Wan DiT checkpoint's tensors under their original names, wherever its files
// keep them. The wrapper prefix ("model.diffusion_model." in ComfyUI files) is whatever precedes
// "patch_embedding.weight", the same name in every layout; Diffusers names are renamed; tensors
// outside the prefix (a bundled VAE or text encoder) are left out. Both the variant's detection
// (shapes only) and the load read it, so they cannot disagree on which tensor is which.

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace svgear {

class SafetensorsFile;
struct TensorEntry;

// Where a checkpoint tensor is stored.
struct StoredTensor {
  const SafetensorsFile* file = nullptr;
  std::string stored_name;
  const TensorEntry& entry() const;  // its header entry: dtype, shape
};

using WanCheckpointIndex = std::map<std::string, StoredTensor>;

// Throws WeightsError when two shards hold one tensor (a stale shard of another revision left
// beside the new ones): taking either would be a guess.
WanCheckpointIndex index_wan_checkpoint(const std::vector<std::shared_ptr<SafetensorsFile>>& files);

}  // namespace svgear
