#pragma once
// One candidate spiece.model through everything the studio does with such a file, for the fuzzer
// (sentencepiece_model_fuzz.cpp) and for the replay of its regression inputs in text_tests
// (tests/text/sentencepiece_fuzz_corpus_test.cpp):
//   - load_sentencepiece_model (our protobuf and charsmap checks, then libsentencepiece), then
//     encode and decode a few fixed prompts with it;
//   - every precompiled_charsmap of its normalizer specs through our PrecompiledCharsmap (what
//     tokenizer.json's "Precompiled" normalizer runs), normalising the same prompts;
//   - its pieces as a UnigramModel (the Hugging Face conversion of spiece.model to tokenizer.json:
//     piece, score, special or not, unk), encoding and decoding the prompts with our Viterbi.
// Each stage must succeed or throw UserError; a failure reports the first UserError after trying
// them all, so a refused model still drives the others. Without LibTorch: no Umt5Tokenizer.

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/text/precompiled_charsmap.h"
#include "core/text/protobuf_fields.h"
#include "core/text/sentencepiece_model.h"
#include "core/text/unigram_model.h"
#include "core/user_error.h"

namespace svgear::fuzz {

// Prompts for every model: empty, plain, whitespace, full-width (charsmap hits), odd Unicode,
// invalid UTF-8 (stray continuation bytes, truncated sequences, overlong and surrogate forms),
// NUL, literal "▁" and special-token text, and a long word for the Viterbi.
inline const std::vector<std::string>& spiece_fuzz_prompts() {
  static const std::vector<std::string> prompts = [] {
    // A long word: 300 "a", a space, 100 stray 0xE2 lead bytes, "▁" (appended: GCC 12 warns of
    // out-of-bounds reads in the equivalent chain of string + string).
    std::string long_word(300, 'a');
    long_word += ' ';
    long_word.append(100, '\xE2');
    long_word += "\xE2\x96\x81";
    return std::vector<std::string>{
        "",
        "A red cat walks on the grass.",
        "  \t\n  ",
        "\xEF\xBC\xA1\xEF\xBD\x92\xEF\xBD\x85\xEF\xBD\x84 cat\xEF\xBC\x8C",  // "Ａｒｅｄ cat，"
        "na\xC3\xAFve caf\xC3\xA9 \xE2\x91\xA0 \xEF\xAC\x81 e\xCC\x81",  // "naïve café ① ﬁ é"
        "\xF0\x9F\x98\x80\xE4\xB8\xAD\xE6\x96\x87\xD8\xB9\xD8\xB1\xD8\xA8",  // "😀中文عرب"
        "\x80\xBF\xFF\xFE\xC3\xE2\x82\xF0\x9F\x98",  // invalid UTF-8
        "\xC0\xAF\xED\xA0\x80\xF4\x90\x80\x80",  // overlong '/', a surrogate, past U+10FFFF
        std::string("a\0b", 3),
        "\xE2\x96\x81\xE2\x96\x81x\xE2\x96\x81",  // "▁▁x▁"
        "</s><unk><pad>",
        long_word,
    };
  }();
  return prompts;
}

namespace detail {

// ModelProto → UnigramModel, as Hugging Face's converter does: pieces (1) with their piece (1),
// score (2, float) and type (3: 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte; control,
// unknown and unused are not matched from text), byte_fallback from trainer_spec (2) field 35,
// the normalizer_spec (3) charsmap (2). Protobuf's merge rule: the last scalar wins.
inline UnigramModel unigram_of(std::string_view proto) {
  std::vector<UnigramPiece> pieces;
  std::vector<bool> matchable;
  int64_t unk_id = -1;
  bool byte_fallback = false;
  std::string_view charsmap;
  for_each_protobuf_field(proto, [&](uint32_t field, int wire, uint64_t, std::string_view bytes) {
    if (field == 1 && wire == 2) {
      UnigramPiece piece;
      int type = 1;
      for_each_protobuf_field(bytes, [&](uint32_t f, int w, uint64_t v, std::string_view b) {
        if (f == 1 && w == 2) piece.piece = std::string(b);
        if (f == 2 && w == 5) {
          float score = 0;
          const auto bits = uint32_t(v);
          std::memcpy(&score, &bits, 4);
          piece.score = score;
        }
        if (f == 3 && w == 0) type = int(int32_t(v));
      });
      if (type == 2 && unk_id < 0) unk_id = int64_t(pieces.size());
      matchable.push_back(type != 2 && type != 3 && type != 5);
      pieces.push_back(std::move(piece));
    } else if (field == 2 && wire == 2) {
      for_each_protobuf_field(bytes, [&](uint32_t f, int w, uint64_t v, std::string_view) {
        if (f == 35 && w == 0) byte_fallback = v != 0;
      });
    } else if (field == 3 && wire == 2) {
      for (std::string_view c : protobuf_bytes_fields(bytes, 2)) charsmap = c;
    }
  });
  return UnigramModel(std::move(pieces), unk_id, byte_fallback, std::move(matchable), charsmap);
}

}  // namespace detail

// Runs `bytes` as spiece.model through every stage above; throws the first UserError met. The
// loader's UserError must name `label` (the message reaches the user with the file's name).
inline void exercise_spiece_model(std::string_view bytes, const std::string& label) {
  std::optional<UserError> first;
  const auto stage = [&](const std::function<void()>& run) {
    try {
      run();
    } catch (const UserError& e) {
      if (!first) first = e;
    }
  };
  const auto& prompts = spiece_fuzz_prompts();

  stage([&] {
    std::unique_ptr<SubwordModel> model;
    try {
      model = load_sentencepiece_model(std::string(bytes), label);
    } catch (const UserError& e) {
      if (std::string(e.what()).find(label) == std::string::npos) {
        throw std::logic_error("the loader's error does not name the file: " + std::string(e.what()));
      }
      throw;
    }
    for (const std::string& prompt : prompts) (void)model->decode(model->encode(prompt));
    // Umt5Tokenizer::decode passes on any ids it is given: ids outside the vocabulary may be
    // refused (UserError), even by a valid model.
    try {
      (void)model->decode({-1, 0, 1, 2, int64_t(model->vocab_size()), int64_t(1) << 40});
    } catch (const UserError&) {
    }
  });

  // Every charsmap the loader checks: normalizer_spec (3) and denormalizer_spec (5).
  stage([&] {
    for (uint32_t spec : {3u, 5u}) {
      for (std::string_view normalizer : protobuf_bytes_fields(bytes, spec)) {
        for (std::string_view blob : protobuf_bytes_fields(normalizer, 2)) {
          if (blob.empty()) continue;  // no table (identity), as the loader and UnigramModel take it
          stage([&] {
            const PrecompiledCharsmap charsmap(blob);
            for (const std::string& prompt : prompts) (void)charsmap.normalize(prompt);
          });
        }
      }
    }
  });

  stage([&] {
    const UnigramModel model = detail::unigram_of(bytes);
    for (const std::string& prompt : prompts) (void)model.decode(model.encode(prompt));
  });

  if (first) throw *first;
}

}  // namespace svgear::fuzz
