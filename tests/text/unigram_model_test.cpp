// UnigramModel (tokenizer.json) on a hand-made vocabulary, and Umt5Tokenizer's EOS, truncation,
// padding, cleaning and file errors, which need no SentencePiece library.

#include "core/text/unigram_model.h"

#include <algorithm>
#include <fstream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/text/prompt_cleaning.h"
#include "core/text/umt5_tokenizer.h"
#include "core/user_error.h"
#include "tests/support/test_paths.h"
#include "tests/text/tiny_umt5.h"

namespace svgear {
namespace {

// Ids: <pad> 0, </s> 1, <unk> 2, then these from 3.
const std::vector<std::pair<std::string, double>> kPieces = {
    {"\xE2\x96\x81", -3.0},  // 3 "▁"
    {"a", -4.0},  // 4
    {"c", -4.0},  // 5
    {"t", -4.0},  // 6
    {"\xE2\x96\x81"
     "cat",
     -2.0},  // 7 "▁cat"
    {"\xE2\x96\x81"
     "ca",
     -3.0},  // 8 "▁ca"
    {"at", -3.5},  // 9
    {"\xE2\x96\x81"
     "a",
     -2.5},  // 10 "▁a"
    {"s", -4.0},  // 11
    {"<0x7A>", 0.0},  // 12 the byte 'z'
};

std::unique_ptr<UnigramModel> tiny_model(const std::string& folder, bool byte_fallback = false) {
  return UnigramModel::load(
      test::write_tokenizer_json(test::scratch_dir(folder), kPieces, byte_fallback));
}

using Ids = std::vector<int64_t>;

TEST(UnigramModel, ViterbiPicksTheMostProbableSegmentation) {
  auto model = tiny_model("unigram_viterbi");
  EXPECT_EQ(model->vocab_size(), 13);
  EXPECT_EQ(model->encode("cat"), (Ids{7}));  // ▁cat (-2) beats ▁ca + t (-7)
  EXPECT_EQ(model->encode("a cats"), (Ids{10, 7, 11}));  // ▁a ▁cat s
  EXPECT_EQ(model->encode("tac"), (Ids{3, 6, 4, 5}));  // no ▁t: ▁ alone, then t a c
  EXPECT_EQ(model->encode(""), (Ids{}));
  EXPECT_EQ(model->decode({10, 7, 11}), "a cats");
}

// A piece of a megabyte (a hostile or broken tokenizer.json) costs only where a word matches it:
// each spot of a word used to look up every length up to the longest piece, so a 20 000-letter
// prompt took hours. The segmentation is the one without the long piece where it does not fit,
// and the long piece where it does; duplicate pieces resolve to the lowest id.
TEST(UnigramModel, LongPiecesCostOnlyWhereTheyMatch) {
  std::vector<std::pair<std::string, double>> pieces = kPieces;
  const std::string megabyte = "\xE2\x96\x81" + std::string(1 << 20, 'c');
  pieces.emplace_back(megabyte, 0.0);  // 13
  pieces.emplace_back("at", -1.0);     // 14, a duplicate of 9
  auto model = UnigramModel::load(test::write_tokenizer_json(test::scratch_dir("unigram_long"), pieces));
  const std::string letters(20000, 't');
  const Ids ids = model->encode(letters);
  ASSERT_EQ(ids.size(), letters.size() + 1);
  EXPECT_EQ(ids.front(), 3);  // ▁, then t after t
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 6), int64_t(letters.size()));
  EXPECT_EQ(model->encode(std::string(1 << 20, 'c')), (Ids{13}));
  EXPECT_EQ(model->encode("cc"), (Ids{3, 5, 5}));
  EXPECT_EQ(model->encode("tat"), (Ids{3, 6, 9}));  // ▁ t at: "at" is id 9, its first spelling
  EXPECT_EQ(model->decode({3, 6, 9}), "tat");
}

