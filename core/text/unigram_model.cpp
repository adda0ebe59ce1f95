#include "core/text/unigram_model.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/io/bounded_json.h"
#include "core/io/file_system_trouble.h"
#include "core/user_error.h"

namespace svgear {
namespace {

constexpr std::string_view kMetaspace = "\xE2\x96\x81";  // "▁", U+2581
// Hugging Face and SentencePiece both score an uncovered character this far below the worst piece.
constexpr double kUnkPenalty = 10.0;

// Bytes of the UTF-8 character starting with `lead` (1 for stray continuation bytes).
size_t utf8_length(unsigned char lead) {
  if (lead >= 0xF0 && lead < 0xF8) return 4;
  if (lead >= 0xE0) return lead < 0xF0 ? 3 : 1;
  if (lead >= 0xC0) return 2;
  return 1;
}

// Metaspace pre-tokenisation: spaces → "▁", a "▁" prepended, split before every "▁".
std::vector<std::string> metaspace_words(std::string_view text) {
  std::string replaced(kMetaspace);
  if (text.starts_with(kMetaspace)) replaced.clear();
  for (char c : text) {
    if (c == ' ') {
      replaced += kMetaspace;
    } else {
      replaced += c;
    }
  }
  std::vector<std::string> words;
  size_t begin = 0;
  while (begin < replaced.size()) {
    size_t end = replaced.find(kMetaspace, begin + kMetaspace.size());
    if (end == std::string::npos) end = replaced.size();
    words.push_back(replaced.substr(begin, end - begin));
    begin = end;
  }
  return words;
}

// The base64 charsmap of a "Precompiled" normalizer, alone or inside a "Sequence"; "" for none.
std::string precompiled_charsmap(const nlohmann::json& tokenizer) {
  const nlohmann::json normalizer = tokenizer.value("normalizer", nlohmann::json());
  if (!normalizer.is_object()) return "";
  std::vector<nlohmann::json> normalizers = {normalizer};
  if (normalizer.value("type", "") == "Sequence") {
    normalizers = normalizer.value("normalizers", std::vector<nlohmann::json>{});
  }
  for (const nlohmann::json& n : normalizers) {
    const nlohmann::json charsmap = n.value("precompiled_charsmap", nlohmann::json());
    if (n.value("type", "") == "Precompiled" && charsmap.is_string()) {
      return charsmap.get<std::string>();
    }
  }
  return "";
}

// Hugging Face T5's Replace(" {2,}", " ").
std::string collapse_spaces(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != ' ' || out.empty() || out.back() != ' ') out += c;
  }
  return out;
}

}  // namespace

UnigramModel::UnigramModel(std::vector<UnigramPiece> pieces, int64_t unk_id, bool byte_fallback,
                           std::vector<bool> matchable, std::string_view precompiled_charsmap)
    : pieces_(std::move(pieces)), unk_id_(unk_id), byte_fallback_(byte_fallback) {
  if (!precompiled_charsmap.empty()) charsmap_.emplace(precompiled_charsmap);
  if (unk_id_ < 0 || unk_id_ >= int64_t(pieces_.size())) {
    throw UserError("the Unigram tokenizer's unk_id " + std::to_string(unk_id_) +
                    " is outside its vocabulary of " + std::to_string(pieces_.size()));
  }
  double min_score = 0.0;
  for (size_t i = 0; i < pieces_.size(); ++i) {
    min_score = std::min(min_score, pieces_[i].score);
    if (i < matchable.size() && !matchable[i]) continue;
    if (int64_t(i) == unk_id_ || pieces_[i].piece.empty()) continue;
    sorted_ids_.push_back(int64_t(i));
  }
  // Stable: of equal pieces the lowest id comes first, and is the one a lookup finds.
  std::stable_sort(sorted_ids_.begin(), sorted_ids_.end(),
                   [&](int64_t a, int64_t b) { return pieces_[a].piece < pieces_[b].piece; });
  unk_score_ = min_score - kUnkPenalty;
  byte_ids_.assign(256, -1);
  // Exactly "<0xHH>": sscanf's %X would take a sign ("<0x-1>") and index far past the table.
  const auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  for (size_t i = 0; i < pieces_.size(); ++i) {
    const std::string& p = pieces_[i].piece;
    if (p.size() == 6 && p.starts_with("<0x") && p[5] == '>' && hex(p[3]) && hex(p[4])) {
      byte_ids_[std::stoul(p.substr(3, 2), nullptr, 16)] = int64_t(i);
    }
  }
}

std::unique_ptr<UnigramModel> UnigramModel::load(const std::filesystem::path& path) {
  require_regular_file(path, "the tokenizer file");
  std::ifstream in(path);
  if (!in) throw UserError("cannot open the tokenizer file '" + path.string() + "': " + open_failure(errno));
  nlohmann::json json;
  try {
    json = parse_bounded_json(in);
  } catch (const nlohmann::json::exception& e) {
    throw UserError("'" + path.string() + "' is not valid JSON (" + json_error_text(e) +
                    "): download tokenizer.json of google/umt5-xxl again");
  }
  try {
    const nlohmann::json& model = json.at("model");
    const std::string type = model.value("type", std::string("(none)"));
    if (type != "Unigram") {
      throw UserError("'" + path.string() + "' is a " + type + " tokenizer, not the Unigram " +
                      "tokenizer of umT5: use the tokenizer.json of google/umt5-xxl");
    }
    std::vector<UnigramPiece> pieces;
    for (const nlohmann::json& entry : model.at("vocab")) {
      pieces.push_back({entry.at(0).get<std::string>(), entry.at(1).get<double>()});
    }
    std::vector<bool> matchable(pieces.size(), true);
    for (const nlohmann::json& token : json.value("added_tokens", nlohmann::json::array())) {
      const int64_t id = token.at("id").get<int64_t>();
      if (token.value("special", false) && id >= 0 && id < int64_t(pieces.size())) {
        matchable[id] = false;
      }
    }
    const int64_t unk_id = model.at("unk_id").is_null() ? -1 : model.at("unk_id").get<int64_t>();
    try {
      return std::make_unique<UnigramModel>(std::move(pieces), unk_id,
                                            model.value("byte_fallback", false), std::move(matchable),
                                            decode_base64(precompiled_charsmap(json)));
    } catch (const UserError& e) {  // the constructor's checks know no file
      throw UserError("'" + path.string() + "': " + e.what());
    }
  } catch (const nlohmann::json::exception& e) {
    throw UserError("'" + path.string() + "' is not a Hugging Face tokenizer.json (" + json_error_text(e) +
                    "): use the tokenizer.json of google/umt5-xxl");
  }
}

