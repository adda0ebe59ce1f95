#include "core/text/vocab_text_encoder.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include <ATen/ATen.h>

#include "core/text/utf8.h"
#include "core/user_error.h"

namespace svgear {
namespace {

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '\'';
}

// Beyond ASCII, typographic punctuation and spaces separate words as ASCII punctuation does; any
// other character (a letter of another alphabet, an emoji) belongs to its word, so "über" stays
// one word and an emoji is a word the vocabulary lacks, said so, instead of being cut out or dropped.
bool separates_words(char32_t c) {
  return (c >= 0x80 && c <= 0xBF && c != 0xAA && c != 0xB5 && c != 0xBA) ||  // C1, NBSP, « » ¿ … (ª µ º are letters)
         (c >= 0x2000 && c <= 0x206F) ||                                      // general punctuation: “ ” — …
         (c >= 0x3000 && c <= 0x303F) ||                                      // CJK punctuation
         (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||      // fullwidth punctuation
         (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65);
}

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
  for (size_t i = 0; i < vocabulary_.size(); ++i) {
    if (!index_.emplace(vocabulary_[i], int64_t(i)).second) {
      throw UserError("text encoder: the word '" + vocabulary_[i] + "' appears twice in the vocabulary");
    }
  }
}

int VocabTextEncoder::text_dim() const { return int(embedding_.size(1)); }

std::vector<std::string> VocabTextEncoder::split_words(std::string_view prompt) {
  std::vector<std::string> words;
  std::string current;
  const auto end_word = [&] {
    if (!current.empty()) words.push_back(std::move(current));
    current.clear();
  };
  for (size_t i = 0; i < prompt.size();) {
    const char c = prompt[i];
    if (static_cast<unsigned char>(c) < 0x80) {
      if (is_word_char(c)) {
        current += char(std::tolower(static_cast<unsigned char>(c)));
      } else {
        end_word();
      }
      ++i;
      continue;
    }
    // A byte that is not UTF-8 stays in its word, so the message about the word shows it.
    const Utf8Char character = utf8_char_at(prompt, i);
    if (character.valid && separates_words(character.code_point)) {
      end_word();
    } else {
      current.append(prompt.substr(i, character.length));
    }
    i += character.length;
  }
  end_word();
  return words;
}

std::vector<int64_t> VocabTextEncoder::word_ids(const std::unordered_map<std::string, int64_t>& index,
                                                const std::vector<std::string>& vocabulary, int max_tokens,
                                                std::string_view prompt) {
  std::vector<int64_t> ids;
  std::vector<std::string> unknown;
  for (const auto& w : split_words(prompt)) {
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
    throw UserError("unknown word" + std::string(unknown.size() > 1 ? "s " : " ") + list +
                    " in the prompt. This model knows: " + join_sorted(vocabulary));
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
