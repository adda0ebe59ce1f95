#include "core/text/umt5_random_weights.h"

#include <string>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "core/weights/random_weight.h"

namespace svgear {

Umt5Weights umt5_random_weights(const Umt5Config& c, uint64_t seed, at::Device device, at::ScalarType dtype) {
  at::Generator generator = device.is_cpu() ? at::detail::createCPUGenerator(seed)
                                            : at::globalContext().defaultGenerator(device).clone();
  if (!device.is_cpu()) generator.set_current_seed(seed);
  const auto options = at::TensorOptions().device(device).dtype(dtype);
  auto draw = [&](const std::string& name, at::IntArrayRef shape) { return random_weight(name, shape, generator, options); };
  Umt5Weights w;
  w.config = c;
  w.token_embedding_weight = draw("token_embedding.weight", {c.vocab, c.dim});
  for (int i = 0; i < c.num_layers; ++i) {
    const std::string p = "blocks." + std::to_string(i) + ".";
    Umt5LayerWeights b;
    b.norm1_weight = draw(p + "norm1.weight", {c.dim});
    b.attn_q_weight = draw(p + "attn.q.weight", {c.dim_attn, c.dim});
    b.attn_k_weight = draw(p + "attn.k.weight", {c.dim_attn, c.dim});
    b.attn_v_weight = draw(p + "attn.v.weight", {c.dim_attn, c.dim});
    b.attn_o_weight = draw(p + "attn.o.weight", {c.dim, c.dim_attn});
    b.norm2_weight = draw(p + "norm2.weight", {c.dim});
    b.ffn_gate_0_weight = draw(p + "ffn.gate.0.weight", {c.dim_ffn, c.dim});
    b.ffn_fc1_weight = draw(p + "ffn.fc1.weight", {c.dim_ffn, c.dim});
    b.ffn_fc2_weight = draw(p + "ffn.fc2.weight", {c.dim, c.dim_ffn});
    b.pos_embedding_weight = draw(p + "pos_embedding.embedding.weight", {c.num_buckets, c.num_heads});
    w.blocks.push_back(std::move(b));
  }
  w.norm_weight = draw("norm.weight", {c.dim});
  return w;
}

}  // namespace svgear
