#include "ui/prompt_examples.h"

#include <memory>
#include <set>
#include <string>

#include <QFile>
#include <QRandomGenerator>

#include "core/shapes/prompt_grammar.h"
#include "core/shapes/scene_sampler.h"
#include "core/text/prompt_words.h"

static void register_prompts() { Q_INIT_RESOURCE(studio_prompts); }  // as studio_icon.cpp explains

namespace svgear {
namespace {

QStringList open_vocabulary_examples() {
  register_prompts();
  QFile file(":/prompts/wan.txt");
  QStringList prompts;
  if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) return prompts;
  for (const QString& line : QString::fromUtf8(file.readAll()).split('\n')) {
    const QString prompt = line.trimmed();
    if (!prompt.isEmpty() && !prompt.startsWith('#')) prompts << prompt;
  }
  return prompts;
}

// Scenes with one or two objects (three make long prompts), those the vocabulary spells. The
// built-in models' vocabulary spells every scene, so eight draws do; a smaller one (the tiny test
// model's 23 words spell one scene in ~265) takes up to kDraws, ~12 ms.
QStringList shapes_examples(const std::set<std::string>& vocabulary, uint64_t first_seed) {
  QStringList prompts;
  constexpr int kDraws = 3000;
  for (int i = 0; i < kDraws && prompts.size() < kPromptExampleCount; ++i) {
    const SampledScene scene = sample_scene(first_seed + uint64_t(i), {1, 2});
    bool known = true;
    for (const std::string& word : split_prompt_words(scene.prompt)) known = known && vocabulary.count(word) > 0;
    if (known) prompts << QString::fromStdString(scene.prompt);
  }
  return prompts;
}

}  // namespace

PromptExamples prompt_examples_for(const QStringList& vocabulary) {
  if (vocabulary.isEmpty()) {
    const QStringList prompts = open_vocabulary_examples();
    return [prompts] { return prompts; };
  }
  auto words = std::make_shared<std::set<std::string>>();
  for (const QString& word : vocabulary) words->insert(word.toLower().toStdString());
  if (shapes_examples(*words, 0).isEmpty()) return {};
  return [words] { return shapes_examples(*words, QRandomGenerator::global()->generate64()); };
}

}  // namespace svgear
