#include "core/pipeline/model_manifest.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>

#include <sys/stat.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/pipeline/model.h"
#include "core/pipeline/random_model.h"
#include "core/shapes/prompt_grammar.h"
#include "core/user_error.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string error_of(const std::filesystem::path& folder) {
  try {
    ModelManifest::read(folder);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(ModelManifest, RoundTripsThroughRandomModel) {
  const auto dir = test::scratch_dir("manifest_roundtrip");
  const RandomModelSpec spec = random_model_preset("tiny");
  write_random_model(dir, spec);
  const ModelManifest m = ModelManifest::read(dir);
  EXPECT_EQ(m.name, "random-tiny");
  EXPECT_EQ(m.dit.dim, spec.dit.dim);
  EXPECT_EQ(m.dit.num_layers, spec.dit.num_layers);
  EXPECT_EQ(m.vocabulary, spec.vocabulary);
  EXPECT_EQ(m.defaults.frames, spec.defaults.frames);
  EXPECT_EQ(m.defaults.sampler, SamplerKind::UniPC);
  EXPECT_EQ(m.weight_files, std::vector<std::string>{"model.safetensors"});
  EXPECT_EQ(find_model_folders(dir.parent_path()).size(), 1u);
  EXPECT_EQ(find_model_folders(dir), std::vector<std::filesystem::path>{dir});  // a root that is a model itself
}

// A model.json may name a low-noise expert as Wan folders of Wan2.2-A14B have one: read, written
// back by to_json (the run record's copy), loaded as a second DiT, and checked.
TEST(ModelManifest, ALowNoiseExpertIsReadLoadedAndChecked) {
  const auto dir = test::scratch_dir("manifest_expert") / "pair";
  write_random_model(dir, random_model_preset("tiny"));
  std::filesystem::copy_file(dir / "model.safetensors", dir / "low.safetensors");
  nlohmann::json j = ModelManifest::read(dir).raw;
  j["low_noise_expert"] = {{"weights", {"low.safetensors"}}, {"boundary", 0.9}};
  write_text(dir / "model.json", j.dump());
  ModelManifest m = ModelManifest::read(dir);
  ASSERT_TRUE(m.low_noise_expert);
  EXPECT_EQ(m.low_noise_expert->weight_files, std::vector<std::string>{"low.safetensors"});
  EXPECT_EQ(m.low_noise_expert->boundary, 0.9);
  EXPECT_EQ(m.defaults.low_noise_guidance, m.defaults.guidance);  // unless defaults say otherwise
  EXPECT_EQ(m.to_json()["low_noise_expert"], j["low_noise_expert"]);
  const auto model = Model::load(dir, c10::Device(c10::kCPU));
  ASSERT_TRUE(model->low_noise_dit);
  EXPECT_EQ(model->weight_files.size(), 2u);

  j["defaults"]["low_noise_guidance"] = 2.0;
  write_text(dir / "model.json", j.dump());
  EXPECT_EQ(ModelManifest::read(dir).defaults.low_noise_guidance, 2.0);
  for (const auto& [field, value, message] :
       {std::tuple{"boundary", nlohmann::json(1.0), "low_noise_expert.boundary must be between 0 and 1"},
        std::tuple{"weights", nlohmann::json::array({"../x.safetensors"}), "which is not a file inside the model folder"},
        std::tuple{"weights", nlohmann::json::array(), "lists no files"},
        std::tuple{"weights", nlohmann::json::array({"low.safetensors", "./low.safetensors"}),
                   "low_noise_expert: \"weights\" lists \"./low.safetensors\" twice"}}) {
    nlohmann::json bad = j;
    bad["low_noise_expert"][field] = value;
    write_text(dir / "model.json", bad.dump());
    EXPECT_NE(error_of(dir).find(message), std::string::npos) << error_of(dir);
  }
  nlohmann::json single = j;
  single.erase("low_noise_expert");
  write_text(dir / "model.json", single.dump());
  EXPECT_NE(error_of(dir).find("defaults.low_noise_guidance is for a model with a low_noise_expert"), std::string::npos)
      << error_of(dir);
}

// Without a choice the CPU default shapes-s is used, although shapes-l sorts first; a user's own
// models ($SVGEAR_MODELS) come before the built-in ones.
TEST(ModelManifest, DefaultModelIsShapesSUnlessTheUserHasModels) {
  const char* saved = std::getenv("SVGEAR_MODELS");
  const std::string restore = saved ? saved : "";
  unsetenv("SVGEAR_MODELS");
  const auto builtin = scan_model_roots().default_folder;
  ASSERT_TRUE(builtin.has_value());
  EXPECT_TRUE(scan_model_roots().default_builtin);
  EXPECT_EQ(builtin->filename(), "shapes-s");
  // The built-in folder named again is searched once, and still gives shapes-s.
  setenv("SVGEAR_MODELS", (builtin->parent_path().string() + ":" + builtin->parent_path().string() + "/").c_str(), 1);
  EXPECT_EQ(model_search_roots().size(), 1u);
  EXPECT_EQ(scan_model_roots().default_folder, builtin);
  unsetenv("SVGEAR_MODELS");
  EXPECT_EQ(find_model_folders(builtin->parent_path()).front().filename(), "shapes-l");  // what it skips

  const auto root = test::scratch_dir("default_model_root");
  write_random_model(root / "mine", random_model_preset("tiny"));
  setenv("SVGEAR_MODELS", root.c_str(), 1);
  const ModelScan users_scan = scan_model_roots();
  const auto users = users_scan.default_folder;
  EXPECT_FALSE(users_scan.default_builtin);
  if (saved) {
    setenv("SVGEAR_MODELS", restore.c_str(), 1);
  } else {
    unsetenv("SVGEAR_MODELS");
  }
  ASSERT_TRUE(users.has_value());
  EXPECT_EQ(*users, root / "mine");
}

// A FIFO as model.json: opening it would block until someone writes, hanging `info` and the
// studio's model scan; it is refused at once instead.
TEST(ModelManifest, AModelJsonThatIsNotAFileIsRefusedWithoutWaiting) {
  const auto dir = test::scratch_dir("manifest_fifo");
  ASSERT_EQ(::mkfifo((dir / "model.json").c_str(), 0600), 0);
  try {
    (void)ModelManifest::read(dir);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("is not a regular file"), std::string::npos) << e.what();
  }
}

