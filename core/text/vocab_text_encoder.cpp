#include "core/text/vocab_text_encoder.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <unordered_set>
#include <utility>

#include <ATen/ATen.h>

#include "core/text/nearest_words.h"
#include "core/text/prompt_words.h"
#include "core/user_error.h"

namespace svgear {
namespace {

std::string join_sorted(std::vector<std::string> words) {
  std::sort(words.begin(), words.end());
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

VocabTextEncoder::VocabTextEncoder(std::vector<std::string> vocabulary, at::Tensor embedding,
                                   int max_tokens, PromptTransformerWeights transformer)
    : vocabulary_(std::move(vocabulary)), embedding_(embedding.to(at::kFloat).contiguous()),
      transformer_(std::move(transformer)), max_tokens_(max_tokens) {
  if (embedding_.dim() != 2 || embedding_.size(0) != int64_t(vocabulary_.size())) {
    throw UserError("text encoder: the token embedding must be [" +
                    std::to_string(vocabulary_.size()) + ", text_dim] for a vocabulary of " +
                    std::to_string(vocabulary_.size()) + " words");
  }
  check_vocabulary(vocabulary_);
  for (size_t i = 0; i < vocabulary_.size(); ++i) index_.emplace(vocabulary_[i], int64_t(i));
}

void VocabTextEncoder::check_vocabulary(const std::vector<std::string>& vocabulary) {
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < vocabulary.size(); ++i) {
    // A word the prompt splitter never yields ("", "a red", "Red") would sit in the "This model
    // knows:" list while no prompt could use it.
    const std::vector<std::string> read_as = split_prompt_words(vocabulary[i]);
    if (read_as.size() != 1 || read_as.front() != vocabulary[i]) {
      std::string words;
      for (const std::string& word : read_as) words += (words.empty() ? "" : ", ") + quoted_word(word);
      throw UserError("text encoder: the vocabulary's word " + quoted_word(vocabulary[i]) +
                      " can never match a prompt, whose words are lower-case runs of letters, digits, - and ' (" +
                      (read_as.empty() ? std::string("it holds none") : "it reads as " + words) + ")");
    }
    if (!seen.insert(vocabulary[i]).second) {
      throw UserError("text encoder: the word '" + vocabulary[i] + "' appears twice in the vocabulary");
    }
  }
}

int VocabTextEncoder::text_dim() const { return int(embedding_.size(1)); }

std::vector<int64_t> VocabTextEncoder::word_ids(const std::unordered_map<std::string, int64_t>& index,
                                                const std::vector<std::string>& vocabulary, int max_tokens,
                                                std::string_view prompt) {
  std::vector<int64_t> ids;
  std::vector<std::string> unknown;
  for (const auto& w : split_prompt_words(prompt)) {
    auto it = index.find(w);
    if (it == index.end()) {
      if (std::find(unknown.begin(), unknown.end(), w) == unknown.end()) unknown.push_back(w);
    } else {
      ids.push_back(it->second);
    }
  }
  if (!unknown.empty()) {
    std::string list;
    for (const auto& w : unknown) list += (list.empty() ? "" : ", ") + quoted_word(w);
    throw UserError("unknown word" + std::string(unknown.size() > 1 ? "s " : " ") + list + " in the prompt" +
                    did_you_mean(unknown, vocabulary) + ". This model knows: " + join_sorted(vocabulary));
  }
  if (int(ids.size()) > max_tokens) {
    throw UserError("the prompt has " + std::to_string(ids.size()) + " words; this model reads at most " +
                    std::to_string(max_tokens) + ": shorten it");
  }
  return ids;
}

void VocabTextEncoder::check_prompt(const std::vector<std::string>& vocabulary, int max_tokens,
                                    std::string_view prompt) {
  std::unordered_map<std::string, int64_t> index;
  for (size_t i = 0; i < vocabulary.size(); ++i) index.emplace(vocabulary[i], int64_t(i));
  (void)word_ids(index, vocabulary, max_tokens, prompt);
}

at::Tensor VocabTextEncoder::encode(std::string_view prompt) const {
  const std::vector<int64_t> ids = word_ids(index_, vocabulary_, max_tokens_, prompt);
  at::Tensor index = at::tensor(ids, at::kLong);
  const at::Tensor table_rows = embedding_.index_select(0, index);  // [L, text_dim]
  if (transformer_.empty() || ids.empty()) return table_rows;
  at::NoGradGuard no_grad;
  return prompt_transformer_forward(transformer_, table_rows.unsqueeze(0), at::Tensor()).squeeze(0);
}

}  // namespace svgear
