#include "core/model/wan_checkpoint_index.h"

#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include "core/model/wan_weight_names.h"
#include "core/weights/safetensors_file.h"

namespace svgear {

const TensorEntry& StoredTensor::entry() const { return *file->find(stored_name); }

namespace {

std::string described(const std::string& prefix) {
  return prefix.empty() ? "no prefix" : "the prefix '" + prefix + "'";
}

// The prefix of the DiT's "patch_embedding.weight", the same name in every layout; of two (a file
// holding another model's DiT too), the first whose blocks sit under it. A DiT whose blocks sit under
// another prefix than its embedding was edited or merged wrong: read under either, it would lack the
// other's tensors ("no transformer blocks").
std::string dit_prefix(const std::vector<std::shared_ptr<SafetensorsFile>>& files) {
  std::vector<std::pair<std::string, const SafetensorsFile*>> embeddings;
  std::map<std::string, std::string> block_prefixes;  // prefix → its first block's name
  for (const auto& file : files) {
    for (const TensorEntry& entry : file->tensors()) {
      if (auto prefix = wan_prefix_of(entry.name, "patch_embedding.weight")) {
        embeddings.emplace_back(*prefix, file.get());
      }
      for (std::string_view first_block : {"blocks.0.self_attn.q.weight", "blocks.0.attn1.to_q.weight"}) {
        if (auto prefix = wan_prefix_of(entry.name, first_block)) block_prefixes.emplace(*prefix, entry.name);
      }
    }
  }
  for (const auto& [prefix, file] : embeddings) {
    if (block_prefixes.contains(prefix)) return prefix;
  }
  if (embeddings.empty()) return "";
  if (block_prefixes.empty()) return embeddings.front().first;  // no blocks: named so later
  const auto& [prefix, file] = embeddings.front();
  const auto& [block_prefix, block] = *block_prefixes.begin();
  throw WeightsError("'" + file->path().string() + "': its patch_embedding.weight has " + described(prefix) +
                     " and its transformer blocks have " + described(block_prefix) + " (" + block +
                     "), while a checkpoint keeps a DiT's tensors under one: the file was edited or merged "
                     "wrong, so download or convert it again");
}

}  // namespace

WanCheckpointIndex index_wan_checkpoint(const std::vector<std::shared_ptr<SafetensorsFile>>& files) {
  const std::string prefix = dit_prefix(files);
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