// A token table of whole numbers (I64) would be read as weights of those values; the DiT's loader
// refuses such tensors, and so does the text encoder's.
TEST(ModelManifest, AWholeNumberTokenTableIsRefused) {
  const auto dir = test::scratch_dir("whole_number_token_table");
  write_random_model(dir, random_model_preset("tiny"));
  const std::filesystem::path file = dir / ModelManifest::read(dir).weight_files.front();
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  {
    const auto stored = SafetensorsFile::open(file);
    for (const TensorEntry& entry : stored->tensors()) {
      at::Tensor tensor = stored->load(entry.name).clone();
      if (entry.name == "text_encoder.token_embedding.weight") tensor = tensor.to(at::kLong);
      tensors.emplace_back(entry.name, tensor);
    }
  }
  write_safetensors(file, tensors);
  try {
    Model::load(dir, c10::Device(c10::kCPU));
    FAIL() << "a token table of whole numbers was loaded";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "'text_encoder.token_embedding.weight' holds Long values, not floating-point weights"),
              std::string::npos)
        << e.what();
  }
}

// A vocabulary a word short of the token table's rows names the folder and both counts, as `svgear
// info --model` does from the header (the load had said "text encoder: …" of no file).
TEST(ModelManifest, AVocabularyShortOfTheTokenTableNamesTheFolder) {
  const auto dir = test::scratch_dir("vocabulary_short");
  write_random_model(dir, random_model_preset("tiny"));
  nlohmann::json manifest = nlohmann::json::parse(std::ifstream(dir / "model.json"));
  nlohmann::json& vocabulary = manifest["text_encoder"]["vocabulary"];
  const size_t words = vocabulary.size();
  vocabulary.erase(words - 1);
  write_text(dir / "model.json", manifest.dump());
  try {
    Model::load(dir, c10::Device(c10::kCPU));
    FAIL() << "a vocabulary short of its token table was loaded";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.string() + ": the token table 'text_encoder.token_embedding.weight' has " +
                                         std::to_string(words) + " rows, but model.json's vocabulary has " +
                                         std::to_string(words - 1) + " words"),
              std::string::npos)
        << e.what();
  }
  // svgear info --model's check, from the header: the shape alone is at fault, not the type.
  try {
    check_model_files(ModelManifest::read(dir));
    FAIL() << "a vocabulary short of its token table passed the check";
  } catch (const UserError& e) {
    const std::string rows = std::to_string(words), kept = std::to_string(words - 1);
    EXPECT_NE(std::string(e.what()).find("'text_encoder.token_embedding.weight' has shape [" + rows + ", 32], not [" +
                                         kept + ", 32] (model.json's " + kept + " vocabulary words × dit.text_dim 32)"),
              std::string::npos)
        << e.what();
  }
}

