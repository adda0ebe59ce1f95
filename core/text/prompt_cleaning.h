#pragma once
// Upstream Wan's prompt cleaning, which every umT5 prompt goes through before SentencePiece
// (Wan2.1/Wan2.2 wan/modules/tokenizers.py, HuggingfaceTokenizer(clean='whitespace'); diffusers'
// pipeline_wan.prompt_clean is the same):
//
//   whitespace_clean(basic_clean(text)),  basic_clean = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
//
// It changes ordinary prompts: ftfy straightens curly quotes ("the dog’s “ball”" → "the dog's
// \"ball\""), and "Tom &amp; Jerry" becomes "Tom & Jerry"; umT5's own normaliser (nmt_nfkc) does
// neither, so without this such prompts get other ids than upstream's, i.e. other conditioning.
//
// ftfy.fix_text (ftfy 6, default TextFixerConfig), done here as ftfy does it: line by line (after
// each '\n'), each line fixed repeatedly until it stops changing, by
//   - unescape_html ("auto"): ftfy's own entity pass, only `&name;` / `&#…;` with the ';' and its
//     extra upper-case names (&EACUTE; = É); off for a line holding '<' and, as ftfy's loop has
//     it, for every line after that one;
//   - fix_c1_controls (U+0080–U+009F read as Windows-1252), fix_latin_ligatures (ﬁ → fi, ĳ → ij…),
//     fix_character_width (full-width ASCII, half-width kana and hangul, U+3000 → space),
//     uncurl_quotes (U+02BC, U+2018–U+201B → '; U+201C–U+201F → "), fix_line_breaks (CR LF, CR,
//     U+0085, U+2028, U+2029 → LF), remove_terminal_escapes (ESC [ digits/';' letter),
//     remove_control_chars (C0 but tab/LF/FF/CR, DEL, U+206A–U+206F, U+FEFF, U+FFF9–U+FFFC).
// Then Python's html.unescape twice (every HTML5 entity, with or without ';' where HTML5 allows
// it, and numeric references with Python's rules for invalid code points), Python's strip, and
// the `\s+` → ' ' collapse.
//
// Skipped from ftfy, and why:
//   - fix_encoding (mojibake repair: "cafÃ©" → "café"): a heuristic over large tables of
//     encodings and "badness" statistics; it leaves text that is not mojibake alone, which typed
//     and pasted prompts are.
//   - NFC: needs the Unicode composition tables (the build links no ICU). Through spiece.model,
//     SentencePiece's nmt_nfkc composes a letter and its combining mark itself ("cafe" + U+0301
//     and "café" get the same ids), so the ids still match upstream's; through tokenizer.json they
//     do not, as PrecompiledCharsmap joins no multi-character sequence (precompiled_charsmap.h).
//     Decomposed text is rare in typed prompts (macOS file names, some PDFs).
//   - fix_surrogates: UTF-8 cannot hold lone surrogates (bytes that are not UTF-8 read as U+FFFD).
//   - ftfy's split of lines over a million characters.

#include <string>
#include <string_view>

namespace svgear {

// whitespace_clean(basic_clean(text)) of upstream, as above. UTF-8 in and out.
std::string clean_prompt(std::string_view text);

// The steps, for tests.
std::string ftfy_fix_text(std::string_view text);  // ftfy.fix_text, less what is skipped above
std::string python_html_unescape(std::string_view text);  // Python's html.unescape
std::string clean_whitespace(std::string_view text);  // upstream's whitespace_clean

}  // namespace svgear