TEST(UnigramModel, UnknownCharactersFuseIntoOneUnk) {
  auto model = tiny_model("unigram_unk");
  // "zz" and "ü" are not covered; special tokens are never matched from text.
  EXPECT_EQ(model->encode("cat zz"), (Ids{7, 3, 2}));
  EXPECT_EQ(model->encode("c\xC3\xBC"
                          "a"),
            (Ids{3, 5, 2, 4}));
  EXPECT_EQ(model->encode("</s>"), (Ids{3, 2, 11, 2}));
}

TEST(UnigramModel, ByteFallbackSpellsUnknownBytes) {
  auto model = tiny_model("unigram_bytes", /*byte_fallback=*/true);
  EXPECT_EQ(model->encode("cat zz"), (Ids{7, 3, 12, 12}));
  EXPECT_EQ(model->encode("\xC3\xBC"), (Ids{3, 2}));  // bytes without a piece: <unk>
  EXPECT_EQ(model->decode({7, 3, 12, 12}), "cat zz");
}

// Pieces that only look like bytes ("<0x-1>": sscanf's %X took the sign and indexed past the byte
// table) are plain pieces; "<0x7A>" stays the byte 'z'.
TEST(UnigramModel, SignedByteLookalikesAreNotBytes) {
  auto pieces = kPieces;
  pieces.insert(pieces.end(), {{"<0x-1>", -1.0}, {"<0x-F>", -1.0}, {"<0x+7>", -1.0}});
  auto model = UnigramModel::load(test::write_tokenizer_json(test::scratch_dir("unigram_signed_bytes"), pieces, true));
  EXPECT_EQ(model->vocab_size(), 16);
  EXPECT_EQ(model->encode("cat zz"), (Ids{7, 3, 12, 12}));
}

TEST(UnigramModel, BrokenFilesSayWhatToDo) {
  const auto dir = test::scratch_dir("unigram_broken");
  std::ofstream(dir / "not_json.json") << "{ this is not json";
  std::ofstream(dir / "bpe.json") << R"({"model": {"type": "BPE", "vocab": {}, "merges": []}})";
  try {
    UnigramModel::load(dir / "not_json.json");
    ADD_FAILURE();
  } catch (const UserError& e) {
    EXPECT_TRUE(test::contains(e.what(), "not valid JSON"));
  }
  try {
    UnigramModel::load(dir / "bpe.json");
    ADD_FAILURE();
  } catch (const UserError& e) {
    EXPECT_TRUE(test::contains(e.what(), "is a BPE tokenizer, not the Unigram tokenizer of umT5"));
  }
  // A FIFO (opening it would wait for a writer) is refused at once.
  ASSERT_EQ(::mkfifo((dir / "fifo.json").c_str(), 0600), 0);
  try {
    UnigramModel::load(dir / "fifo.json");
    ADD_FAILURE();
  } catch (const UserError& e) {
    EXPECT_TRUE(test::contains(e.what(), "is not a regular file")) << e.what();
  }
  // The checks made after parsing name the file too.
  std::ofstream(dir / "unk.json") << R"({"model": {"type": "Unigram", "vocab": [["a", -1.0]], "unk_id": 7}})";
  try {
    UnigramModel::load(dir / "unk.json");
    ADD_FAILURE();
  } catch (const UserError& e) {
    EXPECT_TRUE(test::contains(e.what(), "'" + (dir / "unk.json").string() + "': the Unigram tokenizer's unk_id 7"))
        << e.what();
  }
}

