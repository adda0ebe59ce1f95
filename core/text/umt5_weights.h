#pragma once
// Umt5Weights: the tensors of a umT5 encoder (Wan's text encoder) as typed members, each under the
// original Wan checkpoint key it loads from (upstream wan/modules/t5.py, T5Encoder). Loading
// accepts the original names and the Hugging Face / ComfyUI names (umt5_xxl_fp16.safetensors,
// Diffusers text_encoder/ shards), renamed once in umt5_weight_names.cpp; fp32 / bf16 / fp16 /
// fp8-e4m3 tensors, fp8 "scaled" files dequantised as weight.float() · scale_weight. The config
// comes from the tensor shapes.
//
//   auto files = open_umt5_files({"umt5_xxl_fp16.safetensors"});  // refuses pickles
//   Umt5Weights w = Umt5Weights::load(files, at::kCPU, at::kBFloat16);

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/cancel_token.h"
#include "core/weights/load_progress.h"

namespace svgear {

class SafetensorsFile;

struct Umt5Config {
  int vocab = 256384;
  int dim = 4096;
  int dim_attn = 4096;
  int dim_ffn = 10240;
  int num_heads = 64;
  int num_layers = 24;
  int num_buckets = 32;  // per-layer relative position bias (umT5: shared_pos = false)
  int max_distance = 128;  // upstream T5RelativeEmbedding's max_dist
  double eps = 1e-6;  // T5LayerNorm

  int head_dim() const { return dim_attn / num_heads; }
};

struct Umt5LayerWeights {
  // blocks.{i}.norm1.weight  [dim]
  at::Tensor norm1_weight;
  // blocks.{i}.attn.q.weight  [dim_attn, dim]
  at::Tensor attn_q_weight;
  // blocks.{i}.attn.k.weight  [dim_attn, dim]
  at::Tensor attn_k_weight;
  // blocks.{i}.attn.v.weight  [dim_attn, dim]
  at::Tensor attn_v_weight;
  // blocks.{i}.attn.o.weight  [dim, dim_attn]
  at::Tensor attn_o_weight;
  // blocks.{i}.norm2.weight  [dim]
  at::Tensor norm2_weight;
  // blocks.{i}.ffn.gate.0.weight  [dim_ffn, dim]  (GELU branch)
  at::Tensor ffn_gate_0_weight;
  // blocks.{i}.ffn.fc1.weight  [dim_ffn, dim]
  at::Tensor ffn_fc1_weight;
  // blocks.{i}.ffn.fc2.weight  [dim, dim_ffn]
  at::Tensor ffn_fc2_weight;
  // blocks.{i}.pos_embedding.embedding.weight  [num_buckets, num_heads]
  at::Tensor pos_embedding_weight;
};

struct Umt5Weights {
  Umt5Config config;
  // token_embedding.weight  [vocab, dim]
  at::Tensor token_embedding_weight;
  // blocks.{i}.*
  std::vector<Umt5LayerWeights> blocks;
  // norm.weight  [dim]
  at::Tensor norm_weight;

  // Loads every tensor onto `device` as `dtype` (one tensor at a time, so the peak is the model in
  // `dtype` plus one tensor). Throws WeightsError listing every missing tensor, every shape
  // mismatch and every tensor of an unsupported dtype at once. `cancel`, when given, is polled
  // before each tensor (a set token throws Cancelled: umT5-xxl is 11 GB); `progress` counts each
  // tensor read.
  static Umt5Weights load(const std::vector<std::shared_ptr<SafetensorsFile>>& files,
                          at::Device device, at::ScalarType dtype,
                          const CancelToken* cancel = nullptr, LoadProgress* progress = nullptr);

  // load()'s checks, from the headers alone: every tensor's name, shape and dtype (load runs them
  // before it reads a tensor).
  static void check_files(const std::vector<std::shared_ptr<SafetensorsFile>>& files);

  // The config the files' headers describe, without reading a tensor: what load() would build.
  // Throws as load() does for a header that is no umT5 encoder's.
  static Umt5Config read_config(const std::vector<std::shared_ptr<SafetensorsFile>>& files);

  // The layout for `config`: every tensor an empty meta tensor of its expected shape.
  static Umt5Weights meta(const Umt5Config& config);

  using TensorVisitor = std::function<void(const std::string& name, at::Tensor& tensor)>;
  // Calls `visit` with the original name of every tensor, in checkpoint order.
  void for_each_tensor(const TensorVisitor& visit);
};

// The encoder's files in a model folder: *t5*.safetensors in it or in text_encoders/ (ComfyUI's
// umt5_xxl_fp16.safetensors; a name with umt5 before another T5's, such as Flux's t5xxl; an fp8
// file only when no other of its kind is there), else the Diffusers shards in
// text_encoder/. Throws UserError listing what was looked for; a pickle of the encoder
// (models_t5_umt5-xxl-enc-bf16.pth) gets the pickle message of open_umt5_files.
std::vector<std::filesystem::path> find_umt5_files(const std::filesystem::path& folder);

// Opens the encoder's safetensors files; pickles (.pth, .ckpt, .bin, .pt) are refused with the name
// of the safetensors file to use instead, since loading them could run code.
std::vector<std::shared_ptr<SafetensorsFile>> open_umt5_files(
    const std::vector<std::filesystem::path>& paths);

}  // namespace svgear
