#include "tests/text/tiny_umt5.h"

#include <fstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "tests/support/test_paths.h"

namespace svgear::test {

std::filesystem::path tiny_umt5_weights_path() {
  return testvector("wan/umt5_tiny.weights.safetensors");
}

std::vector<std::pair<std::string, at::Tensor>> tiny_umt5_state_dict() {
  auto file = SafetensorsFile::open(tiny_umt5_weights_path());
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const TensorEntry& entry : file->tensors())
    out.emplace_back(entry.name, file->load(entry.name));
  return out;
}

Umt5Weights tiny_umt5_weights(at::Device device, at::ScalarType dtype) {
  return Umt5Weights::load(open_umt5_files({tiny_umt5_weights_path()}), device, dtype);
}

TinyUmt5Io tiny_umt5_io() {
  auto io = SafetensorsFile::open(testvector("wan/umt5_tiny.io.safetensors"));
  return {io->load("ids"), io->load("mask"), io->load("out")};
}

std::filesystem::path write_tensors(
    const std::filesystem::path& dir, const std::string& name,
    const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  write_safetensors(dir / name, tensors);
  return dir / name;
}

namespace {

std::string encode_base64(const std::string& bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : bytes) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out += kAlphabet[(bits >> count) & 63];
    }
  }
  if (count > 0) out += kAlphabet[(bits << (6 - count)) & 63];
  while (out.size() % 4 != 0) out += '=';
  return out;
}

}  // namespace

std::filesystem::path write_tokenizer_json(
    const std::filesystem::path& dir, const std::vector<std::pair<std::string, double>>& pieces,
    bool byte_fallback, const std::string& precompiled_charsmap) {
  nlohmann::json vocab = nlohmann::json::array({{"<pad>", 0.0}, {"</s>", 0.0}, {"<unk>", 0.0}});
  for (const auto& [piece, score] : pieces) vocab.push_back({piece, score});
  nlohmann::json added = nlohmann::json::array();
  for (int id = 0; id < 3; ++id) {
    added.push_back({{"id", id}, {"content", vocab[id][0]}, {"special", true}});
  }
  nlohmann::json json = {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "always"}}},
      {"model",
       {{"type", "Unigram"}, {"unk_id", 2}, {"vocab", vocab}, {"byte_fallback", byte_fallback}}},
  };
  if (!precompiled_charsmap.empty()) {
    // What Hugging Face's T5 conversion writes.
    json["normalizer"] = {
        {"type", "Sequence"},
        {"normalizers",
         {{{"type", "Precompiled"}, {"precompiled_charsmap", encode_base64(precompiled_charsmap)}},
          {{"type", "Replace"}, {"pattern", {{"Regex", " {2,}"}}}, {"content", " "}}}}};
  }
  const auto path = dir / "tokenizer.json";
  std::ofstream(path) << json.dump(1);
  return path;
}

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << part << "' not in:\n" << text;
}

}  // namespace svgear::test