TEST(Umt5Tokenizer, AppendsEosPadsAndMasks) {
  const auto dir = test::scratch_dir("umt5_tok_pad");
  test::write_tokenizer_json(dir, kPieces);
  const Umt5Tokenizer tok = Umt5Tokenizer::load(dir);
  EXPECT_EQ(tok.source(), dir / "tokenizer.json");
  EXPECT_EQ(tok.tokenize("a cats"), (Ids{10, 7, 11, Umt5Tokenizer::kEosId}));
  EXPECT_EQ(tok.tokenize(""), (Ids{Umt5Tokenizer::kEosId}));  // upstream: an empty prompt is EOS
  const Umt5Tokens t = tok.encode("a cats");
  EXPECT_EQ(t.length, 4);
  ASSERT_EQ(t.ids.sizes(), (std::vector<int64_t>{1, 512}));
  ASSERT_EQ(t.mask.sizes(), (std::vector<int64_t>{1, 512}));
  EXPECT_EQ(t.ids.scalar_type(), at::kLong);
  EXPECT_TRUE(at::equal(t.ids.narrow(1, 0, 4), at::tensor({10, 7, 11, 1}, at::kLong).unsqueeze(0)));
  EXPECT_EQ(t.ids.narrow(1, 4, 508).abs().sum().item<int64_t>(), 0);  // <pad> is 0
  EXPECT_EQ(t.mask.sum().item<int64_t>(), 4);
  EXPECT_EQ(t.mask.narrow(1, 0, 4).sum().item<int64_t>(), 4);
  EXPECT_EQ(tok.decode(tok.tokenize("a cats")), "a cats");
}

TEST(Umt5Tokenizer, TruncatesKeepingEosLast) {
  const auto dir = test::scratch_dir("umt5_tok_trunc");
  const Umt5Tokenizer tok = Umt5Tokenizer::load(test::write_tokenizer_json(dir, kPieces), 4);
  EXPECT_EQ(tok.tokenize("a cat a cat"), (Ids{10, 7, 10, Umt5Tokenizer::kEosId}));
  const Umt5Tokens t = tok.encode("a cat a cat");
  EXPECT_EQ(t.length, 4);
  EXPECT_EQ(t.ids.size(1), 4);
  EXPECT_EQ(t.mask.sum().item<int64_t>(), 4);
}

TEST(Umt5Tokenizer, CutSaysWhatTruncationDrops) {
  const auto dir = test::scratch_dir("umt5_tok_cut");
  const Umt5Tokenizer tok = Umt5Tokenizer::load(test::write_tokenizer_json(dir, kPieces), 4);
  const Umt5Tokenizer::Cut fits = tok.cut("a cat a");  // 3 pieces + EOS: all of it
  EXPECT_EQ(fits.pieces, 0);
  EXPECT_EQ(fits.text, "");
  const Umt5Tokenizer::Cut cut = tok.cut("a cat a cats");  // ▁a ▁cat ▁a | ▁cat s
  EXPECT_EQ(cut.pieces, 2);
  EXPECT_EQ(cut.text, "cats");
  // A cut inside a word quotes the whole word, and the prompt's own characters where the pieces
  // hold none (an unknown piece decodes as ⁇).
  const Umt5Tokenizer longer = Umt5Tokenizer::load(test::write_tokenizer_json(dir, kPieces), 5);
  const Umt5Tokenizer::Cut mid_word = longer.cut("a cat a cats, a cat");  // ▁a ▁cat ▁a ▁cat | s , ▁a ▁cat
  EXPECT_EQ(mid_word.pieces, 4);
  EXPECT_EQ(mid_word.text, "cats, a cat");
  // Kept pieces that do not decode to the prompt's start (an unknown piece reads ⁇): the dropped
  // pieces decoded, as before.
  const Umt5Tokenizer::Cut unknown = tok.cut("a, cat a cat");  // ▁a , ▁cat | ▁a ▁cat
  EXPECT_EQ(unknown.pieces, 2);
  EXPECT_EQ(unknown.text, "a cat");
}