std::vector<int64_t> UnigramModel::encode(std::string_view text) const {
  std::vector<int64_t> ids;
  const std::string normalized = collapse_spaces(charsmap_ ? charsmap_->normalize(text) : text);
  if (normalized.empty()) return ids;
  for (const std::string& word : metaspace_words(normalized)) encode_word(word, ids);
  return ids;
}

void UnigramModel::encode_word(std::string_view word, std::vector<int64_t>& ids) const {
  // best[end]: the best segmentation of word[0, end), ending with piece `id` that starts at
  // `start`.
  struct Node {
    double score = 0.0;
    int64_t id = -1;
    size_t start = 0;
    bool reached = false;
  };
  const size_t n = word.size();
  std::vector<Node> best(n + 1);
  best[0].reached = true;
  auto relax = [&](size_t start, size_t end, int64_t id, double score) {
    const double candidate = best[start].score + score;
    // Strictly better only: the first (shortest) piece wins ties, as in Hugging Face.
    if (!best[end].reached || candidate > best[end].score) best[end] = {candidate, id, start, true};
  };
  for (size_t start = 0; start < n;) {
    const size_t char_bytes =
        std::min(utf8_length(static_cast<unsigned char>(word[start])), n - start);
    bool covered = false;
    auto lo = sorted_ids_.begin();
    auto hi = sorted_ids_.end();
    for (size_t len = 1; start + len <= n && lo != hi; ++len) {
      // [lo, hi) holds the pieces that start with word[start, start + len - 1); their byte
      // len - 1 (-1 for a piece that ends before it) rises through the range.
      const int byte = static_cast<unsigned char>(word[start + len - 1]);
      const auto byte_of = [&](int64_t id) {
        const std::string& piece = pieces_[id].piece;
        return piece.size() >= len ? int(static_cast<unsigned char>(piece[len - 1])) : -1;
      };
      lo = std::partition_point(lo, hi, [&](int64_t id) { return byte_of(id) < byte; });
      hi = std::partition_point(lo, hi, [&](int64_t id) { return byte_of(id) == byte; });
      if (lo != hi && pieces_[*lo].piece.size() == len) {
        relax(start, start + len, *lo, pieces_[*lo].score);
        covered = covered || len == char_bytes;
      }
    }
    if (!covered) relax(start, start + char_bytes, unk_id_, unk_score_);
    start += char_bytes;
  }

  // Backtrack, fusing runs of <unk> into one token as Hugging Face's fuse_unk does.
  std::vector<std::pair<int64_t, std::string_view>> tokens;  // (id, text it covers)
  for (size_t end = n; end > 0; end = best[end].start) {
    const Node& node = best[end];
    std::string_view piece = word.substr(node.start, end - node.start);
    if (node.id == unk_id_ && !tokens.empty() && tokens.back().first == unk_id_) {
      tokens.back().second =
          word.substr(node.start, end - node.start + tokens.back().second.size());
    } else {
      tokens.emplace_back(node.id, piece);
    }
  }
  std::reverse(tokens.begin(), tokens.end());

  for (const auto& [id, covered] : tokens) {
    if (id != unk_id_ || !byte_fallback_) {
      ids.push_back(id);
      continue;
    }
    std::vector<int64_t> bytes;
    for (unsigned char byte : covered) {
      if (byte_ids_[byte] < 0) break;
      bytes.push_back(byte_ids_[byte]);
    }
    if (bytes.size() == covered.size()) {
      ids.insert(ids.end(), bytes.begin(), bytes.end());
    } else {
      ids.push_back(unk_id_);
    }
  }
}

bool UnigramModel::is_matchable(const std::string& piece) const {
  const auto it = std::lower_bound(sorted_ids_.begin(), sorted_ids_.end(), piece,
                                   [&](int64_t id, const std::string& p) { return pieces_[id].piece < p; });
  return it != sorted_ids_.end() && pieces_[*it].piece == piece;
}

std::string UnigramModel::decode(const std::vector<int64_t>& ids) const {
  std::string text;
  for (int64_t id : ids) {
    if (id < 0 || id >= int64_t(pieces_.size())) continue;
    const std::string& piece = pieces_[id].piece;
    unsigned byte = 0;
    if (piece.size() == 6 && std::sscanf(piece.c_str(), "<0x%2X>", &byte) == 1) {
      text += char(byte);
    } else if (id == unk_id_) {
      text += " \xE2\x81\x87 ";  // " ⁇ ", as SentencePiece decodes <unk>
    } else if (is_matchable(piece)) {
      text += piece;
    }
  }
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (std::string_view(text).substr(i).starts_with(kMetaspace)) {
      out += ' ';
      i += kMetaspace.size();
    } else {
      out += text[i++];
    }
  }
  if (out.starts_with(' ')) out.erase(0, 1);
  return out;
}

}  // namespace svgear