// A folder this user may not read is not one without a model: the studio's picker had said
// "model.json is missing" of a chmod-000 folder.
TEST(ModelManifest, AnUnreadableFolderSaysPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files whatever their permissions";
  const auto dir = test::scratch_dir("manifest_unreadable");
  write_text(dir / "model.json", "{}");
  std::filesystem::permissions(dir, std::filesystem::perms::none);
  const std::string error = error_of(dir);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
  EXPECT_NE(error.find("permission denied (make the folder and its files readable)"), std::string::npos) << error;
}

// A field the reader does not know is refused by name, with the nearest known one: a typo in
// "defaults" ("stesp") had left the model on its default without a word. The training record is
// free-form; an empty name is refused (it printed "model  on cpu").
TEST(ModelManifest, AFieldItDoesNotReadIsRefusedByName) {
  const auto dir = test::scratch_dir("manifest_unknown_fields");
  write_random_model(dir, random_model_preset("tiny"));
  const nlohmann::json good = ModelManifest::read(dir).raw;
  const auto error_with = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = good;
    edit(j);
    write_text(dir / "model.json", j.dump());
    return error_of(dir);
  };
  const std::string file = (dir / "model.json").string() + ": ";
  EXPECT_EQ(error_with([](nlohmann::json& j) { j["defaults"]["stesp"] = 4; }),
            file + "\"defaults\" has no field 'stesp' (did you mean 'steps'? its fields: sampler, steps, guidance, "
                   "shift, frames, height, width, fps, negative_prompt, low_noise_guidance)");
  EXPECT_NE(error_with([](nlohmann::json& j) { j["dit"]["num_layer"] = 2; })
                .find(file + "\"dit\" has no field 'num_layer' (did you mean 'num_layers'? its fields: "),
            std::string::npos);
  EXPECT_NE(error_with([](nlohmann::json& j) { j["text_encoder"]["vocabulary_size"] = 2; })
                .find(file + "\"text_encoder\" has no field 'vocabulary_size' (its fields: type, vocabulary, "),
            std::string::npos);
  EXPECT_NE(error_with([](nlohmann::json& j) { j["foo"] = 1; })
                .find(file + "the file has no field 'foo' (its fields: "),
            std::string::npos);
  EXPECT_EQ(error_with([](nlohmann::json& j) { j["latent"]["kind"] = "pixel"; }),
            file + "\"latent\" has no field 'kind' (its fields: type)");
  EXPECT_EQ(error_with([](nlohmann::json& j) { j["training"] = {{"anything", {1, 2}}}; }), "");
  EXPECT_EQ(error_with([](nlohmann::json& j) { j["_comment"] = "mine"; j["defaults"]["_note"] = 1; }), "");
  // A section of a kind this reader does not take is named as such, before its fields.
  EXPECT_EQ(error_with([](nlohmann::json& j) { j["latent"] = {{"type", "wan_vae"}, {"file", "vae.pth"}}; }),
            file + "latent type 'wan_vae' is not supported (supported: pixel)");
  // Channels a pixel model cannot have, refused with the file (info --model had passed them, and
  // only a load refused them).
  EXPECT_EQ(error_with([](nlohmann::json& j) { j["dit"]["in_dim"] = 4; j["dit"]["out_dim"] = 4; }),
            file + "a pixel-space model needs dit.in_dim = dit.out_dim = 3 (RGB), got 4 and 4");
  // Left out, the name is the folder's, also when the folder is given with a slash.
  {
    nlohmann::json unnamed = good;
    unnamed.erase("name");
    write_text(dir / "model.json", unnamed.dump());
    EXPECT_EQ(ModelManifest::read(dir.string() + "/").name, dir.filename().string());
  }
  EXPECT_EQ(error_with([](nlohmann::json& j) { j["name"] = ""; }),
            file + "\"name\" is empty (leave it out to use the folder's name)");
}