// A prompt in a script without spaces is quoted from the cut, not from its beginning (the word the
// cut falls in is one of ASCII letters and digits).
TEST(Umt5Tokenizer, CutInAScriptWithoutSpacesQuotesFromTheCut) {
  const auto dir = test::scratch_dir("umt5_tok_cut_cjk");
  const std::vector<std::pair<std::string, double>> pieces = {
      {"\xE2\x96\x81", -3.0}, {"猫", -2.0}, {"が", -2.0}, {"雪", -2.0}, {"の", -2.0}, {"中", -2.0}, {"を", -2.0},
      {"走る", -2.0}};
  const Umt5Tokenizer tok = Umt5Tokenizer::load(test::write_tokenizer_json(dir, pieces), 4);
  const Umt5Tokenizer::Cut cut = tok.cut("猫が雪の中を走る");  // ▁ 猫 が | 雪 の 中 を 走る
  EXPECT_EQ(cut.pieces, 5);
  EXPECT_EQ(cut.text, "雪の中を走る");
}

TEST(Umt5Tokenizer, WhitespaceIsCleanedAsUpstream) {
  EXPECT_EQ(clean_prompt("  a \t\n cat\xE3\x80\x80"
                                 "s  "),
            "a cat s");
  EXPECT_EQ(clean_prompt(" \n "), "");
  const auto dir = test::scratch_dir("umt5_tok_space");
  const Umt5Tokenizer tok = Umt5Tokenizer::load(test::write_tokenizer_json(dir, kPieces));
  EXPECT_EQ(tok.tokenize("  a\t\tcats \n"), tok.tokenize("a cats"));
}

// The rest of upstream's cleaning (tests/text/prompt_cleaning_test.cpp) comes before the pieces,
// in tokenize() and cut() alike: entities (twice unescaped), full-width letters, a ligature.
TEST(Umt5Tokenizer, CleansAsUpstreamBeforeTokenizing) {
  const auto dir = test::scratch_dir("umt5_tok_clean");
  const Umt5Tokenizer tok = Umt5Tokenizer::load(test::write_tokenizer_json(dir, kPieces), 4);
  EXPECT_EQ(tok.tokenize("&#97;&nbsp;&amp;#x63;&#97;&#116;s"), (Ids{10, 7, 11, Umt5Tokenizer::kEosId}));
  EXPECT_EQ(tok.tokenize("\xEF\xBD\x81 c\xEF\xBD\x81t\xEF\xBD\x93"), (Ids{10, 7, 11, Umt5Tokenizer::kEosId}));  // ａ ｃａｔｓ
  const Umt5Tokenizer::Cut cut = tok.cut("a cat a &#99;ats");
  EXPECT_EQ(cut.pieces, 2);
  EXPECT_EQ(cut.text, "cats");
}

TEST(Umt5Tokenizer, MissingTokenizerListsWhereItLooked) {
  const auto dir = test::scratch_dir("umt5_tok_missing");
  try {
    Umt5Tokenizer::load(dir);
    ADD_FAILURE();
  } catch (const UserError& e) {
    for (const auto& path :
         {dir / "spiece.model", dir / "tokenizer.json", dir / "tokenizer" / "tokenizer.json",
          dir / "google" / "umt5-xxl" / "spiece.model"}) {
      EXPECT_TRUE(test::contains(e.what(), path.string()));
    }
  }
  std::ofstream(dir / "vocab.txt") << "a\n";
  EXPECT_THROW(Umt5Tokenizer::load(dir / "vocab.txt"), UserError);
}

TEST(Umt5Tokenizer, FindsTheDiffusersAndWanFolderLayouts) {
  const auto dir = test::scratch_dir("umt5_tok_layouts");
  std::filesystem::create_directories(dir / "google" / "umt5-xxl");
  test::write_tokenizer_json(dir / "google" / "umt5-xxl", kPieces);
  EXPECT_EQ(Umt5Tokenizer::load(dir).source(), dir / "google" / "umt5-xxl" / "tokenizer.json");
  std::filesystem::create_directories(dir / "tokenizer");
  test::write_tokenizer_json(dir / "tokenizer", kPieces);
  EXPECT_EQ(Umt5Tokenizer::load(dir).source(), dir / "tokenizer" / "tokenizer.json");
}

}  // namespace
}  // namespace svgear
