// Writes valid spiece.model files, small enough to mutate, into the folder given: the seeds of
// sentencepiece_model_fuzz (run-fuzz.sh spiece). Trained here with libsentencepiece's trainer from
// a tiny corpus (no downloads): unigram and BPE models, with no normalisation table, a small
// custom one (a few full-width letters and "①"), a denormaliser, and byte fallback. (umT5's own
// nmt_nfkc table is ~240 KB, too big to mutate at speed.)

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <sentencepiece_trainer.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_FOLDER\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out = argv[1];
  const std::filesystem::path work = out / ".train";
  std::filesystem::create_directories(work);
  {
    std::ofstream corpus(work / "corpus.txt");
    const char* colours[] = {"red", "green", "blue", "white", "golden"};
    const char* animals[] = {"cat", "dog", "horse", "bird", "turtle", "caf\xC3\xA9"};
    const char* places[] = {"on the grass", "in the river", "under the sky", "near a house"};
    for (const char* c : colours)
      for (const char* a : animals)
        for (const char* p : places) corpus << "A " << c << " " << a << " walks " << p << ".\n";
  }
  {
    // Code points (hex) → replacement code points, as SentencePiece's normalization_rule_tsv.
    std::ofstream rules(work / "rules.tsv");
    rules << "FF21\t41\nFF41\t61\nFF0C\t2C\n2460\t31\n3000\t20\n41 301\tC1\n";
    std::ofstream denorm(work / "denorm.tsv");
    denorm << "2C\tFF0C\n61 62\t78\n";
  }
  const std::string common = "--input=" + (work / "corpus.txt").string() +
                             " --hard_vocab_limit=false --character_coverage=1.0"
                             " --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 --num_threads=1"
                             " --minloglevel=2";
  const std::string rules = " --normalization_rule_tsv=" + (work / "rules.tsv").string();
  const struct {
    const char* name;
    std::string options;
  } models[] = {
      {"unigram-identity", " --model_type=unigram --vocab_size=40 --normalization_rule_name=identity"},
      {"unigram-charsmap", " --model_type=unigram --vocab_size=40" + rules},
      {"unigram-denormalizer", " --model_type=unigram --vocab_size=40" + rules +
                                   " --denormalization_rule_tsv=" + (work / "denorm.tsv").string()},
      {"unigram-byte-fallback", " --model_type=unigram --byte_fallback=true --vocab_size=300" + rules},
      {"unigram-user-symbols", " --model_type=unigram --vocab_size=40 --normalization_rule_name=identity"
                               " --user_defined_symbols=<x>,\xE2\x96\x81\xE2\x96\x81"
                               " --split_digits=true --treat_whitespace_as_suffix=true"},
      {"bpe-charsmap", " --model_type=bpe --vocab_size=40" + rules},
      {"char-identity", " --model_type=char --vocab_size=40 --normalization_rule_name=identity"},
      {"word-identity", " --model_type=word --normalization_rule_name=identity --vocab_size=20"},
  };
  int status = 0;
  for (const auto& m : models) {
    const auto trained = sentencepiece::SentencePieceTrainer::Train(
        common + " --model_prefix=" + (work / m.name).string() + m.options);
    if (!trained.ok()) {
      std::fprintf(stderr, "%s: %s\n", m.name, trained.ToString().c_str());
      status = 1;
      continue;
    }
    std::filesystem::copy_file(work / (std::string(m.name) + ".model"), out / m.name,
                               std::filesystem::copy_options::overwrite_existing);
  }
  std::filesystem::remove_all(work);
  return status;
}