// A shapes-world model's vocabulary must hold every word of the grammar's wording, in which every
// prompt reaches it: "heart" renamed by hand had passed `info --model`, whose check read one word,
// and failed only the prompts with a heart.
TEST(ModelManifest, AShapesWorldVocabularyLackingAGrammarWordIsRefused) {
  const auto dir = test::scratch_dir("manifest_grammar_words");
  const auto shipped = model_search_roots().back() / "shapes-s";
  nlohmann::json manifest = nlohmann::json::parse(std::ifstream(shipped / "model.json"));
  EXPECT_EQ(error_of(shipped), "");
  for (const std::string& word : canonical_words()) {
    const auto& vocabulary = manifest["text_encoder"]["vocabulary"];
    EXPECT_NE(std::find(vocabulary.begin(), vocabulary.end(), word), vocabulary.end()) << word;
  }
  nlohmann::json& vocabulary = manifest["text_encoder"]["vocabulary"];
  *std::find(vocabulary.begin(), vocabulary.end(), "heart") = "hearts";
  write_text(dir / "model.json", manifest.dump());
  EXPECT_EQ(error_of(dir), (dir / "model.json").string() +
                               ": text_encoder.vocabulary lacks 'heart', a word of the shapes-world grammar's wording, "
                               "in which every prompt reaches the model: the file was edited, or made for another "
                               "version of the grammar");
  // The wording's own words, not only the shapes: "stays" (of "stays still").
  *std::find(vocabulary.begin(), vocabulary.end(), "hearts") = "heart";
  vocabulary.erase(std::find(vocabulary.begin(), vocabulary.end(), "stays") - vocabulary.begin());
  write_text(dir / "model.json", manifest.dump());
  EXPECT_NE(error_of(dir).find("lacks 'stays'"), std::string::npos) << error_of(dir);
}

