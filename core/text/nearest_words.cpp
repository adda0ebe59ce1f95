#include "core/text/nearest_words.h"

#include <algorithm>

#include "core/text/ascii_look_alike.h"
#include "core/user_error.h"

namespace svgear {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::vector<std::string> nearest_words(std::string_view typed, const std::vector<std::string>& candidates) {
  std::vector<std::string> nearest;
  // A pasted blob is no typo: its distances would cost its length times each candidate's.
  if (typed.size() > 64 || std::find(candidates.begin(), candidates.end(), typed) != candidates.end()) return nearest;
  // Measured from what the word looks like: "círcle" reads as "circle", though two bytes from it.
  const std::string word = ascii_look_alike(typed);
  // The farthest taken, then the nearest found: one edit from 3 bytes ("blu" for blue), two from 8.
  size_t nearest_distance = word.size() >= 8 ? 2 : word.size() >= 3 ? 1 : 0;
  if (nearest_distance == 0) return nearest;
  for (const std::string& candidate : candidates) {
    const size_t longer = std::max(word.size(), candidate.size()), shorter = std::min(word.size(), candidate.size());
    if (longer - shorter > nearest_distance) continue;  // as many edits at least
    const size_t distance = edit_distance(word, candidate);
    if (distance > nearest_distance) continue;
    if (distance < nearest_distance) {
      nearest_distance = distance;
      nearest.clear();
    }
    if (std::find(nearest.begin(), nearest.end(), candidate) == nearest.end()) nearest.push_back(candidate);
  }
  return nearest;
}

std::string alternatives(const std::vector<std::string>& items, std::string_view before, std::string_view after) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i) {
    text += std::string(i == 0 ? "" : i + 1 == items.size() ? " or " : ", ") + std::string(before) + items[i] + std::string(after);
  }
  return text;
}

std::string typo_hint(std::string_view typed, const std::vector<std::string>& names) {
  const std::vector<std::string> near = nearest_words(typed, names);
  if (near.empty()) return "";
  const std::string hidden = hidden_look_alikes(typed);  // as did_you_mean names them
  return "did you mean " + alternatives(near, "'", "'") + (hidden.empty() ? "" : " (its " + hidden + ")") + "? ";
}

std::string did_you_mean(const std::vector<std::string>& unknown, const std::vector<std::string>& vocabulary) {
  std::vector<std::string> suggestions;
  for (const std::string& word : unknown) {
    const std::vector<std::string> near = nearest_words(word, vocabulary);
    if (near.empty()) continue;
    const std::string meant = alternatives(near, "'", "'");
    // A look-alike letter of another alphabet is invisible in the message: named, or "'red' for
    // 'red'" would read as nonsense.
    const std::string hidden = hidden_look_alikes(word);
    if (!hidden.empty()) {
      suggestions.push_back(meant + " for " + quoted_word(word) + " (its " + hidden + ")");
    } else {
      suggestions.push_back(unknown.size() == 1 ? meant : meant + " for " + quoted_word(word));
    }
  }
  if (suggestions.empty()) return "";
  std::string joined;
  for (const std::string& s : suggestions) joined += (joined.empty() ? "" : ", ") + s;
  return " (did you mean " + joined + "?)";
}

}  // namespace svgear
