// Umt5Tokenizer on a real SentencePiece unigram model, trained here from a small corpus (no
// downloads), and the tokenizer.json path against it: the same vocabulary must give the same ids.
// Built only where the SentencePiece library is.

#include "core/text/prompt_cleaning.h"
#include "core/text/umt5_tokenizer.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include "core/text/precompiled_charsmap.h"
#include "core/text/protobuf_fields.h"
#include "core/text/sentencepiece_model.h"
#include "core/user_error.h"
#include "core/weights/safetensors_writer.h"
#include "tests/support/test_paths.h"
#include "tests/text/tiny_umt5.h"

namespace svgear {
namespace {

using Ids = std::vector<int64_t>;

// A corpus of prompts like the studio's: colour × animal × verb × place, over enough distinct
// words that the trainer finds a few hundred subword pieces.
void write_corpus(const std::filesystem::path& path) {
  const char* colours[] = {"red",    "green",  "blue",   "yellow", "white", "black",
                           "orange", "purple", "golden", "silver", "pink",  "brown"};
  const char* animals[] = {"cat",     "dog",      "horse",     "bird",   "fish",
                           "rabbit",  "turtle",   "elephant",  "tiger",  "dolphin",
                           "penguin", "squirrel", "butterfly", "giraffe"};
  const char* verbs[] = {"walks",  "runs",   "jumps",   "swims", "sleeps", "flies",
                         "dances", "climbs", "wanders", "rests", "plays",  "hides"};
  const char* places[] = {"on the grass",        "in the river",
                          "under the sky",       "near a house",
                          "through the forest",  "across the desert",
                          "beside the mountain", "over the frozen lake",
                          "inside a castle",     "along the beach at sunset"};
  std::ofstream out(path);
  for (const char* c : colours)
    for (const char* a : animals)
      for (const char* v : verbs)
        for (const char* p : places) out << "A " << c << " " << a << " " << v << " " << p << ".\n";
}

// spiece.model of a unigram model of at most 200 pieces with T5's special ids, trained once per
// process.
std::filesystem::path trained_spiece_model() {
  static const std::filesystem::path model = [] {
    const auto dir = test::scratch_dir("spiece_train");
    write_corpus(dir / "corpus.txt");
    const auto status = sentencepiece::SentencePieceTrainer::Train(
        "--input=" + (dir / "corpus.txt").string() +
        " --model_prefix=" + (dir / "spiece").string() +
        " --model_type=unigram --vocab_size=200 --hard_vocab_limit=false --character_coverage=1.0 "
        "--pad_id=0 --eos_id=1"
        " --unk_id=2 --bos_id=-1 --num_threads=1 --minloglevel=2");
    if (!status.ok())
      throw std::runtime_error("SentencePiece training failed: " + status.ToString());
    return dir / "spiece.model";
  }();
  return model;
}

// ModelProto.normalizer_spec (3) .precompiled_charsmap (2) of the trained model.
std::string trained_charsmap() {
  sentencepiece::SentencePieceProcessor sp;
  if (!sp.Load(trained_spiece_model().string()).ok()) throw std::runtime_error("cannot load");
  const std::string proto = sp.serialized_model_proto();
  return std::string(protobuf_bytes_fields(protobuf_bytes_fields(proto, 3).at(0), 2).at(0));
}

// The trained model's vocabulary as a Hugging Face tokenizer.json (what the slow→fast conversion
// writes: every piece with its score, the specials first, the model's charsmap).
std::filesystem::path tokenizer_json_of(const std::filesystem::path& spiece_model,
                                        const std::filesystem::path& dir) {
  sentencepiece::SentencePieceProcessor sp;
  if (!sp.Load(spiece_model.string()).ok()) throw std::runtime_error("cannot load spiece.model");
  EXPECT_EQ(sp.IdToPiece(0), "<pad>");
  EXPECT_EQ(sp.IdToPiece(1), "</s>");
  EXPECT_EQ(sp.IdToPiece(2), "<unk>");
  std::vector<std::pair<std::string, double>> pieces;
  for (int id = 3; id < sp.GetPieceSize(); ++id) {
    pieces.emplace_back(sp.IdToPiece(id), sp.GetScore(id));
  }
  return test::write_tokenizer_json(dir, pieces, /*byte_fallback=*/false, trained_charsmap());
}

const std::vector<std::string> kPrompts = {
    "A red cat walks on the grass.",
    "a green dog jumps through the forest",
    "A purple giraffe dances in the moonlight, slowly!",
    "Two horses run; 3 birds fly over 42 houses.",
    "  spaces   and\ttabs\nare cleaned  ",
    "ALL CAPS PROMPT",
    "",
    "\xEF\xBC\xA1 \xEF\xBD\x92\xEF\xBD\x85\xEF\xBD\x84 cat\xEF\xBC\x8C walks",  // full-width "Ａ
                                                                                // ｒｅｄ" and "，"
    "a \xE2\x91\xA0 dog",  // "①", NFKC "1"
    "the dog\xE2\x80\x99s \xE2\x80\x9C" "ball\xE2\x80\x9D &amp;amp; a \xEF\xAC\x81sh",  // ’ “ ” ﬁ
    "A red \xF0\x9D\x90\x9C\xF0\x9D\x90\x9A\xF0\x9D\x90\xAD walks",  // mathematical bold "cat", NFKC "cat"
    "naïve café zebra",
};

TEST(SpieceTokenizer, RoundTripsWithEos) {
  const Umt5Tokenizer tok = Umt5Tokenizer::load(trained_spiece_model());
  EXPECT_LE(tok.vocab_size(), 200);
  EXPECT_GT(tok.vocab_size(), 100);
  for (const std::string& prompt : {kPrompts[0], kPrompts[1], kPrompts[4]}) {
    const Ids ids = tok.tokenize(prompt);
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids.back(), Umt5Tokenizer::kEosId) << prompt;
    EXPECT_EQ(std::count(ids.begin(), ids.end(), Umt5Tokenizer::kPadId), 0) << prompt;
    EXPECT_EQ(tok.decode(ids), clean_prompt(prompt));
  }
}

// Upstream's cleaning comes first on the spiece.model path as on the tokenizer.json one.
TEST(SpieceTokenizer, CleansAsUpstreamBeforeTokenizing) {
  const auto dir = test::scratch_dir("spiece_clean");
  const Umt5Tokenizer spiece = Umt5Tokenizer::load(trained_spiece_model());
  const Umt5Tokenizer json = Umt5Tokenizer::load(tokenizer_json_of(trained_spiece_model(), dir));
  const std::string prompt = "A red &#99;at&nbsp;walks &amp;amp; a dog\xE2\x80\x99s \xEF\xAC\x81sh";  // ’ ﬁ
  const std::string cleaned = "A red cat walks & a dog's fish";
  EXPECT_EQ(spiece.tokenize(prompt), spiece.tokenize(cleaned));
  EXPECT_EQ(json.tokenize(prompt), json.tokenize(cleaned));
  EXPECT_EQ(spiece.decode(spiece.tokenize(prompt)), spiece.decode(spiece.tokenize(cleaned)));
}

// Cleaning skips ftfy's NFC (core/text/prompt_cleaning.h): SentencePiece's nmt_nfkc composes a
// letter and its combining mark itself, so spiece.model gives the ids of the composed text. (The
// tokenizer.json path does not: PrecompiledCharsmap joins no multi-character sequence.)
TEST(SpieceTokenizer, DecomposedTextGetsTheComposedIds) {
  const Umt5Tokenizer spiece = Umt5Tokenizer::load(trained_spiece_model());
  EXPECT_EQ(spiece.tokenize("A red cafe\xCC\x81 cat"), spiece.tokenize("A red caf\xC3\xA9 cat"));
}

TEST(SpieceTokenizer, PadsTo512WithMask) {
  const Umt5Tokenizer tok = Umt5Tokenizer::load(trained_spiece_model());
  const Ids ids = tok.tokenize(kPrompts[0]);
  const Umt5Tokens t = tok.encode(kPrompts[0]);
  EXPECT_EQ(t.length, int64_t(ids.size()));
  ASSERT_EQ(t.ids.sizes(), (std::vector<int64_t>{1, 512}));
  EXPECT_TRUE(at::equal(t.ids.narrow(1, 0, t.length), at::tensor(ids, at::kLong).unsqueeze(0)));
  EXPECT_EQ(t.ids.narrow(1, t.length, 512 - t.length).abs().sum().item<int64_t>(), 0);
  EXPECT_EQ(t.mask.sum().item<int64_t>(), t.length);
  EXPECT_EQ(t.mask[0][t.length - 1].item<int64_t>(), 1);
  EXPECT_EQ(t.mask[0][t.length].item<int64_t>(), 0);
}

TEST(SpieceTokenizer, TruncatesKeepingEos) {
  const Ids full = Umt5Tokenizer::load(trained_spiece_model()).tokenize(kPrompts[2]);
  const Umt5Tokenizer tok = Umt5Tokenizer::load(trained_spiece_model(), 6);
  ASSERT_GT(full.size(), 6u);
  Ids expected(full.begin(), full.begin() + 5);
  expected.push_back(Umt5Tokenizer::kEosId);
  EXPECT_EQ(tok.tokenize(kPrompts[2]), expected);
  EXPECT_EQ(tok.encode(kPrompts[2]).mask.sum().item<int64_t>(), 6);
}

TEST(SpieceTokenizer, TokenizerJsonGivesTheSameIds) {
  const auto dir = test::scratch_dir("spiece_json");
  const Umt5Tokenizer spiece = Umt5Tokenizer::load(trained_spiece_model());
  const Umt5Tokenizer json = Umt5Tokenizer::load(tokenizer_json_of(trained_spiece_model(), dir));
  EXPECT_EQ(json.vocab_size(), spiece.vocab_size());
  for (const std::string& prompt : kPrompts) {
    EXPECT_EQ(json.tokenize(prompt), spiece.tokenize(prompt)) << "prompt: '" << prompt << "'";
  }
  // The charsmap matters: without it the mathematical bold letters segment differently (the
  // full-width prompt no longer shows it: cleaning narrows full-width letters first, as ftfy does).
  std::vector<std::pair<std::string, double>> pieces;
  {
    sentencepiece::SentencePieceProcessor sp;
    ASSERT_TRUE(sp.Load(trained_spiece_model().string()).ok());
    for (int id = 3; id < sp.GetPieceSize(); ++id)
      pieces.emplace_back(sp.IdToPiece(id), sp.GetScore(id));
  }
  const auto raw_dir = test::scratch_dir("spiece_json_raw");
  const Umt5Tokenizer raw = Umt5Tokenizer::load(test::write_tokenizer_json(raw_dir, pieces));
  EXPECT_NE(raw.tokenize(kPrompts[10]), spiece.tokenize(kPrompts[10]));
  EXPECT_EQ(spiece.tokenize(kPrompts[10]), spiece.tokenize("A red cat walks"));
  // The unknown-character path is exercised: ï and é are not in the corpus.
  const Ids unknown = spiece.tokenize(kPrompts.back());
  EXPECT_NE(std::find(unknown.begin(), unknown.end(), 2), unknown.end());
}

TEST(SpieceTokenizer, CharsmapNormalisesLikeNfkc) {
  const std::string blob = trained_charsmap();
  ASSERT_FALSE(blob.empty());
  const PrecompiledCharsmap charsmap(blob);
  EXPECT_EQ(charsmap.normalize("\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\x8C"), "AB,");  // "ＡＢ，"
  EXPECT_EQ(charsmap.normalize("plain text"), "plain text");
  EXPECT_EQ(decode_base64("aGVsbG8="), "hello");
  EXPECT_THROW(PrecompiledCharsmap("abc"), UserError);
}

// The trained charsmap with one trie unit's offset (bits 10..30) pointing far past the trie: unit
// 0 (the root), or the first child of the root that a byte reaches.
std::string charsmap_pointing_outside(bool root) {
  std::string blob = trained_charsmap();
  uint32_t trie_bytes = 0;
  std::memcpy(&trie_bytes, blob.data(), 4);
  std::vector<uint32_t> trie(trie_bytes / 4);
  std::memcpy(trie.data(), blob.data() + 4, trie_bytes);
  const auto far = [](uint32_t unit) { return (unit & 0x3FF) | (0x1FFFFFu << 10); };
  size_t target = 0;
  if (!root) {
    const uint32_t base = trie[0] >> 10 << ((trie[0] & (1u << 9)) >> 6);
    for (uint32_t c = 1; c < 256 && target == 0; ++c) {
      if ((trie[base ^ c] & ((1u << 31) | 0xFF)) == c) target = base ^ c;
    }
  }
  trie[target] = far(trie[target]);
  std::memcpy(blob.data() + 4, trie.data(), trie_bytes);
  return blob;
}

// A protobuf length-delimited field: key, length, bytes (lengths here stay under 2^28).
std::string length_delimited(uint32_t field, const std::string& bytes) {
  std::string out;
  for (uint64_t v : {uint64_t(field) << 3 | 2, uint64_t(bytes.size())}) {
    for (; v >= 0x80; v >>= 7) out += char(0x80 | (v & 0x7F));
    out += char(v);
  }
  return out + bytes;
}

// libsentencepiece walks the charsmap's trie without bounds checks: a spiece.model whose table
// points outside itself crashed at the first prompt. It is refused at load, naming the file; the
// same table in a tokenizer.json is refused as well.
TEST(SpieceTokenizer, CharsmapPointingOutsideItselfIsRefused) {
  sentencepiece::SentencePieceProcessor sp;
  ASSERT_TRUE(sp.Load(trained_spiece_model().string()).ok());
  for (bool root : {true, false}) {
    const std::string hostile = charsmap_pointing_outside(root);
    EXPECT_THROW(PrecompiledCharsmap{hostile}, UserError) << "root " << root;
    // A normalizer_spec (3, read by Encode) or denormalizer_spec (5, read by Decode) at the end:
    // protobuf merges the first into the model's, its charsmap replacing the model's.
    for (uint32_t spec : {3u, 5u}) {
      const auto dir = test::scratch_dir("spiece_hostile_" + std::to_string(spec) + (root ? "_root" : "_child"));
      std::ofstream(dir / "spiece.model", std::ios::binary)
          << sp.serialized_model_proto() + length_delimited(spec, length_delimited(2, hostile));
      try {
        const Umt5Tokenizer tokenizer = Umt5Tokenizer::load(dir / "spiece.model");
        tokenizer.decode(tokenizer.tokenize(kPrompts[0]));
        ADD_FAILURE() << "loaded, field " << spec << ", root " << root;
      } catch (const UserError& e) {
        EXPECT_TRUE(test::contains(e.what(), (dir / "spiece.model").string())) << e.what();
        EXPECT_TRUE(test::contains(e.what(), "precompiled_charsmap is malformed")) << e.what();
      }
    }
  }
  EXPECT_THROW(protobuf_bytes_fields("\x0a\x05" "ab", 1), UserError);  // a length past the end
}

TEST(SpieceTokenizer, FolderPrefersSpieceModel) {
  const auto dir = test::scratch_dir("spiece_folder");
  std::filesystem::copy_file(trained_spiece_model(), dir / "spiece.model");
  tokenizer_json_of(trained_spiece_model(), dir);
  EXPECT_EQ(Umt5Tokenizer::load(dir).source(), dir / "spiece.model");
}

// ComfyUI's umT5 files carry spiece.model's bytes as a U8 tensor named spiece_model: a folder of
// Comfy files alone has its tokenizer there. A file without it is listed among the places looked.
TEST(SpieceTokenizer, ComfyTextEncoderFilesCarryTheTokenizer) {
  const auto dir = test::scratch_dir("spiece_comfy");
  std::ifstream in(trained_spiece_model(), std::ios::binary);
  const std::string proto((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const at::Tensor bytes =
      at::from_blob(const_cast<char*>(proto.data()), {int64_t(proto.size())}, at::kByte).clone();
  write_safetensors(dir / "umt5_xxl_fp16.safetensors", {{"shared.weight", at::zeros({4, 2})}, {"spiece_model", bytes}});
  const Umt5Tokenizer from_file = Umt5Tokenizer::load(dir, 16, {dir / "umt5_xxl_fp16.safetensors"});
  EXPECT_EQ(from_file.source(), dir / "umt5_xxl_fp16.safetensors");
  const Umt5Tokenizer reference = Umt5Tokenizer::load(trained_spiece_model(), 16);
  for (const std::string& prompt : kPrompts) EXPECT_EQ(from_file.tokenize(prompt), reference.tokenize(prompt)) << prompt;

  const auto bare = test::scratch_dir("spiece_comfy_bare");
  write_safetensors(bare / "umt5_xxl_fp16.safetensors", {{"shared.weight", at::zeros({4, 2})}});
  try {
    Umt5Tokenizer::load(bare, 16, {bare / "umt5_xxl_fp16.safetensors"});
    ADD_FAILURE();
  } catch (const UserError& e) {
    EXPECT_TRUE(test::contains(e.what(), "umt5_xxl_fp16.safetensors (its spiece_model tensor)")) << e.what();
  }

  // A tensor far larger than any tokenizer is refused from its header, before it is read.
  const auto huge = test::scratch_dir("spiece_comfy_huge");
  write_safetensors(huge / "umt5_xxl_fp16.safetensors",
                    {{"spiece_model", at::zeros({int64_t(kMaxSentencePieceBytes) + 1}, at::kByte)}});
  try {
    Umt5Tokenizer::load(huge, 16, {huge / "umt5_xxl_fp16.safetensors"});
    ADD_FAILURE();
  } catch (const UserError& e) {
    EXPECT_TRUE(test::contains(e.what(), "spiece_model tensor of")) << e.what();
    EXPECT_TRUE(test::contains(e.what(), std::to_string(kMaxSentencePieceBytes + 1) + " bytes")) << e.what();
  }
}

TEST(SpieceTokenizer, CorruptModelNamesTheFile) {
  const auto dir = test::scratch_dir("spiece_corrupt");
  std::ofstream(dir / "spiece.model") << "this is not a protobuf";
  try {
    Umt5Tokenizer::load(dir);
    ADD_FAILURE();
  } catch (const UserError& e) {
    EXPECT_TRUE(test::contains(e.what(), (dir / "spiece.model").string()));
  }
}

}  // namespace
}  // namespace svgear