TEST(ModelManifest, ErrorsNameTheFileAndTheProblem) {
  const auto dir = test::scratch_dir("manifest_errors");
  EXPECT_NE(error_of(dir).find("model.json is missing"), std::string::npos);
  // A model.json that cannot be opened for another reason than its absence says that reason.
  std::filesystem::create_symlink("model.json", dir / "model.json");
  EXPECT_NE(error_of(dir).find("cannot read '" + (dir / "model.json").string() + "': Too many levels of symbolic links"),
            std::string::npos)
      << error_of(dir);
  std::filesystem::remove(dir / "model.json");

  write_text(dir / "model.json", "{not json");
  EXPECT_NE(error_of(dir).find("not valid JSON"), std::string::npos);
  // A megabyte of nesting overflowed the stack when the manifest was copied into a run record.
  write_text(dir / "model.json", "{\"format\": \"svgear-model/1\", \"x\": " + std::string(1000000, '[') +
                                     std::string(1000000, ']') + "}");
  EXPECT_NE(error_of(dir).find("nested deeper than 64 levels"), std::string::npos) << error_of(dir).substr(0, 300);

  write_text(dir / "model.json", R"({"format": "other"})");
  EXPECT_NE(error_of(dir).find("svgear-model/1"), std::string::npos);

  nlohmann::json j = random_model_preset("tiny").dit.to_json();
  nlohmann::json no_dim = j;
  no_dim["dim"] = 0;
  write_text(dir / "model.json", nlohmann::json{{"format", "svgear-model/1"}, {"dit", no_dim}}.dump());
  EXPECT_NE(error_of(dir).find("model.json: its \"dit\" section: field 'dim' must be a whole number from 1 to "
                               "1073741824, got 0"),
            std::string::npos)
      << error_of(dir);
  write_text(dir / "model.json",
             nlohmann::json{{"format", "svgear-model/1"}, {"dit", j}, {"latent", {{"type", "vae"}}}}.dump());
  const std::string latent_error = error_of(dir);
  EXPECT_NE(latent_error.find("latent type 'vae'"), std::string::npos) << latent_error;
  EXPECT_NE(latent_error.find("model.json"), std::string::npos) << latent_error;
  // Left out, a section or its type is named as missing (it read "latent type '' is not supported").
  write_text(dir / "model.json", nlohmann::json{{"format", "svgear-model/1"}, {"dit", j}}.dump());
  EXPECT_NE(error_of(dir).find("the \"latent\" section is missing (e.g. \"latent\": {\"type\": \"pixel\"})"),
            std::string::npos) << error_of(dir);
  write_text(dir / "model.json",
             nlohmann::json{{"format", "svgear-model/1"}, {"dit", j}, {"latent", {{"type", "pixel"}}}, {"text_encoder", {{"words", 3}}}}
                 .dump());
  EXPECT_NE(error_of(dir).find("\"text_encoder\" has no \"type\""), std::string::npos) << error_of(dir);
  write_text(dir / "model.json", nlohmann::json{{"format", "svgear-model/1"}, {"dit", j}, {"latent", "pixel"}}.dump());
  EXPECT_NE(error_of(dir).find("\"latent\" must be an object of fields ({…}), got '\"pixel\"'"), std::string::npos)
      << error_of(dir);

  write_text(dir / "model.json",
             nlohmann::json{{"format", "svgear-model/1"}, {"dit", j}, {"latent", {{"type", "pixel"}}},
                            {"text_encoder", {{"type", "vocab"}, {"vocabulary", {"a"}}}},
                            {"weights", nlohmann::json::array()}}.dump());
  EXPECT_NE(error_of(dir).find("lists no files"), std::string::npos);

  write_text(dir / "model.json",
             nlohmann::json{{"format", "svgear-model/1"}, {"dit", j}, {"latent", {{"type", "pixel"}}},
                            {"text_encoder", {{"type", "vocab"}, {"vocabulary", {"a"}}}},
                            {"weights", {"m.safetensors"}}, {"defaults", {{"steps", "many"}}}}.dump());
  EXPECT_NE(error_of(dir).find("'steps' has the wrong type"), std::string::npos);
  // Numbers an int cannot hold are refused, not cast (2^32 + 1 read as 1 step, 2.5 as 2).
  for (const nlohmann::json& steps : {nlohmann::json(4294967297LL), nlohmann::json(2.5), nlohmann::json(-4294967296LL)}) {
    write_text(dir / "model.json",
               nlohmann::json{{"format", "svgear-model/1"}, {"dit", j}, {"latent", {{"type", "pixel"}}},
                              {"text_encoder", {{"type", "vocab"}, {"vocabulary", {"a"}}}},
                              {"weights", {"m.safetensors"}}, {"defaults", {{"steps", steps}}}}.dump());
    EXPECT_NE(error_of(dir).find("'steps' has the wrong type (a whole number up to 2147483647 is expected), got " +
                                 steps.dump()),
              std::string::npos)
        << error_of(dir);
  }

  write_text(dir / "model.json",
             nlohmann::json{{"format", "svgear-model/1"}, {"dit", j}, {"latent", {{"type", "pixel"}}},
                            {"text_encoder", {{"type", "vocab"}, {"vocabulary", {"a"}}, {"grammar", "klingon"}}},
                            {"weights", {"m.safetensors"}}}.dump());
  EXPECT_NE(error_of(dir).find("grammar 'klingon' is not known (known: shapes-world)"), std::string::npos)
      << error_of(dir);
  // A vocabulary no encoder would take is the manifest's error: `svgear info` had called it sound,
  // and a prompt check reported a word of it as unknown.
  for (const auto& [vocabulary, message] :
       std::vector<std::pair<nlohmann::json, std::string>>{
           {{"circle", "circle"}, "model.json: text encoder: the word 'circle' appears twice in the vocabulary"},
           {{"big square"}, "model.json: text encoder: the vocabulary's word 'big square' can never match a prompt"},
           {{"SQUARE"}, "model.json: text encoder: the vocabulary's word 'SQUARE' can never match a prompt"}}) {
    write_text(dir / "model.json",
               nlohmann::json{{"format", "svgear-model/1"}, {"dit", j}, {"latent", {{"type", "pixel"}}},
                              {"text_encoder", {{"type", "vocab"}, {"vocabulary", vocabulary}}},
                              {"weights", {"m.safetensors"}}}.dump());
    EXPECT_NE(error_of(dir).find(message), std::string::npos) << error_of(dir);
  }

  // The weights stay inside the folder (a hostile file could name /etc/passwd); sub-folders are fine.
  const auto with = [&](const nlohmann::json& weights, const nlohmann::json& defaults) {
    write_text(dir / "model.json",
               nlohmann::json{{"format", "svgear-model/1"}, {"dit", j}, {"latent", {{"type", "pixel"}}},
                              {"text_encoder", {{"type", "vocab"}, {"vocabulary", {"a"}}}},
                              {"weights", weights}, {"defaults", defaults}}.dump());
    return error_of(dir);
  };
  for (const char* outside : {"/etc/passwd", "../m.safetensors", "sub/../../m.safetensors", ""}) {
    EXPECT_NE(with({outside}, nlohmann::json::object()).find("which is not a file inside the model folder"),
              std::string::npos)
        << outside;
  }
  // A NUL ends the name where the file system reads it: "m.safetensors\0.x" would open m.safetensors.
  EXPECT_NE(with({std::string("m.safetensors\0.x", 16)}, nlohmann::json::object())
                .find("names \"m.safetensors\\u0000.x\", which is not a file inside the model folder"),
            std::string::npos)
      << with({std::string("m.safetensors\0.x", 16)}, nlohmann::json::object());
  EXPECT_EQ(with({"sub/m.safetensors"}, nlohmann::json::object()), "");
  // A section of another type would read as empty, its values dropped without a word.
  for (const nlohmann::json& defaults : {nlohmann::json("fps 8"), nlohmann::json::array({1})}) {
    EXPECT_NE(with({"m.safetensors"}, defaults).find("model.json: \"defaults\" must be an object of fields ({…}), got " +
                                                     quoted_word(defaults.dump())),
              std::string::npos)
        << with({"m.safetensors"}, defaults);
  }
  EXPECT_NE(with({"m.safetensors"}, {{"sampler", "foo"}}).find("model.json: defaults.sampler: unknown sampler 'foo'"),
            std::string::npos)
      << with({"m.safetensors"}, {{"sampler", "foo"}});
}

}  // namespace
}  // namespace svgear
