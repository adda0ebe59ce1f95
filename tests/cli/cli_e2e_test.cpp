#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iterator>
#include <limits>
#include <memory>
#include <sstream>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ATen/ATen.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_paths.h"
#include "core/io/file_checksum.h"
#include "core/io/file_name_limit.h"
#include "core/io/folder_lock.h"
#include "core/pipeline/routing_trace_file.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "svgear/build_config.h"
#include "tests/cli/cli_run.h"
#include "core/attention/attention_preset.h"
#include "core/media/png_writer.h"
#include "core/media/mp4_writer.h"
#include "core/media/video_reader.h"
#include "core/media/y4m_writer.h"
#include "core/metrics/video_quality.h"
#include "core/pipeline/generator.h"
#include "core/pipeline/run_record.h"
#include "tests/support/scoped_env.h"
#include "tests/support/test_paths.h"
#include "tests/wan/tiny_wan_folder.h"

namespace svgear {
namespace {

using test::CliRun;
using test::run_cli;
using test::ScopedEnv;
using test::run_cli_in_memory;

// The bytes of `path`, "" when it cannot be read.
std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(test::scratch_dir("cli"));
    const CliRun made = run_cli("random-model --preset tiny --out " + (*dir_ / "model").string());
    ASSERT_EQ(made.exit_code, 0) << made.output;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::filesystem::path* dir_;
};
std::filesystem::path* CliTest::dir_ = nullptr;

// packaging/replay-training.py on an export: its exit status and what it printed (also kept in
// OUT.log).
struct ReplayRun {
  int status;
  std::string output;
};
ReplayRun replay_training(const std::filesystem::path& model, const std::filesystem::path& out,
                          const std::string& options) {
  const std::string log = out.string() + ".log";
  const std::string command = "python3 " SVGEAR_SOURCE_DIR "/packaging/replay-training.py " + model.string() + " " +
                              out.string() + " " + options + " > " + log + " 2>&1";
  ReplayRun run{std::system(command.c_str()), {}};
  std::ifstream in(log);
  run.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return run;
}

// The largest absolute difference between the same-named tensors of two safetensors files, over
// those whose names start with `prefix`; *compared counts them.
double largest_difference(const std::filesystem::path& a_file, const std::filesystem::path& b_file,
                          const std::string& prefix, int* compared = nullptr) {
  const auto a = SafetensorsFile::open(a_file);
  const auto b = SafetensorsFile::open(b_file);
  double worst = 0.0;
  for (const TensorEntry& entry : a->tensors()) {
    if (entry.name.rfind(prefix, 0) != 0) continue;
    worst = std::max(worst, (a->load(entry.name) - b->load(entry.name)).abs().max().item<double>());
    if (compared) ++*compared;
  }
  return worst;
}

// The largest absolute difference between two exports' weights.
double max_weight_difference(const std::filesystem::path& a_model, const std::filesystem::path& b_model) {
  return largest_difference(a_model / "model.safetensors", b_model / "model.safetensors", "");
}

// The largest absolute difference between two checkpoints' fp32 parameters (param/…), shard by
// shard. Unlike an export's bf16 EMA weights, which a few steps barely move, these carry every
// update at full precision.
double max_parameter_difference(const std::filesystem::path& a_checkpoint, const std::filesystem::path& b_checkpoint) {
  const auto shards = [](const std::filesystem::path& dir) {
    return nlohmann::json::parse(std::ifstream(dir / "state.json"))["shards"].get<std::vector<std::string>>();
  };
  const std::vector<std::string> a_shards = shards(a_checkpoint), b_shards = shards(b_checkpoint);
  EXPECT_EQ(a_shards, b_shards);
  double worst = 0.0;
  int compared = 0;
  for (const std::string& shard : a_shards) {
    worst = std::max(worst, largest_difference(a_checkpoint / shard, b_checkpoint / shard, "param/", &compared));
  }
  EXPECT_GT(compared, 0) << "no param/ tensors in " << a_checkpoint;
  return worst;
}

// The learning rate of a loss.tsv line (columns: step, loss, learning rate, seconds).
double logged_rate(const std::string& line) { return std::stod(line.substr(line.find('\t', line.find('\t') + 1) + 1)); }

TEST_F(CliTest, GenerateWritesAPlayableVideoAndARunRecord) {
  const bool mp4 = mp4_supported();
  const auto out = *dir_ / (mp4 ? "clip.mp4" : "clip.y4m");
  const CliRun run = run_cli("generate --model " + (*dir_ / "model").string() +
                             " --prompt \"a red circle moves left\" --seed 3 --steps 3 --frames 5"
                             " --size 48x32 --device cpu --output " + out.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("step 3/3"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("(5 frames, 48x32, "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(", seed 3) in "), std::string::npos) << run.output;  // --seed random's only other place is the record
  ASSERT_TRUE(std::filesystem::exists(out)) << run.output;

  const Video video = read_video(out);
  EXPECT_EQ(video.frames, 5);
  EXPECT_EQ(video.width, 48);
  EXPECT_EQ(video.height, 32);

  std::ifstream record_file(*dir_ / "clip.json");
  ASSERT_TRUE(record_file.good());
  const nlohmann::json record = nlohmann::json::parse(record_file);
  EXPECT_EQ(record["status"], "finished");
  EXPECT_EQ(record["request"]["seed"], 3);
  EXPECT_EQ(record["request"]["frames"], 5);
  EXPECT_EQ(record["video"]["width"], 48);
  EXPECT_EQ(record["timings_ms"]["steps"].size(), 3u);

  // The pixels written are the run's final video, not a preview, an estimate or stale frames: the
  // same request to a lossless .y4m gives exactly the frames the Generator API makes of the
  // record's request, written the same way; another seed gives others.
  const auto lossless = *dir_ / "clip-lossless.y4m";
  const CliRun again = run_cli("generate --model " + (*dir_ / "model").string() +
                               " --prompt \"a red circle moves left\" --seed 3 --steps 3 --frames 5"
                               " --size 48x32 --device cpu --quiet --output " + lossless.string());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  const Video written = read_video(lossless);
  ASSERT_EQ(written.frames, 5);
  const auto [darkest, brightest] = std::minmax_element(written.rgb.begin(), written.rgb.end());
  EXPECT_GT(*brightest - *darkest, 64) << "a blank or flat video";
  EXPECT_FALSE(std::equal(written.frame(0), written.frame(1), written.frame(4))) << "the first frame repeated to the last";

  const std::unique_ptr<Model> model = Model::load(*dir_ / "model", c10::Device(c10::kCPU));
  const auto generate = [&](uint64_t seed) {
    return test::generate_through_the_api(*model, "a red circle moves left", seed, 3);
  };
  const GenerationResult same = generate(3);
  EXPECT_EQ(same.request.to_json(), record["request"]) << "not the request the CLI ran";
  write_y4m(same.video, *dir_ / "api-seed3.y4m");
  const Video expected = read_video(*dir_ / "api-seed3.y4m");
  ASSERT_EQ(expected.rgb.size(), written.rgb.size());
  const auto differing = [](const Video& a, const Video& b) {
    int n = 0;
    for (size_t i = 0; i < a.rgb.size(); ++i) n += a.rgb[i] != b.rgb[i];
    return n;
  };
  EXPECT_EQ(differing(written, expected), 0) << "of " << written.rgb.size() << " bytes";

  const GenerationResult other = generate(4);
  write_y4m(other.video, *dir_ / "api-seed4.y4m");
  const Video other_seed = read_video(*dir_ / "api-seed4.y4m");
  ASSERT_EQ(other_seed.rgb.size(), written.rgb.size());
  EXPECT_GT(differing(written, other_seed), int(written.rgb.size() / 2)) << "seed 4 made seed 3's video";
}

// A full disk after the video but before its record: the earlier run's pair comes back, and this
// run's video is kept beside it under another name. It had replaced the earlier video and removed
// its record.
TEST_F(CliTest, ARecordThatCannotBeWrittenLeavesTheEarlierRunInPlace) {
  const std::filesystem::path folder = *dir_ / "earlier-pair";
  std::filesystem::create_directories(folder);
  const std::string extension = mp4_supported() ? ".mp4" : ".y4m";
  const std::filesystem::path video = folder / ("clip" + extension), record = folder / "clip.json";
  const std::string generate = "generate --model " + (*dir_ / "model").string() +
                               " --prompt \"a red square\" --steps 1 --frames 1 --size 16x16 --device cpu --quiet "
                               "--output " + video.string();
  const CliRun first = run_cli(generate + " --seed 1");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const std::string earlier_video = file_bytes(video), earlier_record = file_bytes(record);
  // A limit between the two sizes: a 16×16 frame's video fits (~1.8 KB as MP4), its record (~3.2 KB)
  // does not. Taken from this build's files: an encoder's header varies with its version.
  ASSERT_GT(earlier_record.size(), earlier_video.size() + 1024);
  const CliRun full = test::run_cli_with_file_size_limit(generate + " --seed 2",
                                                         (earlier_video.size() + earlier_record.size()) / 2);
  EXPECT_EQ(full.exit_code, 2) << full.output;
  const std::filesystem::path aside = folder / ("clip-unrecorded" + extension);
  EXPECT_NE(full.output.find("The earlier video and its record are back in place; this run's video is " +
                             aside.string() + ", without a record."),
            std::string::npos)
      << full.output;
  EXPECT_EQ(file_bytes(video), earlier_video);
  EXPECT_EQ(file_bytes(record), earlier_record);
  ASSERT_TRUE(std::filesystem::exists(aside));
  EXPECT_NE(file_bytes(aside), earlier_video);
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(folder)) ++files;
  EXPECT_EQ(files, 3) << "temporary files or links left behind";

  // No earlier run at the name: the video still leaves it, so the name asked for never holds a
  // video without its record (a script checking for the file would take it for a whole run).
  const std::filesystem::path fresh = folder / ("fresh" + extension);
  const CliRun alone = test::run_cli_with_file_size_limit(
      "generate --model " + (*dir_ / "model").string() + " --prompt \"a red square\" --steps 1 --frames 1 --size "
      "16x16 --device cpu --quiet --seed 2 --output " + fresh.string(),
      (earlier_video.size() + earlier_record.size()) / 2);
  EXPECT_EQ(alone.exit_code, 2) << alone.output;
  const std::filesystem::path fresh_aside = folder / ("fresh-unrecorded" + extension);
  EXPECT_NE(alone.output.find("This run's video is " + fresh_aside.string() + ", without a record."), std::string::npos)
      << alone.output;
  EXPECT_FALSE(std::filesystem::exists(fresh));
  EXPECT_TRUE(std::filesystem::exists(fresh_aside));
  EXPECT_FALSE(std::filesystem::exists(folder / "fresh.json"));

  // A PNG folder is not kept aside: its frames stay without a record, which the next run refuses to
  // replace, so the error says to remove them (the retry's refusal had come as a surprise).
  const std::filesystem::path frames = folder / "frames";
  const CliRun png = test::run_cli_with_file_size_limit(
      "generate --model " + (*dir_ / "model").string() + " --prompt \"a red square\" --steps 1 --frames 1 --size "
      "16x16 --device cpu --quiet --seed 2 --output " + frames.string() + "/",
      (earlier_video.size() + earlier_record.size()) / 2);
  EXPECT_EQ(png.exit_code, 2) << png.output;
  EXPECT_NE(png.output.find("Its frames stay there without a record, so a later run will not replace them: remove "
                            "the folder (or choose another --output) before running again."),
            std::string::npos)
      << png.output;
  EXPECT_TRUE(std::filesystem::exists(frames / "frame_0000.png"));
}

// Two runs given one --output at once: whichever commits last, the video and the record left are
// one run's pair. Interleaved, one run's video had stayed beside the other's record (1 in 8 tries).
TEST_F(CliTest, TwoRunsOfOneOutputLeaveOnePair) {
  const std::string extension = mp4_supported() ? ".mp4" : ".y4m";
  const std::filesystem::path video = *dir_ / ("race" + extension), record = *dir_ / "race.json";
  const auto generate = [&](int seed) {
    return run_cli("generate --model " + (*dir_ / "model").string() + " --prompt \"a red square\" --steps 1 --frames "
                   "2 --size 16x16 --device cpu --quiet --seed " + std::to_string(seed) +
                   " --output " + video.string());
  };
  for (int round = 0; round < 4; ++round) {
    CliRun first, second;
    std::thread other([&] { first = generate(1); });
    second = generate(2);
    other.join();
    ASSERT_EQ(first.exit_code, 0) << first.output;
    ASSERT_EQ(second.exit_code, 0) << second.output;
    const nlohmann::json written = nlohmann::json::parse(std::ifstream(record));
    EXPECT_EQ(written["video"]["checksum"], file_checksum(video).value_or("none")) << "round " << round;
  }
}

TEST_F(CliTest, PngFolderOutput) {
  const auto out = *dir_ / "frames";
  const CliRun run = run_cli("generate --model " + (*dir_ / "model").string() +
                             " --prompt \"a blue square\" --steps 2 --device cpu --quiet --output " +
                             out.string() + "/");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("wrote PNG frames in " + out.string() + "/ (4 frames, "), std::string::npos) << run.output;
  int pngs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(out)) pngs += entry.path().extension() == ".png";
  EXPECT_EQ(pngs, 4);  // the tiny model's default frame count

  // Its own frames, which its record names, are replaced by the next run's.
  const CliRun again = run_cli("generate --model " + (*dir_ / "model").string() +
                               " --prompt \"a red square\" --steps 2 --frames 1 --device cpu --quiet --output " +
                               out.string() + "/");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_FALSE(std::filesystem::exists(out / "frame_0003.png")) << "a longer earlier video's tail stayed";
  // Without the slash the same folder: the same output, its record its own.
  const CliRun unslashed = run_cli("generate --model " + (*dir_ / "model").string() +
                                   " --prompt \"a red square\" --steps 2 --frames 2 --device cpu --quiet --output " +
                                   out.string());
  ASSERT_EQ(unslashed.exit_code, 0) << unslashed.output;
  EXPECT_TRUE(std::filesystem::exists(out / "frame_0001.png"));
  // A frame file its record does not count (the record says 2: frame_0000 and frame_0001) is the
  // user's, whatever its number or padding: refused, kept, where the writer had removed it.
  for (const char* name : {"frame_0050.png", "frame_12.png", "frame_00001.png"}) {
    std::ofstream(out / name) << name;
    const CliRun kept = run_cli("generate --model " + (*dir_ / "model").string() +
                                " --prompt \"a red square\" --steps 2 --frames 2 --device cpu --quiet --output " +
                                out.string());
    EXPECT_EQ(kept.exit_code, 2) << kept.output;
    EXPECT_NE(kept.output.find("holds " + std::string(name) + ", which its run record"), std::string::npos) << kept.output;
    EXPECT_NE(kept.output.find("frame_0000.png to frame_0001.png"), std::string::npos) << kept.output;
    EXPECT_EQ(file_bytes(out / name), name);
    std::filesystem::remove(out / name);
  }

  // Frames that no run record says we wrote are the user's: refused before the load, kept whole.
  const auto theirs = *dir_ / "their-frames";
  std::filesystem::create_directories(theirs);
  for (const char* name : {"frame_0000.png", "frame_0001.png", "frame_0099.png"}) std::ofstream(theirs / name) << name;
  const CliRun refused = run_cli("generate --model " + (*dir_ / "model").string() +
                                 " --prompt \"a blue square\" --steps 2 --device cpu --output " + theirs.string() + "/");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("that no run record beside it"), std::string::npos) << refused.output;
  EXPECT_EQ(refused.output.find(" on cpu"), std::string::npos) << "loaded the model first: " << refused.output;
  for (const char* name : {"frame_0000.png", "frame_0001.png", "frame_0099.png"}) {
    EXPECT_EQ(file_bytes(theirs / name), name);
  }

  // A full disk: the frame folder the run made is not left behind empty.
  const auto full = *dir_ / "full-disk-frames";
  const CliRun no_room = test::run_cli_with_file_size_limit(
      "generate --model " + (*dir_ / "model").string() + " --prompt \"a blue square\" --steps 2 --device cpu --output " +
          full.string() + "/",
      64);
  EXPECT_EQ(no_room.exit_code, 2) << no_room.output;
  EXPECT_FALSE(std::filesystem::exists(full)) << no_room.output;
}

// Without --output, a seed used before gets a new name (out/svgear-<seed>-2.mp4), not the earlier
// result's; so does a seed another run is using at the same time (the name is taken as the video is
// written, without replacing anything), and each record describes its own video.
TEST_F(CliTest, TheDefaultOutputNameNeverReplacesAnEarlierRun) {
  const std::filesystem::path work = *dir_ / "default-names";
  std::filesystem::create_directories(work);
  const std::filesystem::path before = std::filesystem::current_path();
  std::filesystem::current_path(work);  // the children run here, and out/ is relative
  const auto generate = [&](const std::string& prompt) {
    return run_cli("generate --model " + (*dir_ / "model").string() + " --prompt \"" + prompt +
                   "\" --steps 1 --frames 1 --size 16x16 --device cpu --quiet");
  };
  const CliRun first = generate("a red circle");
  const CliRun second = generate("a red circle");
  // Two at once, both starting while out/svgear-0-3 is free.
  auto blue = std::async(std::launch::async, [&] { return generate("a blue square"); });
  const CliRun green = generate("a green star");
  const CliRun blue_run = blue.get();
  std::filesystem::current_path(before);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  ASSERT_EQ(second.exit_code, 0) << second.output;
  ASSERT_EQ(green.exit_code, 0) << green.output;
  ASSERT_EQ(blue_run.exit_code, 0) << blue_run.output;
  const std::string extension = mp4_supported() ? ".mp4" : ".y4m";
  EXPECT_TRUE(std::filesystem::exists(work / "out" / ("svgear-0" + extension))) << first.output;
  EXPECT_TRUE(std::filesystem::exists(work / "out" / ("svgear-0-2" + extension))) << second.output;
  EXPECT_TRUE(std::filesystem::exists(work / "out" / "svgear-0.json"));
  EXPECT_TRUE(std::filesystem::exists(work / "out" / "svgear-0-2.json"));
  std::vector<std::string> prompts;
  for (const char* name : {"svgear-0-3", "svgear-0-4"}) {
    const std::filesystem::path video = work / "out" / (name + extension);
    const nlohmann::json record = nlohmann::json::parse(std::ifstream(work / "out" / (std::string(name) + ".json")));
    EXPECT_EQ(record["video"]["checksum"], file_checksum(video).value_or("none")) << name;
    prompts.push_back(record["request"]["prompt"]);
  }
  std::sort(prompts.begin(), prompts.end());
  EXPECT_EQ(prompts, (std::vector<std::string>{"a blue square", "a green star"}));
  for (const auto& entry : std::filesystem::directory_iterator(work / "out")) {
    EXPECT_NE(entry.path().filename().string().front(), '.') << "left behind: " << entry.path();
  }
}

// A reader of svgear's output that goes away (`| tee log` stopped by the same Ctrl-C, `| head`)
// does not end the run: a training run that cannot print its log lines still saves and exports.
TEST_F(CliTest, ARunOutlivesAClosedOutputPipe) {
  const auto out = *dir_ / "closed-pipe";
  const CliRun run = run_cli("train --preset shapes-tiny --device cpu --steps 3 --batch 1 --log-every 1 --out " +
                             out.string() + " | true");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(std::filesystem::exists(out / "model" / "model.json")) << run.output;
  EXPECT_TRUE(std::filesystem::exists(out / "checkpoint" / "state.json")) << run.output;
}

// --quiet hides progress and notes, not a warning that words of the prompt were ignored.
TEST_F(CliTest, AQuietRunStillWarnsOfAPromptCutShort) {
  const auto wan = test::write_tiny_wan_original(*dir_ / "wan");  // text_len 16
  const CliRun run = run_cli("generate --model " + wan.string() +
                             " --prompt \"a cat walks on the grass a cat walks on the grass a cat walks on the cat\""
                             " --steps 1 --frames 5 --height 32 --width 48 --device cpu --quiet --output " +
                             (*dir_ / "wan.y4m").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("warning: the prompt is too long: the text encoder reads its first 15 tokens and "
                            "ignores the last 3, from \"on the cat\""),
            std::string::npos)
      << run.output;
  EXPECT_EQ(run.output.find("step 1/1"), std::string::npos) << run.output;
}

// A trained model's folder is never overwritten by random weights unless asked.
TEST_F(CliTest, RandomModelReplacesAModelOnlyWithForce) {
  const auto folder = *dir_ / "force-model";  // a copy: the suite's other tests use the model
  std::filesystem::copy(*dir_ / "model", folder, std::filesystem::copy_options::recursive);
  const auto read = [&] {
    std::ifstream in(folder / "model.safetensors", std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string before = read();
  CliRun run = run_cli("random-model --seed 99 --out " + folder.string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("holds a random model: choose a new --out, or add --force"), std::string::npos)
      << run.output;
  EXPECT_EQ(read(), before);
  run = run_cli("random-model --seed 99 --force --out " + folder.string());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(read(), before);
  // A disk that fills during the weights (here a file size limit) leaves the model it was, its
  // model.json put back: it had been removed first, leaving a folder that was no model.
  const std::string manifest = file_bytes(folder / "model.json"), weights = read();
  run = test::run_cli_with_file_size_limit("random-model --preset small --force --out " + folder.string(), 64 << 10);
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_EQ(file_bytes(folder / "model.json"), manifest);
  EXPECT_EQ(read(), weights);
  EXPECT_EQ(run_cli("info --model " + folder.string()).exit_code, 0);
  // Into a new folder, the same leaves none of the folders it made: they had stayed, empty.
  run = test::run_cli_with_file_size_limit("random-model --preset small --out " + (*dir_ / "full" / "m").string(),
                                           64 << 10);
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "full")) << run.output;
  // Cut short between the two files (killed): random weights and no model.json, which --force replaces.
  std::filesystem::remove(folder / "model.json");
  run = run_cli("random-model --seed 99 --force --out " + folder.string());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(std::filesystem::exists(folder / "model.json"));
  // --force replaces a random model only: not a trained one, nor a folder of other files.
  const std::string random_weights = read();
  nlohmann::json trained = nlohmann::json::parse(std::ifstream(folder / "model.json"));
  trained["name"] = "shapes-s";
  trained["description"] = "shapes world, trained by `svgear train` for 21206 steps";
  std::ofstream(folder / "model.json") << trained.dump();
  run = run_cli("random-model --seed 98 --force --out " + folder.string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("holds the model 'shapes-s', not a random model: --force replaces only a random model's"),
            std::string::npos) << run.output;
  EXPECT_EQ(read(), random_weights);
  std::filesystem::create_directory(*dir_ / "papers");
  std::ofstream(*dir_ / "papers" / "notes.txt") << "mine";
  run = run_cli("random-model --force --out " + (*dir_ / "papers").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("holds other files and no random model: --force replaces only"), std::string::npos)
      << run.output;
  // Without --force, a folder of other files is refused without suggesting what would be refused next.
  run = run_cli("random-model --out " + (*dir_ / "papers").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("holds other files and no random model, which random-model never replaces: choose a new "
                            "--out"),
            std::string::npos)
      << run.output;
  EXPECT_EQ(run.output.find("--force"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "papers" / "model.json"));
  std::filesystem::create_directory(*dir_ / "empty");
  {
    // Another random-model writing there (as one started at the same moment would): refused, and
    // nothing written beside its files.
    const FolderLock busy(*dir_ / "empty", "another svgear command");
    run = run_cli("random-model --out " + (*dir_ / "empty").string());
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_NE(run.output.find("another svgear command is using " + (*dir_ / "empty").string()), std::string::npos)
        << run.output;
    EXPECT_TRUE(std::filesystem::is_empty(*dir_ / "empty"));
  }
  EXPECT_EQ(run_cli("random-model --out " + (*dir_ / "empty").string()).exit_code, 0);
  // A name too long is refused before any folder is made.
  run = run_cli("random-model --out " + (*dir_ / "new" / std::string(300, 'm')).string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("is longer than the 255 bytes a file system takes"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "new"));
  // A file is no folder to write into, with --force or without: said at once, the file kept.
  std::ofstream(*dir_ / "precious.txt") << "mine";
  for (const char* force : {"", " --force"}) {
    run = run_cli("random-model --out " + (*dir_ / "precious.txt").string() + force);
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_NE(run.output.find("precious.txt' is a file, not a folder"), std::string::npos) << run.output;
    EXPECT_EQ(run.output.find("--force to"), std::string::npos) << run.output;
  }
  EXPECT_EQ(file_bytes(*dir_ / "precious.txt"), "mine");
}

// Ctrl-C, SIGTERM as `kill`, `timeout` and batch schedulers send it, and SIGHUP as a closed
// terminal or ssh session sends it.
TEST_F(CliTest, CtrlCSigtermOrSighupKeepsThePartialVideo) {
  for (const auto& [signal, name] :
       {std::pair{SIGINT, "sigint"}, std::pair{SIGTERM, "sigterm"}, std::pair{SIGHUP, "sighup"}}) {
    const auto out = *dir_ / (std::string(name) + ".y4m");
    const CliRun run = test::run_cli_interrupted("generate --model " + (*dir_ / "model").string() +
                                                     " --prompt \"a red circle moves left\" --steps 200 --device cpu"
                                                     " --output " + out.string(),
                                                 "step 2/200", signal);
    EXPECT_EQ(run.exit_code, 128 + signal) << name << ": " << run.output;  // 130, 143, 129: as a shell says
    EXPECT_EQ(run.output.find("step 200/200"), std::string::npos) << "it ran to the end: " << run.output;
    EXPECT_FALSE(std::filesystem::exists(out)) << "a cancelled run must not pose as a finished one";
    const auto partial = *dir_ / (std::string(name) + "-partial.y4m");
    ASSERT_TRUE(std::filesystem::exists(partial)) << name << ": " << run.output;
    EXPECT_GT(read_video(partial).frames, 0);
    EXPECT_TRUE(std::filesystem::exists(*dir_ / (std::string(name) + "-partial.json"))) << name;
    EXPECT_NE(run.output.find("wrote partial"), std::string::npos) << run.output;
  }
}

// Names up to the file system's 255 bytes work, the temporary and "-partial" names derived from
// them included; a name whose record ("<name>.json") would not fit is refused before the load.
TEST_F(CliTest, OutputNamesUpToTheFileSystemsLimit) {
  const std::string model = (*dir_ / "model").string();
  const std::string stem(kMaxFileNameBytes - 5, 'l');  // "<stem>.json" is the longest name
  CliRun run = run_cli("generate --model " + model + " --prompt \"a red circle\" --steps 1 --device cpu --output " +
                       (*dir_ / (stem + "l.y4m")).string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("Choose a shorter name"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find(" on cpu"), std::string::npos) << "loaded the model first: " << run.output;

  run = run_cli("generate --model " + model + " --prompt \"a red circle\" --steps 1 --device cpu --output " +
                (*dir_ / (stem + ".y4m")).string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_GT(read_video(*dir_ / (stem + ".y4m")).frames, 0);
  EXPECT_TRUE(std::filesystem::exists(*dir_ / (stem + ".json")));

  run = test::run_cli_interrupted("generate --model " + model + " --prompt \"a red circle\" --steps 200 --device cpu"
                                  " --output " + (*dir_ / (stem + ".y4m")).string(),
                                  "step 2/200", SIGINT);
  EXPECT_EQ(run.exit_code, 130) << run.output;
  const std::string partial = cut_file_stem(stem, std::string("-partial.json").size()) + "-partial";
  EXPECT_GT(read_video(*dir_ / (partial + ".y4m")).frames, 0) << run.output;
  EXPECT_TRUE(std::filesystem::exists(*dir_ / (partial + ".json"))) << run.output;
}

// Outputs that share a record's name: the second would replace the first's settings while the
// first video is there, so it is refused up front; "sub/." is the folder sub/, its record beside it.
TEST_F(CliTest, RecordsStayWithTheirVideos) {
  const std::string generate = "generate --model " + (*dir_ / "model").string() +
                               " --prompt \"a red circle\" --steps 1 --frames 2 --device cpu --output ";
  CliRun run = run_cli(generate + (*dir_ / "pair.y4m").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<std::string> others = {"pair/"};
  if (mp4_supported()) others.push_back("pair.mp4");  // without FFmpeg written as pair.y4m: the same video
  for (const std::string& other : others) {
    run = run_cli(generate + (*dir_ / other).string());
    EXPECT_EQ(run.exit_code, 2) << other << ": " << run.output;
    EXPECT_NE(run.output.find("is the run record of"), std::string::npos) << run.output;
  }
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(*dir_ / "pair.json"))["video"]["file"], "pair.y4m");
  run = run_cli(generate + (*dir_ / "pair.y4m").string());  // the same output again replaces its own
  EXPECT_EQ(run.exit_code, 0) << run.output;

  std::filesystem::create_directories(*dir_ / "here");
  run = run_cli(generate + (*dir_ / "here" / ".").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(std::filesystem::exists(*dir_ / "here" / "frame_0001.png")) << run.output;
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(*dir_ / "here.json"))["video"]["file"], "here/");
  // The same spelled with a trailing '/': "there/./" and "there/sub/../" are the folder there/.
  std::filesystem::create_directories(*dir_ / "there" / "sub");
  for (const std::string spelling : {"there/./", "there/sub/../"}) {
    // A fresh start each time (frames without their record would be refused as the user's).
    std::filesystem::remove(*dir_ / "there.json");
    for (const char* frame : {"frame_0000.png", "frame_0001.png"}) std::filesystem::remove(*dir_ / "there" / frame);
    run = run_cli(generate + (*dir_).string() + "/" + spelling);
    ASSERT_EQ(run.exit_code, 0) << spelling << ": " << run.output;
    EXPECT_TRUE(std::filesystem::exists(*dir_ / "there" / "frame_0001.png")) << spelling << ": " << run.output;
    EXPECT_TRUE(std::filesystem::exists(*dir_ / "there.json")) << spelling << ": " << run.output;
  }
  for (const auto& entry : std::filesystem::recursive_directory_iterator(*dir_ / "there")) {
    EXPECT_NE(entry.path().filename().string().front(), '.') << "a hidden file: " << entry.path();
  }
}

TEST_F(CliTest, UserErrorsAreClearAndLeaveNoFiles) {
  const auto model = (*dir_ / "model").string();
  const auto out = *dir_ / "never.mp4";

  CliRun run = run_cli("generate --model " + model + " --prompt \"a purple hexagon\" --device cpu --output " + out.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("unknown words 'purple', 'hexagon'"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("This model knows:"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find(" on cpu"), std::string::npos) << "loaded the model first: " << run.output;

  run = run_cli("generate --model " + model + " --prompt \"a red circle\" --negative blorp --device cpu --output " +
                out.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("unknown word 'blorp' in the negative prompt"), std::string::npos) << run.output;

  // Refused before the model loads: what the model's manifest already rules out.
  run = run_cli("generate --model " + model + " --prompt a --size 30x32 --device cpu --output " + out.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("try 28 or 32"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("model "), std::string::npos) << "loaded the model first: " << run.output;
  run = run_cli("generate --model " + model + " --prompt \"$(printf 'a red \\377 circle')\" --device cpu --output " +
                out.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("the prompt is not UTF-8 text (invalid UTF-8 byte at index 6: 0xFF)"), std::string::npos)
      << run.output;
  EXPECT_EQ(run.output.find("model "), std::string::npos) << "loaded the model first: " << run.output;
  for (const auto& [size, message] : std::vector<std::pair<std::string, std::string>>{
           {"--size 4294967328x32", "--size '4294967328x32' is out of range: 4294967328 pixels is past any video"},
           {"--size 32x", "--size expects WIDTHxHEIGHT, e.g. 64x64, got '32x'"},
           {"--size 32x32 --width 64", "give --size or --width and --height, not both"}}) {
    run = run_cli("generate --model " + model + " --prompt a --device cpu " + size + " --output " + out.string());
    EXPECT_EQ(run.exit_code, 2) << size;
    EXPECT_NE(run.output.find(message), std::string::npos) << size << ": " << run.output;
  }

  // A model path that is wrong says how: no such folder, model.json itself, a built-in model's
  // weights without model.json (not a Wan folder missing its text encoder), a default that was picked.
  run = run_cli("generate --model " + (*dir_ / "missing").string() + " --prompt a --output " + out.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("missing': there is no such folder"), std::string::npos) << run.output;
  run = run_cli("generate --model shapes-s --prompt a --output " + out.string());  // the name `info` lists
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("no model at 'shapes-s': there is no such folder here; the model 'shapes-s' is at '" +
                            (builtin_models_root() / "shapes-s").string() + "': give that path"),
            std::string::npos) << run.output;
  run = run_cli("generate --model " + model + "/model.json --prompt a --output " + out.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("model.json' is a model's model.json: give its folder, '" + model + "'"), std::string::npos)
      << run.output;
  const auto no_json = *dir_ / "weights-without-json";
  std::filesystem::create_directories(no_json);
  std::filesystem::copy_file(*dir_ / "model" / "model.safetensors", no_json / "model.safetensors",
                             std::filesystem::copy_options::overwrite_existing);
  run = run_cli("generate --model " + no_json.string() + " --prompt a --output " + out.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("model.json is missing"), std::string::npos) << run.output;
  const auto bad_root = *dir_ / "bad-default-root";
  std::filesystem::create_directories(bad_root / "broken");
  std::ofstream(bad_root / "broken" / "model.json") << "{not json";
  {
    const ScopedEnv models("SVGEAR_MODELS");
    ::setenv("SVGEAR_MODELS", bad_root.c_str(), 1);
    run = run_cli("generate --prompt a --output " + out.string());
  }
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("no --model given, so the first model folder found, '" + (bad_root / "broken").string() +
                            "', was chosen, and it cannot be read: "),
            std::string::npos)
      << run.output;
  // A Wan download cut short or missing a part under $SVGEAR_MODELS is the model meant, not a reason
  // to make the built-in model's clip in its place.
  const auto wan_root = *dir_ / "broken-wan-root";
  const auto cut = test::write_tiny_wan_original(wan_root / "cut");
  for (const auto& entry : std::filesystem::directory_iterator(cut)) {
    if (entry.path().filename().string().starts_with("wan2.1_t2v")) {
      std::filesystem::resize_file(entry.path(), std::filesystem::file_size(entry.path()) / 2);
    }
  }
  const auto no_vae = test::write_tiny_wan_original(wan_root / "no-vae");
  std::filesystem::remove(no_vae / "wan_2.1_vae.safetensors");
  {
    const ScopedEnv models("SVGEAR_MODELS");
    ::setenv("SVGEAR_MODELS", wan_root.c_str(), 1);
    run = run_cli("generate --prompt a --output " + out.string());
  }
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("no --model given, and no model was found under $SVGEAR_MODELS: '" + cut.string() +
                            "' holds a Wan diffusion model but is no model: "),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("past the end of the data section"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("`svgear info` lists it and 1 other such folder. Fix that folder, or pass --model DIR"),
            std::string::npos)
      << run.output;
  EXPECT_EQ(run.output.find("shapes-s on"), std::string::npos) << run.output;

  run = run_cli("generate --model " + model + " --prompt a --colour red");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("unknown option: --colour"), std::string::npos) << run.output;

  run = run_cli("generate --model " + model + " --prompt a --steps many");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--steps expects a whole number"), std::string::npos) << run.output;
  run = run_cli("generate --model " + model + " --prompt a --steps 99999999999");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--steps must be from 1 to 1000, got 99999999999"), std::string::npos) << run.output;
  run = run_cli("bench attention --repeat 99999999999999999999999");  // past strtol's long too
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--repeat must be from 1 to 1000, got 99999999999999999999999"), std::string::npos)
      << run.output;
  run = run_cli("generate --model " + model + " --prompt a --steps -99999999999");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--steps must be from 1 to 1000, got -99999999999"), std::string::npos) << run.output;
  // A value past a side of the range the option leaves open (the request checks it later) names
  // what a whole number holds here.
  run = run_cli("train --preset shapes-tiny --device cpu --steps 99999999999 --out " + (*dir_ / "never-train").string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--steps is out of range: 99999999999 is past 2147483647"), std::string::npos)
      << run.output;
  run = run_cli("generate --model " + model + " --prompt a --frames 99999999999");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--frames is out of range: 99999999999 is past 2147483647"), std::string::npos)
      << run.output;

  // Hexadecimal reads as a number to strtod ("0x10" is 16): refused, as whole numbers refuse it.
  run = run_cli("generate --model " + model + " --prompt a --fps 0x10 --output " + out.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--fps expects a finite number, got '0x10'"), std::string::npos) << run.output;
  // Below what a double holds: named as typed, not refused as "got 0".
  run = run_cli("generate --model " + model + " --prompt a --fps 1e-400 --output " + out.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--fps 1e-400 is too close to 0 for a number to hold"), std::string::npos) << run.output;

  // A mistyped --prompt is named as the unknown option it is, not as a missing --prompt.
  run = run_cli("generate --model " + model + " --promt a --output " + out.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("unknown option: --promt (did you mean --prompt?)"), std::string::npos) << run.output;
  run = run_cli("generate --model " + model + " --prompt a --ouptut " + out.string());
  EXPECT_NE(run.output.find("--ouptut (did you mean --output?)"), std::string::npos) << run.output;
  // Upper case, and a pasted command whose "--" became a dash or lost a hyphen.
  run = run_cli("generate --model " + model + " --prompt a --STEPS 4 --output " + out.string());
  EXPECT_NE(run.output.find("unknown option: --STEPS (did you mean --steps?)"), std::string::npos) << run.output;
  for (const char* dash : {"\u2014", "\u2013", "-"}) {
    run = run_cli("generate --model " + model + " --prompt a " + dash + "steps 4 --output " + out.string());
    EXPECT_EQ(run.exit_code, 2) << dash;
    EXPECT_NE(run.output.find("unexpected argument '" + std::string(dash) +
                              "steps': an option starts with two hyphens (--steps), not '" + dash + "'"),
              std::string::npos)
        << run.output;
  }
  // Every name at the nearest distance, not the first in order.
  run = run_cli("generate --model " + model + " --prompt a --clusters 100 --output " + out.string());
  EXPECT_NE(run.output.find("--clusters (did you mean --k-clusters or --q-clusters?)"), std::string::npos) << run.output;
  // Python's underscores, and other tools' names: Wan's generate.py, diffusers, bench's --modes (not
  // --model, one edit away).
  run = run_cli("generate --model " + model + " --prompt a --dense_steps 0.1 --sample_steps 4 --modes svgear "
                "--negative-prompt b --output " + out.string());
  EXPECT_EQ(run.exit_code, 2);
  for (const char* expected : {"--dense_steps (did you mean --dense-steps?)", "--sample_steps (did you mean --steps?)",
                               "--modes (did you mean --attention?)", "--negative-prompt (did you mean --negative?)"}) {
    EXPECT_NE(run.output.find(expected), std::string::npos) << expected << "\n" << run.output;
  }
  run = run_cli("compare --model " + model + " --prompt a --output " + (*dir_ / "never-compared").string());
  EXPECT_NE(run.output.find("--output (did you mean --out?)"), std::string::npos) << run.output;
  run = run_cli("bench step --mode svgear");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--mode (did you mean --modes?)"), std::string::npos) << run.output;
  run = run_cli("generate --model " + model + " --prompt a --xyz 1 --output " + out.string());  // nothing near
  EXPECT_NE(run.output.find("unknown option: --xyz. This command accepts:"), std::string::npos) << run.output;
  run = run_cli("compare --model " + model + " --out " + (*dir_ / "never-compared").string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--prompt is required"), std::string::npos) << run.output;
  // An empty prompt (an unset shell variable) is refused, not run as the unconditional clip.
  run = run_cli("generate --model " + model + " --prompt \"$(printf ' \\t\\v ')\" --output " + out.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--prompt is empty"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(out));

  // A name with a dot is a file type, not a folder; the message says how to name a folder.
  run = run_cli("generate --model " + model + " --prompt a --output " + (*dir_ / "clip.v2").string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("end its name with '/'"), std::string::npos) << run.output;

  // A shift that collapses the noise levels is refused before the load, and printed as given.
  run = run_cli("generate --model " + model + " --prompt a --shift 1e-300 --device cpu --output " + out.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("sampling shift 1e-300 is too extreme"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find(" on cpu"), std::string::npos) << "loaded the model first: " << run.output;

  // The partial result's place is checked up front too, and the message says what it is.
  const auto taken = *dir_ / "taken";
  std::filesystem::create_directories(taken);
  std::ofstream(taken / "x-partial.json") << R"({"a": 1})";
  run = run_cli("generate --model " + model + " --prompt a --device cpu --output " + (taken / "x.y4m").string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("is where a Ctrl-C would keep the partial result of"), std::string::npos) << run.output;
  // A file of the user's by that name, with no record: a Ctrl-C had replaced it.
  std::filesystem::remove(taken / "x-partial.json");
  std::ofstream(taken / "x-partial.y4m") << "my own file";
  run = run_cli("generate --model " + model + " --prompt a --device cpu --output " + (taken / "x.y4m").string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("'" + (taken / "x-partial.y4m").string() + "' exists and no run record beside it"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("Move or rename the file, or choose another output."), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("is where a Ctrl-C would keep the partial result of"), std::string::npos) << run.output;
  EXPECT_EQ(file_bytes(taken / "x-partial.y4m"), "my own file");

  for (const char* bad : {"bench step --shape tiny --num-steps 0", "eval --first-seed -3"}) {
    run = run_cli(bad);
    EXPECT_EQ(run.exit_code, 2) << bad;
    EXPECT_NE(run.output.find("must be at least"), std::string::npos) << bad << ": " << run.output;
  }

  run = run_cli("frobnicate");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("error: unknown command 'frobnicate'"), std::string::npos) << run.output;  // as every error
  EXPECT_EQ(run.output.find("did you mean"), std::string::npos) << run.output;
  // A command begun or mistyped is named.
  for (const auto& [typed, meant] : {std::pair{"gen", "generate"}, std::pair{"genrate", "generate"},
                                     std::pair{"trian", "train"}, std::pair{"random", "random-model"},
                                     std::pair{"--versoin", "--version"}, std::pair{"--hlep", "--help"}}) {
    run = run_cli(typed);
    EXPECT_EQ(run.exit_code, 2);
    EXPECT_NE(run.output.find("unknown command '" + std::string(typed) + "' (did you mean " + meant + "?)"),
              std::string::npos)
        << run.output;
  }

  // Refused before the model loads: an output the writer cannot write, an output folder under a
  // file (generate, compare, train), a seed with a sign, a NaN learning rate.
  std::ofstream(*dir_ / "a-file") << "x";
  run = run_cli("generate --model " + model + " --prompt a --device cpu --output " + (*dir_ / "never.avi").string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("unsupported output type '.avi' (use .mp4 or .y4m, as in '" + (*dir_ / "never").string() +
                            ".mp4', or a folder for PNG frames, one per frame: end its name with '/', as in '" +
                            (*dir_ / "never").string() + "/')"),
            std::string::npos)
      << run.output;
  EXPECT_EQ(run.output.find("model "), std::string::npos) << "loaded the model first: " << run.output;
  // A name without an extension that is a file: a PNG folder by its name, but likely meant as a video.
  run = run_cli("generate --model " + model + " --prompt a --device cpu --output " + (*dir_ / "a-file").string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("a name without .mp4 or .y4m is a folder of PNG frames, and " + (*dir_ / "a-file").string() +
                            " is a file; for a video, end the name with .mp4 or .y4m"),
            std::string::npos)
      << run.output;
  run = run_cli("generate --model " + model + " --prompt a --device cpu --output " + (*dir_ / "a-file" / "x.y4m").string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("is a file, not a folder"), std::string::npos) << run.output;
  run = run_cli("compare --model " + model + " --prompt a --device cpu --out " + (*dir_ / "a-file").string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--out takes a folder (for dense.mp4, <mode>.mp4 and report.json): '" +
                            (*dir_ / "a-file").string() + "' is a file, not a folder"),
            std::string::npos)
      << run.output;
  // A '+' is taken, as --cfg takes it (a count such as --steps refuses it: "N more"); one sign, digits
  // after it.
  run = run_cli("generate --model " + model + " --prompt a --device cpu --seed +4294967301 --output " + out.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--seed +4294967301 is past 4294967295: the noise generator reads 32 bits, so it would "
                            "give the video of --seed 5"),
            std::string::npos)
      << run.output;
  for (const char* seed : {"+", "+-5", "++5", "5+"}) {
    run = run_cli("generate --model " + model + " --prompt a --device cpu --seed " + seed + " --output " + out.string());
    EXPECT_EQ(run.exit_code, 2) << seed;
    EXPECT_NE(run.output.find("--seed expects a non-negative whole number or 'random', got '" + std::string(seed) + "'"),
              std::string::npos)
        << seed << ": " << run.output;
  }
  // Every command reads --seed alike.
  run = run_cli("random-model --seed -1 --out " + (*dir_ / "never-model").string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--seed expects a non-negative whole number or 'random', got '-1'"), std::string::npos)
      << run.output;
  std::filesystem::create_directory(*dir_ / "never.json");  // where the run record would go
  run = run_cli("generate --model " + model + " --prompt a --device cpu --output " + out.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("never.json': it is a folder"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("model "), std::string::npos) << "loaded the model first: " << run.output;
  std::filesystem::remove(*dir_ / "never.json");
  run = run_cli("generate --model " + model + " --prompt a --device cpu --fps 0.0004 --output " + out.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("fps (--fps) must be between 0.01 and 240 (got 0.0004)"), std::string::npos) << run.output;
  run = run_cli("train --preset shapes-tiny --device cpu --lr nan --steps 2 --out " + (*dir_ / "nan-run").string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--lr expects a finite number, got 'nan'"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "nan-run"));
  run = run_cli("train --preset shapes-tiny --device cpu --lr 1e-300 --steps 2 --out " + (*dir_ / "tiny-lr").string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--lr must be at least 1e-10 (default 1e-3), got 1e-300"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "tiny-lr"));

  EXPECT_FALSE(std::filesystem::exists(out));
  for (const auto& entry : std::filesystem::directory_iterator(*dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  }
}

// --noise device on the CPU draws the CPU's noise: the same video, and a record that says so (no
// "noise", as a run without the option); another word is refused naming the two.
TEST_F(CliTest, NoiseSourceIsRecordedAndChecked) {
  const std::string model = (*dir_ / "model").string();
  const std::string base = "generate --model " + model + " --prompt a --device cpu --steps 2 --seed 3 --output ";
  CliRun run = run_cli(base + (*dir_ / "noise-cpu.y4m").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  run = run_cli(base + (*dir_ / "noise-device.y4m").string() + " --noise device");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(file_bytes(*dir_ / "noise-cpu.y4m"), file_bytes(*dir_ / "noise-device.y4m"));
  const auto request = [&](const char* record) {
    return nlohmann::json::parse(std::ifstream(*dir_ / record))["request"];
  };
  EXPECT_EQ(request("noise-device.json"), request("noise-cpu.json"));
  EXPECT_FALSE(request("noise-cpu.json").contains("noise"));
  run = run_cli(base + (*dir_ / "noise-gpu.y4m").string() + " --noise gpu");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--noise expects cpu or device, got 'gpu'"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "noise-gpu.y4m"));
}

// The noise generator reads a seed's low 32 bits, so --seed 4294967297 would make --seed 1's video
// under another name (file, record, compare's cache): every command refuses a seed past 2^32 − 1
// before any work, naming the seed it would repeat where it would. --seed random draws one below
// 2^31, which the studio's seed box holds.
TEST_F(CliTest, SeedsAreThirtyTwoBits) {
  const std::string model = (*dir_ / "model").string();
  const std::string past = " --seed 4294967297";  // 2^32 + 1
  const std::string is_past = "--seed 4294967297 is past 4294967295: ";
  const std::string video = is_past + "the noise generator reads 32 bits, so it would give the video of --seed 1";
  CliRun run = run_cli("generate --model " + model + " --prompt a --device cpu" + past + " --output " +
                       (*dir_ / "seed-past.y4m").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find(video), std::string::npos) << run.output;
  run = run_cli("compare --model " + model + " --prompt a --device cpu" + past + " --out " +
                (*dir_ / "seed-past-compare").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find(video), std::string::npos) << run.output;
  run = run_cli("random-model --preset tiny" + past + " --out " + (*dir_ / "seed-past-model").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find(is_past + "the weight generator reads 32 bits, so it would give the weights of --seed 1"),
            std::string::npos)
      << run.output;
  run = run_cli("bench attention --shape tiny --device cpu --repeat 1 --seed 4294967296");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--seed 4294967296 is past 4294967295: the input generator reads 32 bits, so it would "
                            "give the inputs of --seed 0"),
            std::string::npos)
      << run.output;
  run = run_cli("bench step --shape tiny --device cpu" + past);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find(is_past + "the weight generator reads 32 bits, so it would give the weights of --seed 1"),
            std::string::npos)
      << run.output;
  run = run_cli("generate --model " + model + " --prompt a --device cpu --seed 99999999999999999999");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--seed 99999999999999999999 is past 4294967295: seeds are 32 bits here: give one from "
                            "0 to 4294967295"),
            std::string::npos)
      << run.output;
  // Where every generator reads 64 bits, any seed that fits them: a training run started with an
  // earlier version's 63-bit random seed resumes with it.
  run = run_cli("bench trace --tokens 64 --q-clusters 4 --k-clusters 8 --steps 1 --traces 1 --seed 4611686018427387904");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  run = run_cli("bench trace --seed 18446744073709551616");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--seed 18446744073709551616 is past 18446744073709551615"), std::string::npos)
      << run.output;
  for (const char* made : {"seed-past.y4m", "seed-past-compare", "seed-past-model"}) {
    EXPECT_FALSE(std::filesystem::exists(*dir_ / made)) << made;
  }
  run = run_cli("random-model --preset tiny --seed 4294967295 --out " + (*dir_ / "seed-largest-model").string());
  EXPECT_EQ(run.exit_code, 0) << run.output;

  // --seed random: a seed below 2^31 in the record, drawn afresh for each run.
  std::vector<uint64_t> drawn;
  for (const char* name : {"random-seed-1.y4m", "random-seed-2.y4m"}) {
    run = run_cli("generate --model " + model + " --prompt a --steps 1 --frames 1 --size 16x16 --device cpu --quiet "
                  "--seed random --output " + (*dir_ / name).string());
    ASSERT_EQ(run.exit_code, 0) << run.output;
    const nlohmann::json record = nlohmann::json::parse(std::ifstream(run_record_path(*dir_ / name)));
    drawn.push_back(record["request"]["seed"].get<uint64_t>());
    EXPECT_LT(drawn.back(), uint64_t(1) << 31);
  }
  EXPECT_NE(drawn[0], drawn[1]);
  // random-model says the seed it drew, and that seed makes the same weights again.
  run = run_cli("random-model --preset tiny --seed random --out " + (*dir_ / "random-seed-model").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const size_t said = run.output.find("), seed ");
  ASSERT_NE(said, std::string::npos) << run.output;
  const std::string seed = run.output.substr(said + 8, run.output.find('\n', said) - said - 8);
  run = run_cli("random-model --preset tiny --seed " + seed + " --out " + (*dir_ / "random-seed-again").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(file_bytes(*dir_ / "random-seed-model" / "model.safetensors"),
            file_bytes(*dir_ / "random-seed-again" / "model.safetensors"));
}

// Guidance 1 runs no unconditional pass, the only one that reads the negative prompt: a --negative
// there is refused before the model loads, naming the guidance (typed or the model's default); a
// pair of experts reads it when either guidance is not 1.
TEST_F(CliTest, NegativeIsRefusedWhereNoStepReadsIt) {
  const std::string model = (*dir_ / "model").string();
  const std::string unread = "--negative is not used with --cfg 1: guidance 1 runs no unconditional pass";
  CliRun run = run_cli("generate --model " + model + " --prompt \"a red circle\" --negative \"a blue square\" "
                       "--cfg 1 --device cpu --output " + (*dir_ / "unread.y4m").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find(unread), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("model "), std::string::npos) << "loaded the model first: " << run.output;
  run = run_cli("compare --model " + model + " --prompt \"a red circle\" --negative \"a blue square\" --cfg 1 "
                "--device cpu --out " + (*dir_ / "unread-compare").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find(unread), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "unread.y4m"));
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "unread-compare"));

  // A model whose default guidance is 1.
  const auto unguided = *dir_ / "unguided-model";
  ASSERT_EQ(run_cli("random-model --preset tiny --out " + unguided.string()).exit_code, 0);
  nlohmann::json manifest = nlohmann::json::parse(std::ifstream(unguided / "model.json"));
  manifest["defaults"]["guidance"] = 1.0;
  std::ofstream(unguided / "model.json") << manifest.dump(2);
  run = run_cli("generate --model " + unguided.string() + " --prompt \"a red circle\" --negative \"a blue square\" "
                "--device cpu --output " + (*dir_ / "unread.y4m").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--negative is not used with random-tiny's default guidance 1"), std::string::npos)
      << run.output;

  // Wan2.2-A14B's pair: --cfg 1 alone sets both experts' guidance; with the low-noise one at 2 the
  // negative prompt is read, and the record keeps it.
  const auto pair = test::write_tiny_wan_a14b_comfy(*dir_ / "negative-a14b");
  const std::string pair_run = "generate --model " + pair.string() + " --prompt \"a red cat\" --negative \"a dog\" "
                               "--frames 1 --size 48x32 --steps 1 --device cpu --cfg 1 ";
  run = run_cli(pair_run + "--output " + (*dir_ / "unread-pair.y4m").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find(unread + " at either expert"), std::string::npos) << run.output;
  run = run_cli(pair_run + "--cfg-low-noise 2 --output " + (*dir_ / "read-pair.y4m").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json record = nlohmann::json::parse(std::ifstream(run_record_path(*dir_ / "read-pair.y4m")));
  EXPECT_EQ(record["request"]["negative_prompt"], "a dog");
}

// No output replaces what a run reads or a user keeps: a run record over model.json or an attention
// preset, an attention dump over the weights, bench results over its activations, a folder taken
// for the current one. Each is refused before the model loads; a run record is replaced by the
// next run's. Options that would poison a run (infinity) and JSON files that are folders or hold
// numbers past an int are user errors too.
TEST_F(CliTest, OutputsNeverReplaceInputs) {
  const std::filesystem::path model = *dir_ / "model";
  const std::string manifest = file_bytes(model / "model.json");
  const std::string weights = file_bytes(model / "model.safetensors");
  const std::string generate = "generate --model " + model.string() + " --prompt \"a red circle\" --device cpu "
                               "--steps 1 --frames 1 --size 16x16 ";
  const auto refused = [](const CliRun& run, const std::string& message) {
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_NE(run.output.find(message), std::string::npos) << run.output;
    // "model random-tiny on cpu" is the first line after loading.
    EXPECT_EQ(run.output.find(" on cpu"), std::string::npos) << "loaded the model first: " << run.output;
  };
  // Nor a video, its record or PNG frames inside the model's folder: model.mp4's record would be
  // model.json, and a Wan folder's files are found by their extension.
  for (const std::filesystem::path& inside : {model / "model.mp4", model / "clip.y4m", model, model / "", model / "frames/"}) {
    refused(run_cli(generate + "--output " + inside.string()), "--output '" + inside.string() + "' is inside the model's folder");
  }
  refused(run_cli("compare --model " + model.string() + " --prompt \"a red circle\" --device cpu --steps 1 --frames 1 "
                  "--size 16x16 --out " + (model / "compared").string()),
          "--out '" + (model / "compared").string() + "' is inside the model's folder");
  // A name that is only an extension is a hidden folder's; the root is no PNG folder.
  refused(run_cli(generate + "--output " + (*dir_ / ".MP4").string()), "the video has no name before its extension");
  refused(run_cli(generate + "--output /"), "that is the root folder");
  refused(run_cli(generate + "--output -"), "--output -: svgear writes files, not the standard output");
  const std::filesystem::path preset = *dir_ / "preset.json";
  std::ofstream(preset) << R"({"mode": "svgear", "top_p": 0.8})";
  refused(run_cli(generate + "--attention-preset " + preset.string() + " --output " + (*dir_ / "preset.y4m").string()),
          "exists and is not a run record");
  EXPECT_EQ(file_bytes(preset), R"({"mode": "svgear", "top_p": 0.8})");
  refused(run_cli(generate + "--output " + (*dir_ / "dumped.y4m").string() + " --dump-attention " +
                  (model / "model.safetensors").string()),
          "is inside the model's folder");
  refused(run_cli(generate + "--output " + (*dir_ / "dumped.y4m").string() + " --dump-attention " +
                  (model / "new.safetensors").string()),
          "is inside the model's folder");
  refused(run_cli(generate + "--output " + (*dir_ / "dumped.y4m").string() + " --dump-attention /proc/x.safetensors"),
          "/proc");
  // Outside the model's folder, an attention dump replaces only an earlier dump: not another model's
  // weights, nor a file that is not safetensors at all.
  const std::filesystem::path other_weights = *dir_ / "other-model.safetensors";
  std::filesystem::copy_file(model / "model.safetensors", other_weights);
  const std::filesystem::path notes = *dir_ / "notes.safetensors";
  std::ofstream(notes) << "my notes";
  for (const auto& kept : {other_weights, notes}) {
    refused(run_cli(generate + "--output " + (*dir_ / "dumped.y4m").string() + " --dump-attention " + kept.string()),
            "exists and is not an earlier attention dump");
  }
  EXPECT_EQ(file_bytes(other_weights), weights);
  EXPECT_EQ(file_bytes(notes), "my notes");
  refused(run_cli("bench attention --shape tiny --device cpu --inputs " + (model / "model.safetensors").string() +
                  " --json " + (model / "model.safetensors").string()),
          "is the --inputs file");
  refused(run_cli("bench attention --shape tiny --device cpu --json " + (model / "model.json").string()),
          "exists and is not a results file (what `svgear bench` and `svgear eval` write with --json)");
  EXPECT_EQ(file_bytes(model / "model.json"), manifest);
  EXPECT_EQ(file_bytes(model / "model.safetensors"), weights);

  // A run record is replaced by the same output's next run.
  const std::filesystem::path clip = *dir_ / "twice.y4m";
  for (int run = 0; run < 2; ++run) {
    const CliRun made = run_cli(generate + "--output " + clip.string());
    ASSERT_EQ(made.exit_code, 0) << made.output;
  }
  EXPECT_EQ(nlohmann::json::parse(file_bytes(*dir_ / "twice.json"))["status"], "finished");

  refused(run_cli("random-model --out \"\""), "--out is empty: name the model folder to write");
  const std::string train = "train --preset shapes-tiny --device cpu --steps 2 ";
  refused(run_cli(train + "--out \"\""), "--out is empty: name the training folder");
  refused(run_cli(train + "--commit \"\" --out " + (*dir_ / "no-commit").string()), "--commit is empty");
  refused(run_cli("compare --model " + model.string() + " --prompt a --out \"\""), "--out needs a folder");
  refused(run_cli("train --preset shapes-tiny --device cpu --steps 2 --shift inf --out " + (*dir_ / "inf-run").string()),
          "--shift expects a finite number, got 'inf'");
  refused(run_cli("bench attention --shape tiny --device cpu --budgets ,"), "--budgets lists nothing");
  refused(run_cli("bench attention --shape tiny --device cpu --budgets 0.5,,0.9"),
          "--budgets has an empty item in '0.5,,0.9'");
  refused(run_cli("bench attention --shape tiny --device cpu --modes dense,"), "--modes has an empty item");
  refused(run_cli("bench attention --shape tiny --device cpu --modes dense,svg2,svg2"), "names one value twice");
  refused(run_cli("bench attention --shape tiny --device cpu --budgets 0.5,0.9,0.5"), "names one value twice");
  refused(run_cli("bench attention --shape tiny --device cpu --budgets \" 0.5\""), "--budgets expects a finite number");
  refused(run_cli("bench attention --shape tiny --device cpu --budgets 1.0000001"),
          "--budgets holds 1.0000001: each budget is a top_p in (0, 1]");
  refused(run_cli("bench attention --shape tiny --device cpu --budgets 0,0.5"), "--budgets holds 0: each budget");
  const std::string sized = "generate --model " + model.string() + " --prompt \"a red circle\" --device cpu ";
  refused(run_cli(sized + "--size 0x0 --output " + (*dir_ / "zero.y4m").string()),
          "width (--width) must be between 4 and 8192 pixels (got 0)\nheight (--height) must be between 4 and 8192 "
          "pixels (got 0)");
  refused(run_cli(sized + "--frames 2000 --output " + (*dir_ / "frames.y4m").string()),
          "frames (--frames) must be between 1 and 1024 (got 2000)");
  refused(run_cli(generate + "--attention-preset " + (*dir_ / "no-such-preset.json").string() + " --output " +
                  (*dir_ / "preset.y4m").string()),
          "no-such-preset.json: No such file or directory");
  refused(run_cli(generate + "--top-p 1.0000001 --output " + (*dir_ / "top-p.y4m").string()), "got 1.0000001");
  // q, k, v with no heads: LibTorch's CPU attention died of a floating-point exception on them.
  const std::filesystem::path empty_heads = *dir_ / "no-heads.safetensors";
  const at::Tensor none = at::zeros({1, 0, 16, 8});
  write_safetensors(empty_heads, {{"q", none}, {"k", none}, {"v", none}});
  refused(run_cli("bench attention --device cpu --modes dense --inputs " + empty_heads.string()), "is empty");
  // A missing file is a safetensors file that cannot be opened, not a "weights file".
  refused(run_cli("bench attention --device cpu --modes dense --inputs " + (*dir_ / "no-activations.safetensors").string()),
          "cannot open the safetensors file '" + (*dir_ / "no-activations.safetensors").string() + "'");
  // Finite values whose logits overflow: no table of NaN errors.
  const std::filesystem::path huge = *dir_ / "huge-activations.safetensors";
  const at::Tensor big = at::full({1, 1, 16, 8}, 1e30, at::kFloat);
  write_safetensors(huge, {{"q", big}, {"k", big}, {"v", big}});
  refused(run_cli("bench attention --device cpu --repeat 1 --inputs " + huge.string()),
          "dense attention of these inputs is not finite: q·k overflows in f32 (q and k hold values up to 1e+30)");
  // --json never turns a FIFO, a device or a link into a plain file.
  const std::filesystem::path fifo = *dir_ / "results.fifo", link = *dir_ / "results-link.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::ofstream(*dir_ / "results-target.json") << "{}";
  std::filesystem::create_symlink(*dir_ / "results-target.json", link);
  refused(run_cli("bench attention --shape tiny --device cpu --json " + fifo.string()), "not a regular file");
  refused(run_cli("bench attention --shape tiny --device cpu --json " + link.string()), "is a link");
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  std::filesystem::create_directories(*dir_ / "sheet-folder.png");
  refused(run_cli("eval --model " + model.string() + " --prompts 1 --device cpu --sheet " +
                  (*dir_ / "sheet-folder.png").string()),
          "sheet-folder.png': it is a folder");
  refused(run_cli("eval --model " + model.string() + " --prompts 1 --device cpu --sheet " + (*dir_ / "sheet.txt").string()),
          "--sheet writes a PNG image");
  std::filesystem::create_directories(*dir_ / "folder.json");
  refused(run_cli(generate + "--attention-preset " + (*dir_ / "folder.json").string() + " --output " +
                  (*dir_ / "never.y4m").string()),
          "folder.json' is a folder: an attention preset must be a regular file");
  std::ofstream(preset) << R"({"q_clusters": 4294967297})";
  refused(run_cli(generate + "--attention-preset " + preset.string() + " --output " + (*dir_ / "never.y4m").string()),
          "attention field 'q_clusters' must be a whole number up to 2147483647, got 4294967297");
  // 1e3 is the float 1000.0 to JSON: said how to write it, not "a whole number, got 1000.0" alone.
  std::ofstream(preset) << R"({"mode": "svgear", "q_clusters": 1e3})";
  refused(run_cli(generate + "--attention-preset " + preset.string() + " --output " + (*dir_ / "never.y4m").string()),
          "attention field 'q_clusters' must be a whole number up to 2147483647 written without a fraction or an "
          "exponent (1000), got 1000.0");
  std::ofstream(preset) << R"({"mode": "svgear", "q_clusters": 1e10})";  // too large however written
  refused(run_cli(generate + "--attention-preset " + preset.string() + " --output " + (*dir_ / "never.y4m").string()),
          "attention field 'q_clusters' must be a whole number up to 2147483647, got 10000000000.0");
  std::ofstream(preset) << R"({"mode": "svgear", "min_kc_ratio": 5})";
  refused(run_cli(generate + "--attention-preset " + preset.string() + " --output " + (*dir_ / "never.y4m").string()),
          "min_kc_ratio must be in [0, 1] (got 5)");
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "inf-run"));
  // Nor do options refused after the parse (an unknown preset), nor a duplicate option.
  refused(run_cli("train --preset bogus --device cpu --steps 2 --out " + (*dir_ / "bogus-run" / "deep").string()),
          "bogus");
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "bogus-run"));
  refused(run_cli(generate + "--seed 1 --seed 2 --output " + (*dir_ / "never.y4m").string()), "--seed is given twice");
  refused(run_cli(generate + "--q-clusters \" 1\" --output " + (*dir_ / "never.y4m").string()),
          "--q-clusters expects a whole number, got ' 1'");
  // "+N" is not "N more" (train had taken --steps +10 as 10; the GPU job's STEPS=+N is a sum).
  refused(run_cli("train --preset shapes-tiny --device cpu --steps +10 --out " + (*dir_ / "plus-run").string()),
          "--steps expects a whole number without a '+', got '+10': the value is the option's own, not an increase "
          "(give --steps 10 for that value)");
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "plus-run"));
}

// One trace's numbers agree with each other: labels with sizes, sizes and block map with the
// density; every array has its size.
void expect_consistent_trace(const nlohmann::json& t, int tokens, int qc, int kc) {
  const auto q_labels = t["q_labels"].get<std::vector<int>>(), k_labels = t["k_labels"].get<std::vector<int>>();
  const auto q_sizes = t["q_sizes"].get<std::vector<int64_t>>(), k_sizes = t["k_sizes"].get<std::vector<int64_t>>();
  const auto map = t["block_map"].get<std::vector<int>>();
  ASSERT_EQ(q_labels.size(), size_t(tokens));
  ASSERT_EQ(k_labels.size(), size_t(tokens));
  ASSERT_EQ(q_sizes.size(), size_t(qc));
  ASSERT_EQ(k_sizes.size(), size_t(kc));
  ASSERT_EQ(map.size(), size_t(qc * kc));
  EXPECT_EQ(t["block_log_error"].size(), size_t(qc * kc));
  std::vector<int64_t> q_counted(qc), k_counted(kc);
  for (int label : q_labels) ++q_counted.at(label);
  for (int label : k_labels) ++k_counted.at(label);
  EXPECT_EQ(q_counted, q_sizes);
  EXPECT_EQ(k_counted, k_sizes);
  double exact = 0.0;
  for (int i = 0; i < qc; ++i) {
    for (int j = 0; j < kc; ++j) exact += map[i * kc + j] * double(q_sizes[i] * k_sizes[j]);
  }
  EXPECT_NEAR(t["density"].get<double>(), exact / (double(tokens) * tokens), 1e-6);  // summed in float32
  EXPECT_GT(t["phase_ms"]["kmeans"].get<double>(), 0.0);
}

// A dense run's record holds its attention object as given, so it works as a preset again: the
// cluster counts are not resolved (or capped at the clip's 256 tokens) for a run that clusters nothing.
TEST_F(CliTest, ADenseRunsRecordWorksAsAPreset) {
  const std::string generate = "generate --model " + (*dir_ / "model").string() +
                               " --prompt \"a red circle\" --steps 1 --device cpu --quiet --output ";
  CliRun run = run_cli(generate + (*dir_ / "dense-first.y4m").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json attention = nlohmann::json::parse(std::ifstream(*dir_ / "dense-first.json"))["request"]["attention"];
  EXPECT_EQ(attention["mode"], "dense");
  EXPECT_EQ(attention["q_clusters"], 0);
  EXPECT_EQ(attention["k_clusters"], 1000);
  std::ofstream(*dir_ / "dense-preset.json") << attention.dump();
  run = run_cli(generate + (*dir_ / "dense-again.y4m").string() + " --attention-preset " +
                (*dir_ / "dense-preset.json").string());
  EXPECT_EQ(run.exit_code, 0) << run.output;
}

// --trace streams each sparse step's routing into one JSON file; its numbers agree with each other
// (labels with sizes, sizes and map with the density) and with the request (steps, layers, heads).
TEST_F(CliTest, TraceWritesTheRoutingOfEverySparseStep) {
  const std::string generate = "generate --model " + (*dir_ / "model").string() +
                               " --prompt \"a red circle moves left\" --frames 5 --size 48x32 --device cpu"
                               " --attention svgear --q-clusters 8 --k-clusters 16 ";
  const std::string one_dense_step = "--steps 4 --dense-steps 0.25 ";
  const auto trace_file = [](const std::filesystem::path& path) { return nlohmann::json::parse(std::ifstream(path)); };
  // The tiny model: 2 layers (layer 0 dense), 2 heads; 48×32×5 pixels → a 5×8×12 token grid.
  constexpr int kTokens = 5 * 8 * 12, kQc = 8, kKc = 16;

  const auto all = *dir_ / "trace-all.json";
  CliRun run = run_cli(generate + one_dense_step + "--trace " + all.string() + " --output " + (*dir_ / "traced.y4m").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("wrote the routing of 3 steps to " + all.string()), std::string::npos) << run.output;
  nlohmann::json trace = trace_file(all);
  EXPECT_EQ(trace["format"], "svgear-routing-trace/1");
  EXPECT_EQ(trace["run"]["model"], "random-tiny");
  EXPECT_EQ(trace["run"]["request"]["prompt"], "a red circle moves left");
  EXPECT_EQ(trace["run"]["request"]["steps"], 4);
  EXPECT_EQ(trace["run"]["request"]["attention"]["k_clusters"], kKc);
  ASSERT_EQ(trace["steps"].size(), 3u);  // step 0 is the dense warm-up
  for (int s = 0; s < 3; ++s) {
    const nlohmann::json& step = trace["steps"][s];
    EXPECT_EQ(step["step"], s + 1);
    EXPECT_EQ(step["num_steps"], 4);
    EXPECT_EQ(step["grid"]["frames"].get<int>() * step["grid"]["height"].get<int>() * step["grid"]["width"].get<int>(),
              kTokens);
    EXPECT_FALSE(step["maps_dropped"].get<bool>());
    ASSERT_EQ(step["traces"].size(), 2u);  // layer 1, heads 0 and 1
    for (int h = 0; h < 2; ++h) {
      const nlohmann::json& t = step["traces"][h];
      EXPECT_EQ(t["layer"], 1);
      EXPECT_EQ(t["head"], h);
      EXPECT_TRUE(t["measured_relative_l2"].is_null()) << "audited without --audit";
      expect_consistent_trace(t, kTokens, kQc, kKc);
    }
  }
  // What the studio's File ▸ Open routing trace reads back: the same steps, labels and maps.
  std::vector<RoutingEvent> read_back;
  const nlohmann::json read_run = read_routing_trace(all, [&](RoutingEvent&& e) { read_back.push_back(std::move(e)); });
  EXPECT_EQ(read_run, trace["run"]);
  ASSERT_EQ(read_back.size(), 3u);
  for (size_t s = 0; s < 3; ++s) {
    EXPECT_EQ(read_back[s].step, int(s) + 1);
    ASSERT_EQ(read_back[s].traces.size(), 2u);
    for (size_t h = 0; h < 2; ++h) {
      EXPECT_EQ(read_back[s].traces[h].layer, 1);
      EXPECT_EQ(read_back[s].traces[h].head, int(h));
      const nlohmann::json& written = trace["steps"][s]["traces"][h];
      EXPECT_EQ(read_back[s].traces[h].q_labels, written["q_labels"].get<std::vector<int32_t>>());
      EXPECT_EQ(read_back[s].traces[h].block_map, written["block_map"].get<std::vector<uint8_t>>());
      EXPECT_EQ(read_back[s].traces[h].density, written["density"].get<double>());
    }
  }
  const nlohmann::json record = trace_file(*dir_ / "traced.json");
  EXPECT_EQ(record["routing_trace"]["file"], "trace-all.json");
  EXPECT_EQ(record["routing_trace"]["steps"], 3);
  EXPECT_EQ(record["routing_trace"]["layers"], "all");
  EXPECT_EQ(record["routing_trace"]["heads"], "all");
  // A PNG folder named with its slash: the record beside the folder names the trace beside it, not
  // one folder up ("../trace-png.json").
  run = run_cli(generate + one_dense_step + "--trace " + (*dir_ / "trace-png.json").string() + " --output " +
                (*dir_ / "traced-png").string() + "/");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(trace_file(*dir_ / "traced-png.json")["routing_trace"]["file"], "trace-png.json");

  // --q-clusters 0 is the frame size's default (200 query clusters below 832x480), over a preset's 4.
  const auto four_clusters = *dir_ / "four-query-clusters.json";
  std::ofstream(four_clusters) << R"({"mode": "svgear", "q_clusters": 4, "k_clusters": 16})";
  const auto defaulted = *dir_ / "trace-default-qc.json";
  run = run_cli("generate --model " + (*dir_ / "model").string() + " --prompt \"a red circle\" --frames 5 --size 48x32 "
                "--device cpu --attention-preset " + four_clusters.string() +
                " --q-clusters 0 --steps 2 --dense-steps 0.5 --trace " + defaulted.string() + " --output " +
                (*dir_ / "defaulted.y4m").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  trace = trace_file(defaulted);
  ASSERT_EQ(trace["steps"].size(), 1u);
  expect_consistent_trace(trace["steps"][0]["traces"][0], kTokens, 200, kKc);

  // A selection, audited; the same path again replaces the earlier trace.
  const auto picked = *dir_ / "trace-picked.json";
  for (int again = 0; again < 2; ++again) {
    run = run_cli(generate + one_dense_step + "--trace " + picked.string() + " --trace-layers 0-1 --trace-heads 1 "
                  "--audit --output " + (*dir_ / "picked.y4m").string());
    ASSERT_EQ(run.exit_code, 0) << run.output;
  }
  // Layer 0 runs dense (at least one layer does): said, as the trace has no routing of it.
  EXPECT_NE(run.output.find("warning: --trace-layers: layer 0 runs dense attention (the first 1 of 2 layers do), so "
                            "the trace has no routing of it"),
            std::string::npos)
      << run.output;
  EXPECT_EQ(trace_file(*dir_ / "picked.json")["routing_trace"]["layers"], nlohmann::json({0, 1}));
  EXPECT_EQ(trace_file(*dir_ / "picked.json")["routing_trace"]["heads"], nlohmann::json({1}));
  trace = trace_file(picked);
  ASSERT_EQ(trace["steps"].size(), 3u);
  for (const nlohmann::json& step : trace["steps"]) {
    ASSERT_EQ(step["traces"].size(), 1u);
    EXPECT_EQ(step["traces"][0]["head"], 1);
    const double measured = step["traces"][0]["measured_relative_l2"].get<double>();
    EXPECT_GT(measured, 0.0);  // compensated blocks differ from dense attention, a little
    EXPECT_LT(measured, 1.0);
  }

  // Ctrl-C: the steps done so far, beside the partial video; nothing at the trace's own name.
  const auto cut = *dir_ / "trace-cut.json";
  run = test::run_cli_interrupted(generate + "--steps 200 --dense-steps 0 --trace " + cut.string() + " --output " +
                                      (*dir_ / "cut.y4m").string(),
                                  "step 3/200", SIGINT);
  EXPECT_EQ(run.exit_code, 130) << run.output;
  EXPECT_FALSE(std::filesystem::exists(cut));
  const auto cut_partial = *dir_ / "trace-cut-partial.json";
  ASSERT_TRUE(std::filesystem::exists(cut_partial)) << run.output;
  trace = trace_file(cut_partial);
  EXPECT_GE(trace["steps"].size(), 2u);
  EXPECT_LT(trace["steps"].size(), 199u);
  EXPECT_EQ(trace_file(*dir_ / "cut-partial.json")["routing_trace"]["file"], "trace-cut-partial.json");
  {
    // Ctrl-C in the first sparse step (after one dense step of 200; 64×64×8 makes it the slowest
    // step here): the trace has no step, and the line says the cancel, not the dense settings, is
    // why. A sparse step that finished before the signal came would have its trace, and that line.
    const auto first = *dir_ / "trace-first-sparse.json";
    run = test::run_cli_interrupted("generate --model " + (*dir_ / "model").string() +
                                        " --prompt \"a red circle\" --frames 8 --size 64x64 --device cpu --attention svgear"
                                        " --steps 200 --dense-steps 0.005 --trace " + first.string() + " --output " +
                                        (*dir_ / "first.y4m").string(),
                                    "step 1/200", SIGINT);
    EXPECT_EQ(run.exit_code, 130) << run.output;
    const auto first_partial = *dir_ / "trace-first-sparse-partial.json";
    ASSERT_TRUE(std::filesystem::exists(first_partial)) << run.output;
    EXPECT_EQ(run.output.find("no step ran sparse attention"), std::string::npos) << run.output;
    if (trace_file(first_partial)["steps"].empty()) {
      EXPECT_NE(run.output.find("without steps: the run was cancelled before a sparse step finished"), std::string::npos)
          << run.output;
    }
  }

  // Refused before the model loads, and nothing written.
  const auto refused = [&](const std::string& options, const std::string& message) {
    const CliRun r = run_cli(options + " --output " + (*dir_ / "refused.y4m").string());
    EXPECT_EQ(r.exit_code, 2) << options << ": " << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << options << ": " << r.output;
    EXPECT_EQ(r.output.find("model random-tiny"), std::string::npos) << "loaded the model first: " << r.output;
  };
  refused("generate --model " + (*dir_ / "model").string() + " --prompt a --device cpu --trace " +
              (*dir_ / "t.json").string(),
          "dense attention decides nothing");
  const std::string sparse = generate + "--steps 4 ";
  refused(sparse + "--trace-layers 1", "add --trace");
  refused(sparse + "--audit", "add --trace");
  refused(sparse + "--trace " + (*dir_ / "t.txt").string(), "give a path ending in .json");
  refused(sparse + "--trace " + (*dir_ / "t.json").string() + " --trace-layers 2", "routing trace layer 2 does not exist");
  // A trace that would hold nothing, for a reason known now: every step or every layer dense.
  refused(sparse + "--dense-steps 1 --trace " + (*dir_ / "t.json").string(),
          "--trace would hold nothing: all 4 steps run dense attention (a dense warm-up of 1 of the steps); lower "
          "--dense-steps");
  refused(sparse + "--dense-layers 1 --trace " + (*dir_ / "t.json").string(),
          "--trace would hold nothing: all 2 layers run dense attention (the dense-layers fraction 1, at least one "
          "layer); lower --dense-layers");
  refused(sparse + "--trace " + (*dir_ / "t.json").string() + " --trace-layers 0",
          "the routing trace's layers all run dense attention (the first 1 of 2 layers do");
  refused(sparse + "--trace " + (*dir_ / "t.json").string() + " --trace-heads 1-x", "--trace-heads: '1-x' is not a selection");
  refused(sparse + "--trace " + (*dir_ / "t.json").string() + " --trace-layers ''",
          "--trace-layers is empty: type all, or numbers and ranges such as 0,3-5");
  refused(sparse + "--trace " + (*dir_ / "refused.json").string(), "would share a name with the video or its run record");
  refused(sparse + "--trace " + (*dir_ / "model" / "new.json").string(), "is inside the model's folder");
  // A folder that takes no file (one that also refuses root): the option is named, not only the folder.
  refused(sparse + "--trace /proc/t.json", "error: --trace '/proc/t.json': cannot write in /proc");
  refused(sparse + "--dump-attention /proc/d.safetensors",
          "error: --dump-attention '/proc/d.safetensors': cannot write");
  const std::filesystem::path preset = *dir_ / "kept-preset.json";
  std::ofstream(preset) << R"({"top_p": 0.8})";
  refused(sparse + "--trace " + preset.string(),
          "exists and does not begin as a routing trace does ({\"format\": \"svgear-routing-trace/…\"), so it is not "
          "replaced");
  EXPECT_EQ(file_bytes(preset), R"({"top_p": 0.8})");
  // An earlier trace pretty-printed (json.tool's indentation) is still one: replaced (it was refused).
  const auto pretty = *dir_ / "pretty-trace.json";
  std::ofstream(pretty) << "{\n    \"format\": \"svgear-routing-trace/1\",\n    \"steps\": []\n}\n";
  const CliRun replaced =
      run_cli(sparse + "--trace " + pretty.string() + " --output " + (*dir_ / "pretty.y4m").string());
  EXPECT_EQ(replaced.exit_code, 0) << replaced.output;
  EXPECT_FALSE(trace_file(pretty)["steps"].empty());
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "refused.y4m"));
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "t.json"));
}

// The same on the GPU, where the CUDA kernels decide (the small model's head dim, 64, is one they
// take) and the trace copies their labels and maps back.
TEST_F(CliTest, TraceOnTheGpuRecordsWhatTheKernelsDecided) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const auto model = *dir_ / "model-small";
  CliRun run = run_cli("random-model --preset small --out " + model.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto trace = *dir_ / "trace-gpu.json";
  run = run_cli("generate --model " + model.string() + " --prompt \"a red circle moves left\" --steps 3 --frames 5"
                " --size 48x32 --device cuda --attention svgear --q-clusters 8 --k-clusters 16 --dense-steps 0"
                " --trace " + trace.string() + " --audit --output " + (*dir_ / "gpu.y4m").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json written = nlohmann::json::parse(std::ifstream(trace));
  ASSERT_EQ(written["steps"].size(), 3u);
  for (const nlohmann::json& step : written["steps"]) {
    ASSERT_EQ(step["traces"].size(), 3u * 2u);  // layers 1-3 (layer 0 dense), 2 heads
    for (const nlohmann::json& t : step["traces"]) {
      expect_consistent_trace(t, 5 * 8 * 12, 8, 16);
      EXPECT_LT(t["measured_relative_l2"].get<double>(), 0.5);
    }
  }
}

// A learning rate that blows the weights up: the NaN loss ends the run (exit 2) before anything is
// saved or exported, and the new run's folder goes with it.
TEST_F(CliTest, ADivergedTrainingRunSavesNothing) {
  const auto out = *dir_ / "diverged";
  const CliRun run = run_cli("train --preset shapes-tiny --device cpu --lr 1e30 --steps 6 --log-every 1 --batch 1 --out " +
                             out.string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("training diverged: the loss is NaN"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("Nothing after step 0 was saved"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(out));
}

// One step of that rate: the loss read is of the weights before their update, so only the check of
// the weights themselves before the save sees that the update spoilt them (~5e27 each).
TEST_F(CliTest, ASpoiltLastUpdateIsNotSaved) {
  const auto out = *dir_ / "spoilt-last-step";
  const CliRun run = run_cli("train --preset shapes-tiny --device cpu --lr 1e30 --steps 1 --batch 1 --out " + out.string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("the weights or their optimiser state are no longer finite by step 1"), std::string::npos)
      << run.output;
  EXPECT_FALSE(std::filesystem::exists(out));
}

// What stands where the run writes its folders or its loss log is named before any step is trained.
TEST_F(CliTest, TrainRefusesFilesInTheWayOfItsOutputsBeforeTraining) {
  for (const char* blocker : {"checkpoint", "model", "loss.tsv"}) {
    const auto out = *dir_ / (std::string("blocked-") + blocker);
    std::filesystem::create_directories(out);
    if (std::string(blocker) == "loss.tsv") {
      std::filesystem::create_directories(out / blocker);
    } else {
      std::ofstream(out / blocker) << "the user's";
    }
    const CliRun run = run_cli("train --preset shapes-tiny --device cpu --steps 2 --batch 1 --out " + out.string());
    EXPECT_EQ(run.exit_code, 2) << blocker << ": " << run.output;
    EXPECT_NE(run.output.find((out / blocker).string()), std::string::npos) << run.output;
    EXPECT_EQ(run.output.find("step 1"), std::string::npos) << "trained before refusing: " << run.output;
  }
  const CliRun run = run_cli("train --preset shapes-tiny --device cpu --steps 2 --object-weight 1e39 --out " +
                             (*dir_ / "heavy").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--object-weight must be between 1"), std::string::npos) << run.output;
  const CliRun huge = run_cli("train --preset shapes-tiny --device cpu --steps 2 --batch 2000000000 --out " +
                              (*dir_ / "huge").string());
  EXPECT_EQ(huge.exit_code, 2) << huge.output;
  EXPECT_NE(huge.output.find("--batch must be between 1 and 4096 clips, got 2000000000"), std::string::npos)
      << huge.output;
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "huge"));
  // A batch the host's memory cannot hold (~3.4 GiB a shapes-l clip on the CPU) is refused with the
  // batch that fits, before a step: the kernel's OOM killer would end the step without a word.
  const CliRun past_memory = run_cli("train --preset shapes-l --device cpu --steps 2 --batch 4096 --out " +
                                     (*dir_ / "past-memory").string());
  EXPECT_EQ(past_memory.exit_code, 2) << past_memory.output;
  EXPECT_TRUE(std::regex_search(past_memory.output,
                                std::regex("out of memory on the CPU: a training step of 4096 shapes-l clips holds about "
                                           "[0-9.]+ GiB, and [0-9.]+ GiB are available; lower --batch to at most "
                                           "[0-9]+, or train on a GPU")))
      << past_memory.output;
  EXPECT_EQ(past_memory.output.find("step 1"), std::string::npos) << past_memory.output;
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "past-memory"));
}

// An option of svgear train out of its range is refused before anything is made, naming the
// option, its range and the value given (--batch 0 reached the trainer, whose message named no option).
TEST(CliTrain, AnOutOfRangeOptionIsNamedWithItsRange) {
  const std::filesystem::path out = test::scratch_dir("cli-train-options") / "run";
  // Each with --steps and --batch small (unless they are the subject): a value wrongly accepted trains briefly.
  const std::string position_range = "--text-position-std must be between 0 and 1 (the token rows' std)";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--steps 1 --batch 0", "--batch must be between 1 and 4096 clips, got 0"},
      {"--steps 1 --batch -3", "--batch must be between 1 and 4096 clips, got -3"},
      {"--steps 0 --batch 1", "--steps must be at least 1, got 0"},
      {"--steps 1 --batch 1 --checkpoint-every 0", "--checkpoint-every must be at least 1, got 0"},
      {"--steps 1 --batch 1 --log-every -1", "--log-every must be at least 1, got -1"},
      {"--steps 1 --batch 1 --warmup -1", "--warmup must be at least 0, got -1"},
      {"--steps 2 --batch 1 --cooldown 3", "--cooldown must be between 1 and --steps (2), got 3"},
      {"--steps 2 --batch 1 --stop-at 3", "--stop-at must be between 1 and --steps (2), got 3"},
      {"--steps 1 --batch 1 --max-objects 0", "--max-objects must be between 1 and"},
      {"--steps 1 --batch 1 --text-layers -1", "--text-layers must be 0, 1 or 2, got -1"},
      {"--steps 1 --batch 1 --text-position-std 3", position_range + ", got 3"},
      {"--steps 1 --batch 1 --text-position-std 1e30", position_range + ", got 1e+30"},
      {"--steps 1 --batch 1 --text-position-std -0.5", position_range + ", got -0.5"}};
  for (const auto& [options, message] : cases) {
    const CliRun run = run_cli("train --preset shapes-tiny --device cpu " + options + " --out " + out.string());
    EXPECT_EQ(run.exit_code, 2) << options << ": " << run.output;
    EXPECT_NE(run.output.find(message), std::string::npos) << options << ": " << run.output;
    EXPECT_FALSE(std::filesystem::exists(out)) << options << " made " << out;
    std::filesystem::remove_all(out);
  }
  // The bound itself is taken.
  const CliRun run = run_cli("train --preset shapes-tiny --device cpu --steps 1 --batch 1 --text-position-std 1 --out " +
                             out.string());
  EXPECT_EQ(run.exit_code, 0) << run.output;
}

// A batch past the memory is the user's choice: a user error (exit 2) naming the step and the batch
// and saying to lower --batch, not an internal error with the allocator's text; the new run saved
// nothing, so it leaves no folder. The address space is limited to a gibibyte beyond what svgear
// maps at its start, under half a step of 256 shapes-tiny clips (~2.3 GiB), so the run fails at its
// first step on any machine; one clip, as the message advises, trains in the same limit. (2048
// clips, ~18 GiB, met the host-memory check before the first step wherever less was free: a
// message of its own, tested above with shapes-l.)
TEST(CliTrain, OutOfMemorySaysWhatToLower) {
  const std::filesystem::path root = test::scratch_dir("cli-train-memory");
  const std::string train = "train --preset shapes-tiny --device cpu --steps 1 --out ";
  constexpr uint64_t kGiB = uint64_t(1) << 30;
  CliRun run = test::run_cli_in_memory(train + (root / "large").string() + " --batch 256", kGiB);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("error: out of memory on "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(" at step 1 with batch 256: lower --batch\n"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("internal error"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(root / "large"));
  run = test::run_cli_in_memory(train + (root / "small").string() + " --batch 1", kGiB);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(std::filesystem::exists(root / "small" / "model" / "model.safetensors")) << run.output;
  // A run from an export starts past step 0 without a checkpoint of its own: none is said to be kept.
  run = test::run_cli_in_memory("train --continue-from " + (root / "small" / "model").string() +
                                    " --device cpu --steps 2 --batch 256 --out " + (root / "continued").string(),
                                kGiB);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find(" at step 2 with batch 256: lower --batch\n"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(root / "continued"));
}

// A checkpoint that cannot be written (here a file-size limit, as a full disk fails it) ends the run
// with exit 2, saying the earlier checkpoint is kept; it is whole, and the same command resumes it.
TEST(CliTrain, AFailedCheckpointWriteKeepsTheEarlierOne) {
  const std::filesystem::path run_folder = test::scratch_dir("cli-train-full-disk") / "run";
  const std::string train = "train --preset shapes-tiny --device cpu --checkpoint-every 2 --out " + run_folder.string();
  CliRun run = run_cli(train + " --steps 2");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  // 64 KiB: the loss log and state.json fit, a shapes-tiny checkpoint's shard (~1.6 MB) does not.
  run = test::run_cli_with_file_size_limit(train + " --steps 4", 64 * 1024);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("(the checkpoint of step 2 is kept)"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("internal error"), std::string::npos) << run.output;
  run = run_cli(train + " --steps 4");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("step 4\t"), std::string::npos) << run.output;
  const nlohmann::json state = nlohmann::json::parse(std::ifstream(run_folder / "checkpoint" / "state.json"));
  EXPECT_EQ(state["step"], 4) << state.dump();
}

// svgear bench step refuses, before any work, steps that do not fit in the schedule (they sit past
// its dense warm-up; the schedule used to be lengthened without a word, timing and estimating
// another one than asked for), a count past the longest schedule (2147483647 overflowed), a mode
// named twice (it ran once), and a budget with dense alone (it did nothing).
TEST(CliBench, StepRefusesStepsOutsideItsScheduleARepeatedModeAndADenseBudget) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--steps 48 --num-steps 50", "--steps 48 needs --num-steps 62 or more (every mode times the same steps: the "
                                    "cold step and the timed ones follow the schedule's dense warm-up, its first "
                                    "20%, where sparse modes run sparse, and one untimed step follows them); "
                                    "--num-steps 50 holds at most --steps 38"},
      {"--steps 3 --num-steps 4", "--steps 3 needs --num-steps 6 or more"},
      {"--steps 1 --num-steps 2", "--steps 1 needs --num-steps 3 or more"},
      {"--steps 1 --num-steps 2", "--num-steps 2 holds no timed step"},
      {"--steps 2147483647", "--steps must be between 1 and 1000, got 2147483647"},
      {"--steps 1 --num-steps 2147483647", "--num-steps must be between 1 and 1000 (a generation's longest schedule), "
                                           "got 2147483647"},
      {"--steps 999 --num-steps 1000", "--steps 999 does not fit in the longest schedule, --num-steps 1000, which "
                                       "holds at most --steps 798"},
      {"--steps 1 --num-steps 10 --modes dense,dense", "--modes names dense twice: each mode runs once"},
      {"--steps 1 --num-steps 10 --modes svgear,dense,svg-ear", "--modes names svgear twice"},
      {"--steps 1 --num-steps 10 --modes dense --top-p 0.25", "only the sparse modes (svg2, svgear) use --top-p"}};
  for (const auto& [options, message] : cases) {
    const CliRun run = run_cli("bench step --shape tiny --device cpu " + options);
    EXPECT_EQ(run.exit_code, 2) << options << ": " << run.output;
    EXPECT_NE(run.output.find(message), std::string::npos) << options << ": " << run.output;
    EXPECT_EQ(run.output.find("bench step: text encoder"), std::string::npos) << options << " ran: " << run.output;
  }
  // The shortest schedule that holds one timed step runs.
  const CliRun fits = run_cli("bench step --shape tiny --device cpu --modes dense --steps 1 --num-steps 3");
  EXPECT_EQ(fits.exit_code, 0) << fits.output;
  EXPECT_NE(fits.output.find("3-step schedule, 0 dense warm-up steps"), std::string::npos) << fits.output;
}

// A refused command exited 2 with `message` before any work: no table, no progress.
void expect_refused_before_work(const CliRun& run, const std::string& message, const std::string& options) {
  EXPECT_EQ(run.exit_code, 2) << options << ": " << run.output;
  EXPECT_NE(run.output.find(message), std::string::npos) << options << ": " << run.output;
  EXPECT_EQ(run.output.find("device: "), std::string::npos) << options << " ran: " << run.output;
  EXPECT_EQ(run.output.find("evaluating"), std::string::npos) << options << " ran: " << run.output;
}

// bench attention refuses options that would do nothing in the run asked for, naming each and why:
// --seed beside --inputs (the seed draws the synthetic inputs the file replaces), --kernel on the
// CPU (it chooses GPU kernels), and the sparse modes' options when dense runs alone.
TEST(CliBench, AttentionRefusesOptionsThatDoNothing) {
  const std::filesystem::path inputs = test::scratch_dir("cli-bench-options") / "qkv.safetensors";
  const at::Tensor x = at::randn({1, 1, 16, 8});
  write_safetensors(inputs, {{"q", x}, {"k", x}, {"v", x}});
  const std::string tiny = "bench attention --shape tiny --device cpu --repeat 1 ";
  const std::string from_file = "bench attention --inputs " + inputs.string() + " --device cpu --repeat 1 ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {from_file + "--seed 7", "--seed draws the synthetic inputs, and --inputs replaces them"},
      {from_file + "--seed 0 --modes dense", "--seed draws the synthetic inputs"},
      {tiny + "--kernel reference", "--kernel chooses the kernels a GPU runs, and this run's device is the CPU"},
      {tiny + "--kernel fastest --modes svgear", "drop --kernel, or choose a GPU with --device"},
      {tiny + "--modes dense --budgets 0.5", "--modes dense runs no sparse mode, and only the sparse modes (svg2, "
                                             "svgear) use --budgets: drop it, or add svg2 or svgear to --modes"},
      {tiny + "--modes dense --q-clusters 8", "only the sparse modes (svg2, svgear) use --q-clusters"},
      {tiny + "--modes dense --k-clusters 32 --budgets 0.9", "use --budgets and --k-clusters: drop them"},
  };
  for (const auto& [options, message] : cases) expect_refused_before_work(run_cli(options), message, options);
  if (!at::hasCUDA()) {  // --device auto found no GPU: said so
    expect_refused_before_work(run_cli("bench attention --shape tiny --repeat 1 --kernel mma-sync"),
                               "(--device auto found no GPU)", "--device auto --kernel mma-sync");
  }
  // What each of them does where it applies still runs.
  for (const std::string& options : {from_file + "--modes dense", tiny + "--modes dense,svgear --budgets 0.5 "
                                                                         "--q-clusters 8 --k-clusters 32 --seed 3"}) {
    const CliRun run = run_cli(options);
    EXPECT_EQ(run.exit_code, 0) << options << ": " << run.output;
  }
}

// Counts of repeated work are bounded where they are read: a typo's 2^31 calls or prompts would run
// for days or years, silent until the end.
TEST(CliBench, CountsOfRepeatedWorkAreBounded) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bench attention --shape tiny --device cpu --repeat 1001", "--repeat must be from 1 to 1000, got 1001"},
      {"bench attention --shape tiny --device cpu --repeat 2147483647", "--repeat must be from 1 to 1000"},
      {"eval --prompts 1001 --device cpu", "--prompts must be from 1 to 1000, got 1001"},
      {"eval --prompts 2 --first-seed 2147483647 --device cpu",
       "--first-seed 2147483647 with 2 prompts would take seeds past 2147483647: give --first-seed at most 2147483646"},
      {"eval --text-influence --prompts 2147483647 --device cpu", "--prompts must be from 1 to 1000"},
  };
  for (const auto& [options, message] : cases) expect_refused_before_work(run_cli(options), message, options);
  CliRun run = run_cli("bench attention --shape tiny --device cpu --modes dense --repeat 1000");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  // Text influence's seeds draw scenes only (64 bits): the clips' limit is not its.
  run = run_cli("eval --text-influence --prompts 2 --first-seed 2147483647 --device cpu");
  EXPECT_EQ(run.exit_code, 0) << run.output;
}

// --budgets reads numbers as every number option does: decimal and finite (strtod alone took
// 0x1p-1 and 0x.8 for 0.5).
TEST(CliBench, AttentionBudgetsAreDecimalNumbers) {
  for (const std::string budget : {"0x1p-1", "0x.8", "0X.8", "nan", "inf", "1e999", "0.5x", "0.5,0x.8"}) {
    const std::string options = "bench attention --shape tiny --device cpu --repeat 1 --budgets " + budget;
    expect_refused_before_work(run_cli(options), "--budgets expects a finite number, got '", options);
  }
  const CliRun run = run_cli("bench attention --shape tiny --device cpu --repeat 1 --modes svgear --budgets 5e-1");
  EXPECT_EQ(run.exit_code, 0) << run.output;
}

// The table shows each budget as given (0.9 and 0.901 were both "0.90"), the JSON keeps it exactly.
TEST(CliBench, AttentionTableShowsEachBudgetAsGiven) {
  const std::filesystem::path json_path = test::scratch_dir("cli-bench-budgets") / "bench.json";
  const CliRun run = run_cli("bench attention --shape tiny --device cpu --repeat 1 --modes svgear --budgets "
                             "0.9,0.901,0.9000001 --json " + json_path.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<std::string> shown;  // the top_p column of the table's rows
  std::istringstream lines(run.output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string mode, top_p;
    if (words >> mode >> top_p && (mode == "dense" || mode == "svgear")) shown.push_back(top_p);
  }
  EXPECT_EQ(shown, (std::vector<std::string>{"1", "0.9", "0.901", "0.9000001"})) << run.output;
  const nlohmann::json result = nlohmann::json::parse(std::ifstream(json_path));
  std::vector<double> recorded;
  for (const auto& row : result["rows"]) recorded.push_back(row["top_p"]);
  EXPECT_EQ(recorded, (std::vector<double>{1.0, 0.9, 0.901, 0.9000001}));
  // What makes the figures comparable later: the command, the version and the time they were taken.
  EXPECT_EQ(result["command"], "svgear bench attention");
  EXPECT_EQ(result["svgear_version"], SVGEAR_VERSION);
  EXPECT_TRUE(std::regex_match(result["created"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << result["created"];
}

// --q-clusters 0 is the shape's count (as generate's 0 is the frame size's); the JSON records the
// counts the sparse rows ran with.
TEST(CliBench, ZeroQueryClustersIsTheShapesCount) {
  const std::filesystem::path json_path = test::scratch_dir("cli-bench-q-clusters") / "bench.json";
  const auto q_clusters_run = [&](const std::string& given) {
    const CliRun run = run_cli("bench attention --shape tiny --device cpu --repeat 1 --modes svgear --budgets 0.9" +
                               given + " --json " + json_path.string());
    EXPECT_EQ(run.exit_code, 0) << run.output;
    return nlohmann::json::parse(std::ifstream(json_path))["shape"]["q_clusters"].get<int>();
  };
  const int shapes = q_clusters_run("");
  EXPECT_EQ(q_clusters_run(" --q-clusters 0"), shapes);
  EXPECT_EQ(q_clusters_run(" --q-clusters 5"), 5);
}

// Running out of memory is the size asked for, which the user chooses: a user error (exit 2) that
// says what to lower, not an internal error with an allocator's backtrace. The address space is
// limited below what each run allocates first, so each fails at once on any machine.
TEST(CliBench, OutOfMemorySaysWhatToLower) {
  // q, k and v of 16 GiB each, in a sparse file: nothing is on the disk but the header.
  const std::filesystem::path inputs = test::scratch_dir("cli-bench-memory") / "huge.safetensors";
  const int64_t tensor_bytes = int64_t(1) << 34;
  nlohmann::json header;
  for (int i = 0; i < 3; ++i) {
    header[std::string(1, "qkv"[i])] = {{"dtype", "F32"},
                                         {"shape", {1, 1, tensor_bytes / 256, 64}},
                                         {"data_offsets", {i * tensor_bytes, (i + 1) * tensor_bytes}}};
  }
  const std::string text = header.dump();
  {
    std::ofstream out(inputs, std::ios::binary);
    const uint64_t size = text.size();
    for (int i = 0; i < 8; ++i) out.put(char(size >> (8 * i)));
    out << text;
  }
  std::filesystem::resize_file(inputs, 8 + text.size() + 3 * uint64_t(tensor_bytes));
  constexpr uint64_t kGiB = uint64_t(1) << 30;
  CliRun run = run_cli_in_memory("bench attention --inputs " + inputs.string() + " --device cpu --repeat 1", 3 * kGiB);
  std::filesystem::remove(inputs);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("error: out of memory on cpu: give a smaller --inputs file (fewer heads or tokens)"),
            std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("internal error"), std::string::npos) << run.output;
  // umT5's first weight alone is 4 GB. Where the machine has less memory free than the bench's
  // largest stage, the bench refuses before drawing it, saying the same.
  run = run_cli_in_memory("bench step --shape wan1.3b-480p --device cpu --dtype bf16 --modes dense --steps 1",
                          3 * kGiB);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("choose a smaller --shape"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("internal error"), std::string::npos) << run.output;
}

// svgear train: a new run, then the same command with more steps resumes; the loss log grows and
// the exported model generates.
// SIGTERM (or Ctrl-C) stops a training run after its step: it saves, exports, and exits with 143
// (128 + SIGTERM) so that a script can tell it from a finished run.
TEST_F(CliTest, AnInterruptedTrainingRunSavesAndExitsWith128PlusTheSignal) {
  const auto out = *dir_ / "train-stopped";
  const CliRun run = test::run_cli_interrupted(
      "train --preset shapes-tiny --out " + out.string() + " --steps 100000 --batch 2 --log-every 1", "step 2\t",
      SIGTERM);
  EXPECT_EQ(run.exit_code, 128 + SIGTERM) << run.output;
  EXPECT_NE(run.output.find("stopped at step"), std::string::npos) << run.output;
  EXPECT_TRUE(std::filesystem::exists(out / "checkpoint")) << run.output;
  EXPECT_TRUE(std::filesystem::exists(out / "model" / "model.json")) << run.output;
}

TEST_F(CliTest, TrainResumesAndExportsAModel) {
  const auto out = *dir_ / "train";
  CliRun run = run_cli("train --preset shapes-tiny --out " + out.string() + " --steps 3 --batch 2 --log-every 1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("training shapes-tiny"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("done at step 3"), std::string::npos) << run.output;
  run = run_cli("train --out " + out.string() + " --steps 5 --log-every 1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("resuming shapes-tiny"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("step 5\t"), std::string::npos) << run.output;
  std::ifstream log(out / "loss.tsv");
  int lines = 0;
  for (std::string line; std::getline(log, line);) ++lines;
  EXPECT_EQ(lines, 6);  // header + 5 steps
  // Again with no step left: nothing is written (its export had been rewritten, new file times and all).
  const auto weights_time = std::filesystem::last_write_time(out / "model" / "model.safetensors");
  const auto state_time = std::filesystem::last_write_time(out / "checkpoint" / "state.json");
  std::ofstream(out / "loss.tsv", std::ios::app) << "6\t1.000000\t0.001\t9.9\n";  // a step the checkpoint lacks
  run = run_cli("train --out " + out.string() + " --steps 5");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("already at step 5: nothing to do (" + (out / "checkpoint").string() + " and " +
                            (out / "model").string() + " are as they were)"),
            std::string::npos)
      << run.output;
  EXPECT_EQ(std::filesystem::last_write_time(out / "model" / "model.safetensors"), weights_time);
  EXPECT_EQ(std::filesystem::last_write_time(out / "checkpoint" / "state.json"), state_time);
  {  // the log trimmed to the checkpoint, as a resume that trains trims it
    std::ifstream trimmed(out / "loss.tsv");
    int trimmed_lines = 0;
    for (std::string line; std::getline(trimmed, line);) ++trimmed_lines;
    EXPECT_EQ(trimmed_lines, 6);
  }
  const auto clip = *dir_ / "trained.y4m";
  run = run_cli("generate --model " + (out / "model").string() +
                " --prompt \"a red circle moves left over a blue sky\" --steps 2 --device cpu --output " + clip.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(std::filesystem::exists(clip));
  // The run folder or its checkpoint given as the model: named as such, with the export's folder
  // (the checkpoint's shard had passed for a Wan folder's and asked for a umT5 text encoder).
  for (const auto& [given, what] : {std::pair{out / "checkpoint", "checkpoint"}, std::pair{out, "run folder"}}) {
    for (const std::string& command : {"info --model " + given.string(),
                                      "train --init-from " + given.string() + " --out " + (*dir_ / "never").string()}) {
      run = run_cli(command);
      EXPECT_EQ(run.exit_code, 2) << run.output;
      EXPECT_NE(run.output.find("'" + given.string() + "' is an `svgear train` " + what + ", not a model: its model is '" +
                                (out / "model").string() + "'"),
                std::string::npos)
          << command << ": " << run.output;
    }
  }
  run = run_cli("train --out " + out.string() + " --steps 6 --shift 1");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("a resumed run keeps its recipe"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("--continue-from"), std::string::npos) << run.output;
  run = run_cli("train --preset shapes-s --out " + out.string() + " --steps 6");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("trains shapes-tiny, not shapes-s"), std::string::npos) << run.output;

  // A later session continues the export: same step count, recipe and stage history.
  const auto next = *dir_ / "continued";
  run = run_cli("train --continue-from " + (out / "model").string() + " --out " + next.string() +
                " --steps 7 --log-every 1 --commit abc1234");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("step 7\t"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("step 1\t"), std::string::npos) << run.output;
  const nlohmann::json record = nlohmann::json::parse(std::ifstream(next / "model" / "model.json"))["training"];
  EXPECT_EQ(record["steps"], 7);
  EXPECT_EQ(record["recipe"]["batch"], 2);  // the continued run's recipe, not the CLI default
  ASSERT_EQ(record["stages"].size(), 3u);    // first run, resume, continuation
  EXPECT_EQ(record["stages"][2]["commit"], "abc1234");
  // How each stage started, for packaging/replay-training.sh.
  EXPECT_EQ(record["stages"][0]["start"], "new");
  EXPECT_EQ(record["stages"][1]["start"], "resumed");
  EXPECT_EQ(record["stages"][2]["start"], "continued");
  EXPECT_EQ(record["stages"][2]["batch"], 2);
  EXPECT_EQ(record["stages"][2]["first_step"], 5);
  EXPECT_EQ(record["stages"][2]["last_step"], 7);
  EXPECT_FALSE(record["stages"][2].contains("cooldown"));
  EXPECT_DOUBLE_EQ(record["recipe"]["shift"].get<double>(), 3.0);

  // A run that ships ends on a cool-down, recorded in its stage; the next run does not inherit it.
  const auto cooled = *dir_ / "cooled";
  run = run_cli("train --continue-from " + (next / "model").string() + " --out " + cooled.string() +
                " --steps 9 --cooldown 2 --warmup 1 --shift 1.5 --max-objects 2 --log-every 1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json cooled_record = nlohmann::json::parse(std::ifstream(cooled / "model" / "model.json"))["training"];
  EXPECT_EQ(cooled_record["stages"][3]["cooldown"], nlohmann::json::array({7, 9}));
  EXPECT_EQ(cooled_record["recipe"]["cooldown_end"], 9);
  EXPECT_DOUBLE_EQ(cooled_record["recipe"]["shift"].get<double>(), 1.5);  // a new run may change the recipe
  EXPECT_EQ(cooled_record["recipe"]["max_objects"], 2);
  EXPECT_EQ(cooled_record["stages"][3]["max_objects"], 2);
  std::ifstream cooled_log(cooled / "loss.tsv");
  std::string header, step8, step9;
  std::getline(cooled_log, header);
  std::getline(cooled_log, step8);
  std::getline(cooled_log, step9);
  EXPECT_EQ(step9.substr(0, 2), "9\t") << step9;
  // The window's last step runs at half its first's rate.
  EXPECT_NEAR(logged_rate(step9), logged_rate(step8) / 2, 1e-6) << step8 << " / " << step9;
  // packaging/replay-training.py rebuilds the cooled model from its stages: the resumed stage runs
  // unbroken (so the weights differ by the bf16 rounding of the moments at that resume, no more).
  const auto replay = *dir_ / "replay";
  const ReplayRun replayed_run = replay_training(cooled / "model", replay, "--device cpu --svgear " SVGEAR_CLI_PATH);
  ASSERT_EQ(replayed_run.status, 0) << replayed_run.output;
  const nlohmann::json replayed = nlohmann::json::parse(std::ifstream(replay / "shapes-tiny.3" / "model" / "model.json"))["training"];
  EXPECT_EQ(replayed["steps"], 9);
  ASSERT_EQ(replayed["stages"].size(), 3u);  // new (0-5, the resume merged), continued, continued + cool-down
  EXPECT_EQ(replayed["stages"][2]["cooldown"], nlohmann::json::array({7, 9}));
  const double worst = max_weight_difference(cooled / "model", replay / "shapes-tiny.3" / "model");
  std::printf("[ measured ] replayed vs original weights: max |diff| %.3g\n", worst);
  EXPECT_LT(worst, 2e-2);
  // Resuming past the window would train at rate zero; a window longer than the steps left would
  // start before the run does.
  run = run_cli("train --out " + cooled.string() + " --steps 10");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("cooled down to step 9"), std::string::npos) << run.output;
  run = run_cli("train --continue-from " + (cooled / "model").string() + " --out " + (*dir_ / "too-long").string() +
                " --steps 11 --cooldown 5");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("longer than the 2 steps left"), std::string::npos) << run.output;
  run = run_cli("train --continue-from " + (cooled / "model").string() + " --out " + (*dir_ / "after").string() +
                " --steps 10 --log-every 1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(*dir_ / "after" / "model" / "model.json"))["training"]["recipe"]["cooldown_end"], 0);
  run = run_cli("train --out " + (*dir_ / "bad").string() + " --preset shapes-tiny --steps 5 --cooldown 6");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--cooldown must be between 1 and --steps"), std::string::npos) << run.output;
  run = run_cli("train --continue-from " + dir_->string() + " --out " +
                (test::scratch_dir("cli-train-nowhere") / "nowhere").string());  // not inside the source
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("no training record"), std::string::npos) << run.output;
}

// The command that started a run resumes it, --seed random included (the run keeps its seed), while
// no second run may write the same folder. loss.tsv is written before the checkpoint: lines a run
// stopped between the two left past the checkpoint's step are dropped, not logged twice. Lines
// svgear train does not write are left out with a warning, a long one without being read whole.
TEST_F(CliTest, TrainResumesWithTheCommandThatStartedIt) {
  const auto out = *dir_ / "same-command";
  const std::string command = "train --preset shapes-tiny --device cpu --seed random --steps 4 --cooldown 2 --batch 1 "
                              "--log-every 1 --out " + out.string();
  CliRun run = run_cli(command + " --stop-at 3");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const uint64_t seed = nlohmann::json::parse(std::ifstream(out / "checkpoint" / "state.json"))["recipe"]["seed"];
  EXPECT_NE(run.output.find(", seed " + std::to_string(seed) + "\n"), std::string::npos) << "the drawn seed, printed: " << run.output;
  std::vector<std::string> logged;
  {
    std::ifstream log(out / "loss.tsv");
    for (std::string line; std::getline(log, line);) logged.push_back(line);
  }
  ASSERT_EQ(logged.size(), 4u) << "header + 3 steps";
  std::ofstream(out / "loss.tsv", std::ios::trunc)
      << logged[0] << "\n"
      << logged[1] << "\r\n"  // an editor's line end: the line is kept
      << "a note\n"
      << logged[2] << "\n"
      << "1\t0.4\t0.001\t1.0\n"                           // a step that goes back
      << logged[3] << std::string(100000, '0') << "\n"  // a number, but longer than any line written
      << "4\t0.5\t0.001\t1.0\n";                         // logged, never checkpointed
  {
    const FolderLock busy(out, "another `svgear train`");  // as a run still going would hold it
    run = run_cli(command);
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_NE(run.output.find("another `svgear train` is using " + out.string()), std::string::npos) << run.output;
  }
  run = run_cli(command);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("note: a resumed run keeps its seed " + std::to_string(seed)), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("done at step 4"), std::string::npos) << run.output;
  std::ifstream log(out / "loss.tsv");
  std::vector<std::string> lines;
  for (std::string line; std::getline(log, line);) lines.push_back(line);
  EXPECT_NE(run.output.find("warning: " + (out / "loss.tsv").string() +
                            ": 3 lines that svgear train does not write (the first: line 3) are left out"),
            std::string::npos)
      << run.output;
  ASSERT_EQ(lines.size(), 4u) << "header + steps 1, 2 and 4";
  EXPECT_EQ(lines[0], "step\tloss\tlearning_rate\tseconds");
  EXPECT_EQ(lines[1], logged[1]);
  EXPECT_EQ(lines[2], logged[2]);
  EXPECT_EQ(lines[3].substr(0, 2), "4\t");
  EXPECT_NE(lines[3], "4\t0.5\t0.001\t1.0");
  // The export is swapped in whole: no staging folder stays beside it.
  for (const auto& entry : std::filesystem::directory_iterator(out)) {
    EXPECT_EQ(entry.path().filename().string().find(".export-"), std::string::npos) << entry.path();
  }
}

// Exporting a checkpoint again trains no step, so the CPU's memory check for a batch does not
// apply: a GPU run's checkpoint of a batch no CPU holds (4096 clips, ~39 GB for shapes-tiny) is
// exported on a CPU host.
TEST_F(CliTest, ReExportingACheckpointTrainsNothingAndNeedsNoBatchMemory) {
  const auto out = *dir_ / "re-export";
  CliRun run = run_cli("train --preset shapes-tiny --device cpu --steps 1 --batch 1 --out " + out.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json state = nlohmann::json::parse(std::ifstream(out / "checkpoint" / "state.json"));
  state["recipe"]["batch"] = 4096;
  std::ofstream(out / "checkpoint" / "state.json") << state.dump();
  std::filesystem::remove_all(out / "model");
  run = run_cli("train --device cpu --steps 1 --out " + out.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output.find("out of memory"), std::string::npos) << run.output;
  EXPECT_TRUE(std::filesystem::exists(out / "model" / "model.json")) << run.output;
}

// A slice that a time limit stops inside its cool-down (a device call's --minutes) is replayed by
// stopping at the same step on the same schedule: --stop-at, which replay-training.py passes.
TEST_F(CliTest, TrainStopsInsideItsCooldownAndReplaysThere) {
  const auto out = *dir_ / "stopped";
  // On the CPU like the replay below (the default device is a GPU where there is one).
  CliRun run = run_cli("train --preset shapes-tiny --device cpu --out " + out.string() +
                       " --steps 6 --cooldown 4 --stop-at 4 --warmup 1 --batch 2 --log-every 1 --max-objects 1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("done at step 4"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("note: the warm-up"), std::string::npos) << run.output;
  // A warm-up longer than the run is taken (a first slice of a plan), and said.
  const CliRun short_run = run_cli("train --preset shapes-tiny --device cpu --out " + (*dir_ / "short-warm-up").string() +
                                   " --steps 2 --warmup 8 --batch 1");
  ASSERT_EQ(short_run.exit_code, 0) << short_run.output;
  EXPECT_NE(short_run.output.find("note: the warm-up of 8 steps outlasts this run's 2, so the rate ends at 0.25 of "
                                  "--lr 0.001"),
            std::string::npos)
      << short_run.output;
  const nlohmann::json record = nlohmann::json::parse(std::ifstream(out / "model" / "model.json"))["training"];
  EXPECT_EQ(record["steps"], 4);
  EXPECT_EQ(record["stages"][0]["last_step"], 4);
  EXPECT_EQ(record["stages"][0]["cooldown"], nlohmann::json::array({2, 6}));
  // The window [2, 6] runs step 3 at the peak rate and step 4 at three quarters of it: the schedule
  // toward step 6, not a cool-down ending at step 4.
  std::ifstream log(out / "loss.tsv");
  std::vector<std::string> lines;
  for (std::string line; std::getline(log, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u) << "header + 4 steps";
  EXPECT_NEAR(logged_rate(lines[4]), 0.75 * logged_rate(lines[3]), 1e-9) << lines[3] << " / " << lines[4];

  const auto replay = *dir_ / "stopped-replay";
  const ReplayRun replayed = replay_training(out / "model", replay, "--device cpu --svgear " SVGEAR_CLI_PATH);
  ASSERT_EQ(replayed.status, 0) << replayed.output;
  EXPECT_NE(replayed.output.find("--steps 6 --stop-at 4 "), std::string::npos) << replayed.output;
  EXPECT_NE(replayed.output.find("--max-objects 1"), std::string::npos) << replayed.output;
  // One unbroken run on the CPU both times, on the same schedule (the replayed stage's window and
  // last step), so the same parameters up to float reproducibility (identical on a 2-core
  // machine); the fp32 parameters are compared, within 1e-5. The same run with a cool-down ending
  // at step 4 instead ends 2.5e-4 away. (Trained on the GPU host's default device, CUDA, the first
  // run ended 7e-3 from its CPU replay: the eleventh session's GPU tests job.)
  const nlohmann::json replayed_record =
      nlohmann::json::parse(std::ifstream(replay / "shapes-tiny.1" / "model" / "model.json"))["training"];
  EXPECT_EQ(replayed_record["steps"], 4);
  EXPECT_EQ(replayed_record["stages"][0]["last_step"], 4);
  EXPECT_EQ(replayed_record["stages"][0]["cooldown"], nlohmann::json::array({2, 6}));
  EXPECT_LT(max_parameter_difference(out / "checkpoint", replay / "shapes-tiny.1" / "checkpoint"), 1e-5);
  // Past its window's end, a resume is refused with the step to resume to.
  run = run_cli("train --out " + out.string() + " --steps 8");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("is at step 4 of a cool-down to step 6: resume it with --steps 6"), std::string::npos)
      << run.output;
  // Resumed by the command that started it (the same window), the run goes on to the end of its
  // window, and the two stages replay as one call.
  run = run_cli("train --out " + out.string() + " --steps 6 --cooldown 4 --log-every 1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("done at step 6"), std::string::npos) << run.output;
  const ReplayRun planned = replay_training(out / "model", *dir_ / "resumed-replay", "--print --svgear svgear");
  ASSERT_EQ(planned.status, 0) << planned.output;
  const std::string& plan = planned.output;
  EXPECT_NE(plan.find("--steps 6 "), std::string::npos) << plan;
  EXPECT_EQ(plan.find("--stop-at"), std::string::npos) << plan;
  EXPECT_EQ(std::count(plan.begin(), plan.end(), '\n'), 2) << plan;  // one call, then the export's folder
  run = run_cli("train --out " + out.string() + " --steps 6 --stop-at 5");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--stop-at 5 is before this run's step 6"), std::string::npos) << run.output;
  run = run_cli("train --preset shapes-tiny --out " + (*dir_ / "beyond").string() + " --steps 3 --stop-at 4");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--stop-at must be between 1 and --steps (3)"), std::string::npos) << run.output;
}

// A run from an export keeps its text encoder unless --text-layers says otherwise (an ablation
// changes only what it names); more layers grow on the source's table.
TEST_F(CliTest, TrainKeepsTheSourcesTextLayersUnlessTold) {
  const auto table = *dir_ / "table-only";
  CliRun run = run_cli("train --preset shapes-tiny --text-layers 0 --out " + table.string() + " --steps 1 --batch 1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto layers = [](const std::filesystem::path& model) {
    return nlohmann::json::parse(std::ifstream(model / "model.json"))["text_encoder"].value("layers", 0);
  };
  EXPECT_EQ(layers(table / "model"), 0);
  const auto kept = *dir_ / "kept";
  run = run_cli("train --continue-from " + (table / "model").string() + " --out " + kept.string() + " --steps 2 --batch 1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(layers(kept / "model"), 0);
  const auto grown = *dir_ / "grown";
  run = run_cli("train --continue-from " + (table / "model").string() + " --text-layers 1 --text-position-std 0 --out " +
                grown.string() + " --steps 2 --batch 1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(layers(grown / "model"), 1);
  // The stage that grew the transformer records how its positions started (its replay passes it);
  // the stage that kept the table records nothing of the kind.
  const auto stages = [](const std::filesystem::path& model) {
    return nlohmann::json::parse(std::ifstream(model / "model.json"))["training"]["stages"];
  };
  EXPECT_EQ(stages(grown / "model").back()["text_position_std"], 0.0);
  EXPECT_FALSE(stages(kept / "model").back().contains("text_position_std"));
  run = run_cli("train --out " + grown.string() + " --steps 3 --text-position-std 0.5");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("already has its own"), std::string::npos) << run.output;
  run = run_cli("train --out " + grown.string() + " --steps 3 --text-position-std 0");  // its own value: resumes
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("resuming"), std::string::npos) << run.output;
  run = run_cli("train --preset shapes-tiny --text-layers 3 --out " + (*dir_ / "too-many").string() + " --steps 1");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find("--text-layers must be 0, 1 or 2"), std::string::npos) << run.output;
}

// A new run (no checkpoint/state.json in --out) replaces model/, rewrites loss.tsv and clears
// checkpoint/: what is there that a run of svgear train did not write is refused before any step,
// naming it and what to do, and left as it was.
TEST(CliTrain, ANewRunRefusesToReplaceWhatItDidNotWrite) {
  const std::filesystem::path root = test::scratch_dir("cli-train-new-run");
  const std::string train = "train --preset shapes-tiny --device cpu --steps 1 --batch 1 --out ";
  const auto expect_refused = [&](const std::filesystem::path& out, const std::filesystem::path& named) {
    const CliRun run = run_cli(train + out.string());
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_NE(run.output.find(named.string()), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("choose another --out folder, or remove it"), std::string::npos) << run.output;
    EXPECT_EQ(run.output.find("step 1"), std::string::npos) << "trained before refusing: " << run.output;
  };
  const auto notes = root / "notes" / "model" / "notes.txt";
  std::filesystem::create_directories(notes.parent_path());
  std::ofstream(notes) << "precious";
  std::ofstream(root / "notes" / "loss.tsv") << "mine";
  expect_refused(root / "notes", notes.parent_path());
  EXPECT_EQ(file_bytes(notes), "precious");
  EXPECT_EQ(file_bytes(root / "notes" / "loss.tsv"), "mine");
  EXPECT_FALSE(std::filesystem::exists(root / "notes" / "checkpoint"));

  std::filesystem::create_directories(root / "log");
  std::ofstream(root / "log" / "loss.tsv") << "mine";
  expect_refused(root / "log", root / "log" / "loss.tsv");
  EXPECT_EQ(file_bytes(root / "log" / "loss.tsv"), "mine");

  // Files named as a checkpoint's shards, which a save would delete as older ones.
  const auto shard = root / "shards" / "checkpoint" / "step-00000007-part-01.safetensors";
  std::filesystem::create_directories(shard.parent_path());
  std::ofstream(shard) << "mine";
  expect_refused(root / "shards", shard.parent_path());
  EXPECT_EQ(file_bytes(shard), "mine");

  // A folder holding weights: a Wan model's (no model.json: the run had trained into it, and the
  // folder then read as a training run's, not a model), another tool's; a resume too, which a run
  // trained there before would otherwise continue. A folder of other files (a log the shell opened
  // for the run, notes) takes a run beside them.
  const auto expect_model_folder = [&](const std::filesystem::path& out, const std::string& holds,
                                       const std::string& options) {
    const CliRun run = run_cli(options + out.string());
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_NE(run.output.find("--out '" + out.string() + "' holds " + holds), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("it is a model's folder, not a training folder. Choose another --out folder."),
              std::string::npos)
        << run.output;
    EXPECT_EQ(run.output.find("step 1"), std::string::npos) << "trained before refusing: " << run.output;
    EXPECT_FALSE(std::filesystem::exists(out / "loss.tsv")) << run.output;
  };
  const std::filesystem::path wan = test::write_tiny_wan_original(root / "wan");
  expect_model_folder(wan, "a Wan model (", train);
  EXPECT_FALSE(std::filesystem::exists(wan / "checkpoint"));
  std::filesystem::create_directories(wan / "checkpoint");
  std::ofstream(wan / "checkpoint" / "state.json") << "{}";
  expect_model_folder(wan, "a Wan model (", "train --device cpu --steps 2 --out ");
  std::filesystem::create_directories(root / "weights");
  for (const char* name : {"b.safetensors", "a.pth", "c.ckpt", "d.gguf"}) std::ofstream(root / "weights" / name) << "w";
  expect_model_folder(root / "weights", "model weights (a.pth, b.safetensors, c.ckpt and 1 more)", train);
  std::filesystem::create_directories(root / "notes-beside");
  std::ofstream(root / "notes-beside" / "train.log") << "mine";
  CliRun beside = run_cli(train + (root / "notes-beside").string());
  EXPECT_EQ(beside.exit_code, 0) << beside.output;
  EXPECT_EQ(file_bytes(root / "notes-beside" / "train.log"), "mine");

  // A model's folder, and one inside the model a run starts from: a model folder is read, never
  // written (the run had added checkpoint/, model/ and loss.tsv beside the source's weights).
  CliRun run = run_cli(train + (root / "again").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::filesystem::path source = root / "again" / "model";
  for (const std::filesystem::path& out : {source, source / "sub"}) {
    run = run_cli("train --continue-from " + source.string() + " --device cpu --steps 2 --batch 1 --out " + out.string());
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_NE(run.output.find("--out '" + out.string() + "' is inside the model's folder"), std::string::npos)
        << run.output;
    EXPECT_FALSE(std::filesystem::exists(source / "checkpoint")) << run.output;
    EXPECT_FALSE(std::filesystem::exists(source / "sub")) << run.output;
  }
  // Inside a model's folder a run does not start from: a Wan download's transformer/ (the model had
  // then read as two layouts), a folder deeper in it, a folder under an exported model. (The Wan
  // folder is a model again without the checkpoint made above.)
  std::filesystem::remove_all(wan / "checkpoint");
  for (const auto& [out, model] : {std::pair{wan / "transformer", wan}, std::pair{wan / "runs" / "a", wan},
                                   std::pair{source / "sub", source}}) {
    run = run_cli(train + out.string());
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_NE(run.output.find("--out '" + out.string() + "' is inside the model's folder '" +
                              std::filesystem::weakly_canonical(model).string() + "'"),
              std::string::npos)
        << run.output;
    EXPECT_FALSE(std::filesystem::exists(model / out.lexically_relative(model).begin()->string())) << run.output;
  }
  // A relative --out, none of it there yet, given inside the model's folder.
  const std::filesystem::path here = std::filesystem::current_path();
  std::filesystem::current_path(wan);
  run = run_cli(train + "runs/b");
  std::filesystem::current_path(here);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--out 'runs/b' is inside the model's folder"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(wan / "runs")) << run.output;
  // A Wan DiT alone above a folder (a download folder's loose file) makes it no model: a run goes under it.
  std::filesystem::create_directories(root / "loose");
  const char* dit = "wan2.1_t2v_tiny_fp32.safetensors";
  std::filesystem::copy_file(wan / dit, root / "loose" / dit);
  run = run_cli(train + (root / "loose" / "run").string());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  run = run_cli(train + source.string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--out '" + source.string() + "' holds a model.json: it is a model's folder"),
            std::string::npos)
      << run.output;
  EXPECT_FALSE(std::filesystem::exists(source / "loss.tsv"));
  // The run's checkpoint folder (a new run had nested its own files among the shards).
  const std::filesystem::path own_checkpoint = root / "again" / "checkpoint";
  ASSERT_TRUE(std::filesystem::exists(own_checkpoint / "state.json"));
  run = run_cli(train + own_checkpoint.string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--out '" + own_checkpoint.string() + "' is the checkpoint folder of the training run " +
                            "in '" + (root / "again").string() + "': give --out " + (root / "again").string()),
            std::string::npos)
      << run.output;
  EXPECT_FALSE(std::filesystem::exists(own_checkpoint / "checkpoint"));
  EXPECT_FALSE(std::filesystem::exists(own_checkpoint / "loss.tsv"));

  // An export of svgear train with its checkpoint gone: a new run replaces it, beside an empty
  // checkpoint/ and its own loss log.
  std::filesystem::remove_all(root / "again" / "checkpoint");
  std::filesystem::create_directories(root / "again" / "checkpoint");
  run = run_cli(train + (root / "again").string());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  // Its export with a file of the user's added is the user's.
  std::ofstream(root / "again" / "model" / "notes.txt") << "precious";
  std::filesystem::remove_all(root / "again" / "checkpoint");
  expect_refused(root / "again", root / "again" / "model");
  EXPECT_EQ(file_bytes(root / "again" / "model" / "notes.txt"), "precious");

  // A resume replaces model/ too: a file of the user's there is refused (it was deleted), and one
  // beside the shards that only starts like them stays.
  run = run_cli(train + (root / "resumed").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::ofstream(root / "resumed" / "model" / "notes.txt") << "precious";
  std::ofstream(root / "resumed" / "checkpoint" / "step-notes.txt") << "mine";
  run = run_cli("train --device cpu --steps 2 --out " + (root / "resumed").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find((root / "resumed" / "model").string() + " is not an export of svgear train, or holds "
                            "other files (the resumed run replaces it): move it out of the way to resume"),
            std::string::npos)
      << run.output;
  EXPECT_EQ(file_bytes(root / "resumed" / "model" / "notes.txt"), "precious");
  std::filesystem::remove(root / "resumed" / "model" / "notes.txt");
  run = run_cli("train --device cpu --steps 2 --out " + (root / "resumed").string());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(file_bytes(root / "resumed" / "checkpoint" / "step-notes.txt"), "mine");
  EXPECT_TRUE(std::filesystem::exists(root / "resumed" / "checkpoint" / "step-00000002-part-01.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(root / "resumed" / "checkpoint" / "step-00000001-part-01.safetensors"));
}

// A link named model/ in --out would be swapped out by the export after training: it is refused
// before the first step, and the folder it points to is left as it was.
TEST(CliTrain, AModelLinkIsRefusedBeforeTheFirstStep) {
  const std::filesystem::path root = test::scratch_dir("cli-train-model-link");
  std::filesystem::create_directories(root / "elsewhere");
  std::ofstream(root / "elsewhere" / "notes.txt") << "precious";
  std::filesystem::create_directories(root / "out");
  std::filesystem::create_directory_symlink(root / "elsewhere", root / "out" / "model");
  const CliRun run =
      run_cli("train --preset shapes-tiny --device cpu --steps 1 --batch 1 --out " + (root / "out").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find((root / "out" / "model").string() + " is a link"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("step 1"), std::string::npos) << "trained before refusing: " << run.output;
  EXPECT_TRUE(std::filesystem::is_symlink(root / "out" / "model"));
  EXPECT_EQ(file_bytes(root / "elsewhere" / "notes.txt"), "precious");
  EXPECT_FALSE(std::filesystem::exists(root / "out" / "checkpoint"));
}

// --text-position-std starts a text transformer this run creates: a run that creates none (one
// from a model that has its own, or with --text-layers 0) refuses it rather than recording a value
// that did nothing.
TEST(CliTrain, TextPositionStdIsRefusedWhereTheRunCreatesNoTransformer) {
  const std::filesystem::path root = test::scratch_dir("cli-train-position-std");
  const std::string source = (root / "source" / "model").string();
  CliRun run =
      run_cli("train --preset shapes-tiny --device cpu --steps 1 --batch 1 --out " + (root / "source").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const std::string& options :
       {"--continue-from " + source + " --steps 2", "--preset shapes-tiny --init-from " + source + " --steps 1"}) {
    run = run_cli("train --device cpu --batch 1 --text-position-std 0 " + options + " --out " +
                  (root / "run").string());
    EXPECT_EQ(run.exit_code, 2) << options << ": " << run.output;
    EXPECT_NE(run.output.find("--text-position-std starts the positions of a text transformer this run creates; " +
                              source + " has one already"),
              std::string::npos)
        << options << ": " << run.output;
    EXPECT_FALSE(std::filesystem::exists(root / "run")) << options;
    std::filesystem::remove_all(root / "run");  // a run wrongly accepted does not turn the next case into a resume
  }
  run = run_cli("train --preset shapes-tiny --device cpu --steps 1 --batch 1 --text-layers 0 --text-position-std 0 "
                "--out " + (root / "run").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("this run has none (0 text layers"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(root / "run"));
}

// A transformer grows only on a source without one (0 layers): the advice to change a resumed
// run's layers by a new run from its export is given only there, and --help says so. A shapes-tiny
// export as shapes-s's start is refused for its network, the real mismatch, not for its text head.
// A run killed during its first save (SIGKILL, the out-of-memory killer) left only temporary files
// in checkpoint/, and the same command was then refused ("holds files but no state.json"): they
// go, and so do the log's.
TEST(CliTrain, AKilledFirstSaveDoesNotRefuseTheRestart) {
  const std::filesystem::path out = test::scratch_dir("cli-train-killed-save") / "run";
  std::filesystem::create_directories(out / "checkpoint");
  const auto shard = out / "checkpoint" / "step-00000001-part-01.safetensors.tmp-999999999-0000000000000001";
  const auto log = out / "loss.tsv.tmp-999999999-0000000000000002";
  for (const auto& path : {shard, log}) std::ofstream(path) << "partial";
  const CliRun run = run_cli("train --preset shapes-tiny --device cpu --steps 1 --batch 1 --out " + out.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_FALSE(std::filesystem::exists(shard));
  EXPECT_FALSE(std::filesystem::exists(log));
  EXPECT_TRUE(std::filesystem::exists(out / "checkpoint" / "state.json"));
}

TEST(CliTrain, TextLayersAdviceOnlyWhereItWorks) {
  const std::filesystem::path root = test::scratch_dir("cli-train-text-layers");
  const std::string train = "train --preset shapes-tiny --device cpu --steps 1 --batch 1 --out ";
  CliRun run = run_cli(train + (root / "one").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  run = run_cli("train --device cpu --steps 2 --text-layers 2 --out " + (root / "one").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("trains a text transformer of 1 layer; a resumed run keeps it"), std::string::npos)
      << run.output;
  EXPECT_EQ(run.output.find("--continue-from"), std::string::npos) << run.output;
  run = run_cli(train + (root / "table").string() + " --text-layers 0");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  run = run_cli("train --device cpu --steps 2 --text-layers 1 --out " + (root / "table").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("start a new run with --continue-from " + (root / "table" / "model").string() +
                            " to grow one"),
            std::string::npos)
      << run.output;
  run = run_cli("train --help");
  EXPECT_NE(run.output.find("a source without one (0 layers) keeps none unless N is given"), std::string::npos)
      << run.output;
  run = run_cli("train --preset shapes-s --device cpu --steps 1 --batch 1 --init-from " +
                (root / "one" / "model").string() + " --out " + (root / "s").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("'s network differs from shapes-s's: dit."), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(root / "s"));
  // A source that is no folder says so, not that its model.json is missing.
  std::ofstream(root / "a-file") << "x";
  for (const auto& [source, message] : std::vector<std::pair<std::string, std::string>>{
           {"--init-from " + (root / "a-file").string(), "a-file' is a file, not a model folder"},
           {"--continue-from " + (root / "a-file").string(), "a-file' is a file, not a model folder"},
           {"--init-from \"\"", "--init-from needs a model folder"}}) {
    run = run_cli("train --preset shapes-tiny --device cpu --steps 1 --batch 1 " + source + " --out " +
                  (root / "never").string());
    EXPECT_EQ(run.exit_code, 2) << source << ": " << run.output;
    EXPECT_NE(run.output.find(message), std::string::npos) << source << ": " << run.output;
  }
  EXPECT_FALSE(std::filesystem::exists(root / "never"));
}

// A resume compares what it is told with what the run does: --max-objects at the preset's value
// (the checkpoint's 0) is the run's own; --steps before the run's step is said so before any
// --cooldown arithmetic on it.
TEST(CliTrain, ResumeChecksCompareWhatTheRunDoes) {
  const std::filesystem::path root = test::scratch_dir("cli-train-resume-checks");
  const std::string out = (root / "run").string();
  CliRun run = run_cli("train --preset shapes-tiny --device cpu --steps 3 --batch 1 --out " + out);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  run = run_cli("train --device cpu --steps 4 --max-objects 1 --out " + out);  // shapes-tiny's own
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("resuming shapes-tiny"), std::string::npos) << run.output;
  run = run_cli("train --device cpu --steps 5 --max-objects 2 --out " + out);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("max objects 1,"), std::string::npos) << run.output;
  run = run_cli("train --device cpu --continue-from " + out + "/model --steps 2 --cooldown 1 --out " +
                (root / "next").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--steps 2 is before this run's step 4"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(root / "next"));
}

// A run that holds a folder but has saved nothing yet: a second `svgear train` there is told that
// the folder is in use, not that it lacks --preset.
TEST(CliTrain, AFolderInUseIsSaidSoBeforeTheFirstSave) {
  const std::filesystem::path out = test::scratch_dir("cli-train-in-use") / "run";
  std::filesystem::create_directories(out);
  const FolderLock busy(out, "another `svgear train`");
  const CliRun run = run_cli("train --device cpu --steps 2 --out " + out.string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("another `svgear train` is using " + out.string()), std::string::npos) << run.output;
}

// The last step on a --checkpoint-every boundary is saved once, not again at the end: each save
// commits checkpoint/state.json by a rename, which inotify counts.
TEST(CliTrain, TheLastCheckpointIsWrittenOnce) {
  const std::filesystem::path out = test::scratch_dir("cli-train-saves") / "run";
  std::filesystem::create_directories(out / "checkpoint");  // an empty one is a new run's
  const auto saves = [&](const std::string& options) {
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    EXPECT_GE(fd, 0);
    EXPECT_GE(::inotify_add_watch(fd, (out / "checkpoint").c_str(), IN_MOVED_TO), 0);
    const CliRun run =
        run_cli("train --preset shapes-tiny --device cpu --batch 1 " + options + " --out " + out.string());
    EXPECT_EQ(run.exit_code, 0) << run.output;
    int commits = 0;
    alignas(inotify_event) char buffer[1 << 16];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) {
      for (char* p = buffer; p < buffer + n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(p);
        if (event->len > 0 && std::string(event->name) == "state.json") ++commits;
        p += sizeof(inotify_event) + event->len;
      }
    }
    ::close(fd);
    return commits;
  };
  EXPECT_EQ(saves("--steps 2 --checkpoint-every 2"), 1);
  EXPECT_EQ(saves("--steps 5 --checkpoint-every 2"), 2);  // step 4, then the last step
  // Step 6 is saved inside the loop before its log line (neither --log-every's nor --steps'): the
  // line still reaches loss.tsv, without a second checkpoint.
  EXPECT_EQ(saves("--steps 8 --stop-at 6 --checkpoint-every 3"), 1);
  std::ifstream log(out / "loss.tsv");
  std::vector<std::string> lines;
  for (std::string line; std::getline(log, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u) << "header + steps 2, 5 and 6";
  EXPECT_EQ(lines[3].substr(0, 2), "6\t");
}

// A --minutes shorter than one step: the step runs (its time is unknown before it), the run stops
// after it, saves, and says that a step takes longer than the limit allows.
TEST(CliTrain, ATimeLimitShorterThanAStepSaysSo) {
  const std::filesystem::path out = test::scratch_dir("cli-train-minutes") / "run";
  const CliRun run =
      run_cli("train --preset shapes-tiny --device cpu --batch 1 --steps 50 --minutes 0.000001 --out " + out.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("note: one step took"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("longer than --minutes 1e-06 allows"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("time is up at step 1:"), std::string::npos) << run.output;
  EXPECT_TRUE(std::filesystem::exists(out / "model" / "model.json"));
}

// svgear eval on a freshly trained tiny model: every prompt generated dense and with SVG-EAR,
// adherence fractions and the sparse-vs-dense comparison reported (the scores themselves mean
// nothing after one training step).
// bench attention --inputs takes finite float q, k, v of one shape, and says which it is not.
TEST_F(CliTest, BenchInputsMustBeFiniteFloatsOfOneShape) {
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  const at::Tensor ok = at::randn({1, 1, 16, 8}, f32);
  at::Tensor nan = ok.clone();
  nan.view(-1)[5] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<std::pair<std::string, std::vector<std::pair<std::string, at::Tensor>>>> cases = {
      {"holds a NaN or an infinity, or a value past", {{"q", nan}, {"k", ok}, {"v", ok}}},
      {"'k' is I64; activations are F32, F16 or BF16",
       {{"q", ok}, {"k", at::zeros({1, 1, 16, 8}, at::kLong)}, {"v", ok}}},
      {"q is [1, 1, 16, 8], k [1, 1, 32, 8], v [1, 1, 16, 8]",
       {{"q", ok}, {"k", at::randn({1, 1, 32, 8}, f32)}, {"v", ok}}},
  };
  for (const auto& [message, tensors] : cases) {
    const auto file = *dir_ / "bad-inputs.safetensors";
    write_safetensors(file, tensors);
    const CliRun run = run_cli("bench attention --inputs " + file.string() + " --device cpu --repeat 1");
    EXPECT_EQ(run.exit_code, 2) << message << ": " << run.output;
    EXPECT_NE(run.output.find(message), std::string::npos) << run.output;
  }
}

// eval scores shapes-world models only, which the folder's files tell before any load; its sheet
// replaces only a PNG of ours.
TEST_F(CliTest, EvalRefusesBeforeTheWork) {
  CliRun run = run_cli("eval --model " + (*dir_ / "model").string() + " --prompts 1 --steps 1 --device cpu");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("is not a shapes-world model"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("evaluating"), std::string::npos) << run.output;
  const auto photo = *dir_ / "photo.png";
  std::ofstream(photo) << "MYPHOTO";
  run = run_cli("eval --prompts 1 --steps 1 --device cpu --sheet " + photo.string());  // checked before the model
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("is not a contact sheet or any PNG svgear wrote"), std::string::npos) << run.output;
  EXPECT_EQ(file_bytes(photo), "MYPHOTO");
  // Nor a frame of a generated PNG video (ours too, but its clip's), nor a file in the model's folder,
  // as generate's outputs.
  const auto clip = *dir_ / "clip";
  std::filesystem::create_directories(clip);
  const std::vector<uint8_t> grey(4 * 4 * 3, 128);
  write_png(clip / "frame_0002.png", grey.data(), 4, 4);
  std::ofstream(*dir_ / "clip.json") << "{}";
  const std::string frame = file_bytes(clip / "frame_0002.png");
  run = run_cli("eval --prompts 1 --steps 1 --device cpu --sheet " + (clip / "frame_0002.png").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("is a frame of the PNG video in " + clip.string()), std::string::npos) << run.output;
  EXPECT_EQ(file_bytes(clip / "frame_0002.png"), frame);
  for (const char* option : {"--sheet", "--json"}) {
    const std::string name = std::string(option) == "--sheet" ? "sheet.png" : "results.json";
    run = run_cli("eval --model " + (*dir_ / "model").string() + " --prompts 1 --steps 1 --device cpu " + option + " " +
                  (*dir_ / "model" / name).string());
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_NE(run.output.find(std::string(option) + " '" + (*dir_ / "model" / name).string() + "' is inside the model's folder"),
              std::string::npos)
        << run.output;
  }
}

// A sparse setting that no mode of the run uses is refused, named, before any model is looked for
// (it used to run, ignoring it): each of them with dense attention alone (eval's --modes dense,
// generate's default and --attention dense, compare's --attention dense), and SVG-EAR's
// --guaranteed-ratio with svg2 alone.
TEST(CliAttentionOptions, SettingsNoModeUsesAreRefused) {
  const std::string model = " --model /nonexistent/model --prompt a --device cpu ";
  for (const std::string setting : {"--top-p 0.5", "--q-clusters 16", "--k-clusters 48", "--attention-preset fast",
                                    "--guaranteed-ratio 0.1", "--dense-steps 0.5", "--dense-layers 0.5",
                                    "--kmeans-in-warmup"}) {
    const std::string name = setting.substr(0, setting.find(' '));
    const std::string uses = " runs no sparse mode, and only the sparse modes (svg2, svgear) use " + name + ": drop it, ";
    expect_refused_before_work(run_cli("eval --model /nonexistent/model --prompts 1 --device cpu --modes dense " + setting),
                               "--modes dense" + uses + "or add svg2 or svgear to --modes", setting);
    for (const std::string command : {"generate", "compare"}) {
      expect_refused_before_work(run_cli(command + model + "--attention dense " + setting),
                                 "--attention dense" + uses + "or choose --attention svgear (or svg2)",
                                 command + setting);
    }
    if (name != "--attention-preset") {  // a preset without --attention chooses the mode itself
      expect_refused_before_work(run_cli("generate" + model + setting),
                                 "--attention dense (the default)" + uses + "or add --attention svgear (or svg2)",
                                 "generate " + setting);
    }
  }
  expect_refused_before_work(run_cli("generate" + model + "--top-p 0.5 --kmeans-in-warmup --q-clusters 8"),
                             "use --top-p, --q-clusters and --kmeans-in-warmup: drop them", "three at once");
  const std::string svgear_only = " runs no SVG-EAR, and only SVG-EAR uses --guaranteed-ratio: drop it, or ";
  for (const std::string command : {"generate", "compare"}) {
    expect_refused_before_work(run_cli(command + model + "--attention svg2 --guaranteed-ratio 0.1 --top-p 0.5"),
                               "--attention svg2" + svgear_only + "choose --attention svgear", command);
  }
  expect_refused_before_work(
      run_cli("eval --model /nonexistent/model --prompts 1 --device cpu --modes dense,svg2 --guaranteed-ratio 0.1"),
      "--modes dense,svg2" + svgear_only + "add svgear to --modes", "eval --modes dense,svg2");
  // eval refuses --attention with its reason, and does not list it among the options it takes.
  expect_refused_before_work(run_cli("eval --model /nonexistent/model --prompts 1 --device cpu --attention svg2"),
                             "give --modes svg2,svgear, not --attention", "eval --attention");
  const CliRun unknown = run_cli("eval --model /nonexistent/model --prompts 1 --zzz 1");
  EXPECT_NE(unknown.output.find("This command accepts: --attention-preset --cfg"), std::string::npos) << unknown.output;
  // A preset file's settings count as typed (a file saying "mode": "dense" beside a budget ran dense,
  // its record listing the budget); those at their defaults, as a run record's attention object
  // holds them, do not.
  const std::filesystem::path presets = std::filesystem::temp_directory_path() /
                                        ("svgear-presets-" + std::to_string(::getpid()));
  std::filesystem::create_directories(presets);
  const auto preset_file = [&presets](const std::string& name, const std::string& text) {
    std::ofstream((presets / name).string()) << text;
    return " --attention-preset " + (presets / name).string() + " ";
  };
  const std::string dense_budget = preset_file("d.json", R"({"mode": "dense", "top_p": 0.5, "q_clusters": 7})");
  const std::string svg2_ratio = preset_file("l.json", R"({"mode": "svg2", "guaranteed_ratio": 0.1})");
  const std::string record_defaults =
      preset_file("record.json", attention_config_to_json(named_attention_preset("balanced")).dump());
  for (const std::string command : {"generate", "compare"}) {
    expect_refused_before_work(run_cli(command + model + dense_budget),
                               "--attention dense (the preset's) runs no sparse mode, and only the sparse modes (svg2, "
                               "svgear) use d.json's q_clusters and d.json's top_p: drop them, or add --attention "
                               "svgear (or svg2)",
                               command + " d.json");
    expect_refused_before_work(run_cli(command + model + svg2_ratio),
                               "--attention svg2 (the preset's) runs no SVG-EAR, and only SVG-EAR uses l.json's "
                               "guaranteed_ratio: drop it, or choose --attention svgear",
                               command + " l.json");
  }
  // eval without --modes takes a preset's mode, and with it the same check.
  const std::string eval = "eval --model /nonexistent/model --prompts 1 --device cpu";
  const std::string modes_decide = "give --modes svgear (which --modes decides over the preset's mode)";
  expect_refused_before_work(run_cli(eval + dense_budget),
                             "the preset's mode, dense, runs no sparse mode, and only the sparse modes (svg2, svgear) "
                             "use d.json's q_clusters and d.json's top_p: drop them, or " + modes_decide,
                             "eval d.json");
  expect_refused_before_work(run_cli(eval + svg2_ratio),
                             "the preset's mode, svg2, runs no SVG-EAR, and only SVG-EAR uses l.json's "
                             "guaranteed_ratio: drop it, or " + modes_decide,
                             "eval l.json");
  // Where a mode uses them they pass this check and fail at the next one, the missing model.
  const std::vector<std::string> used = {"generate" + model + "--attention svg2 --top-p 0.5",
                                         "compare" + model + "--guaranteed-ratio 0.1",
                                         "eval --model /nonexistent/model --modes svg2,svgear --guaranteed-ratio 0.1",
                                         eval + " --modes svgear" + svg2_ratio,
                                         "generate" + model + "--attention svg2" + record_defaults,
                                         "generate" + model + "--attention svgear" + dense_budget};
  for (const std::string& run : used) {
    const CliRun refused = run_cli(run);
    EXPECT_EQ(refused.exit_code, 2) << run << ": " << refused.output;
    EXPECT_EQ(refused.output.find("drop it"), std::string::npos) << run << ": " << refused.output;
    EXPECT_NE(refused.output.find("/nonexistent/model"), std::string::npos) << run << ": " << refused.output;
  }
  std::filesystem::remove_all(presets);
}

// Text from a model's files reaches the terminal without its control characters: an escape
// sequence in a model's name must not clear the screen or rewrite the lines above it.
TEST_F(CliTest, ModelTextReachesTheTerminalWithoutControlCharacters) {
  const auto model = *dir_ / "escaping-model";
  std::filesystem::copy(*dir_ / "model", model, std::filesystem::copy_options::recursive);
  nlohmann::json manifest = nlohmann::json::parse(std::ifstream(model / "model.json"));
  // A line break too (the banner is one line), and a right-to-left override, which would print
  // the rest of the line backwards.
  manifest["name"] = "evil\u001b[2J\u009b31m\nname\u202edevil\u2069";
  std::ofstream(model / "model.json") << manifest.dump();
  const CliRun run = run_cli("generate --model " + model.string() + " --prompt \"a red circle\" --steps 1 --frames 1 "
                             "--size 16x16 --device cpu --output " + (*dir_ / "escaping.y4m").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("model evil?[2J?31m?name[U+202E]devil[U+2069] on cpu"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find('\x1b'), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("\xc2\x9b"), std::string::npos) << run.output;
}

TEST_F(CliTest, EvalScoresDenseAndSparse) {
  const auto out = *dir_ / "eval-train";
  CliRun run = run_cli("train --preset shapes-tiny --out " + out.string() + " --steps 1 --batch 1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto json_path = *dir_ / "eval.json";
  const auto sheet_path = *dir_ / "sheet.png";
  run = run_cli("eval --model " + (out / "model").string() + " --prompts 2 --steps 2 --shift 2.5 --device cpu --json " +
                json_path.string() + " --sheet " + sheet_path.string() + " --q-clusters 16 --k-clusters 48 --top-p 0.8");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  // The sampling every clip used: the options given, the model's defaults for the rest; the sparse
  // settings given.
  EXPECT_NE(run.output.find("2 held-out prompts of 1 object; 2 unipc steps, guidance 4, shift 2.5"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("sparse: top_p 0.8, 16 query / 48 key clusters"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("sheet row 2: "), std::string::npos) << run.output;
  // A line per clip as it is scored, with the ETA until the last (an eval on a CPU had said nothing for
  // an hour), and the CPU's note on sparse attention once, as generate says it.
  EXPECT_NE(run.output.find("clip 1/4: prompt 1 with dense attention in "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("clip 2/4: prompt 1 with svgear attention in "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(", ETA "), std::string::npos) << run.output;
  const size_t last = run.output.find("clip 4/4: prompt 2 with svgear attention in ");
  ASSERT_NE(last, std::string::npos) << run.output;
  EXPECT_EQ(run.output.substr(last, run.output.find('\n', last) - last).find("ETA"), std::string::npos) << run.output;
  const std::string note = "svgear attention on the CPU is for inspecting its routing";
  const size_t first_note = run.output.find(note);
  EXPECT_NE(first_note, std::string::npos) << run.output;
  EXPECT_EQ(run.output.find(note, first_note + 1), std::string::npos) << run.output;
  // The sheet: 2 rows (prompts) of 2 clips (dense, SVG-EAR) × 4 frames of shapes-tiny's 32×32, scaled 2×.
  std::ifstream png(sheet_path, std::ios::binary);
  std::string header(24, '\0');
  ASSERT_TRUE(png.read(header.data(), 24));
  auto be32 = [&](int at) {
    return (uint32_t(uint8_t(header[at])) << 24) | (uint32_t(uint8_t(header[at + 1])) << 16) |
           (uint32_t(uint8_t(header[at + 2])) << 8) | uint32_t(uint8_t(header[at + 3]));
  };
  EXPECT_EQ(be32(16), 2u * (4 * 64 + 3 * 2) + 8);  // IHDR width
  EXPECT_EQ(be32(20), 2u * 64 + 8);                // IHDR height
  std::ifstream in(json_path);
  const nlohmann::json result = nlohmann::json::parse(in);
  ASSERT_EQ(result["rows"].size(), 2u);
  EXPECT_EQ(result["sparse_attention"]["q_clusters"], 16);
  EXPECT_EQ(result["sparse_attention"]["k_clusters"], 48);
  EXPECT_EQ(result["rows"][0]["mode"], "dense");
  EXPECT_EQ(result["rows"][1]["mode"], "svgear");
  EXPECT_EQ(result["modes"], nlohmann::json::array({"dense", "svgear"}));
  EXPECT_FALSE(result["sparse_attention"].contains("mode")) << "each row ran its own mode";
  EXPECT_EQ(result["objects_per_prompt"], 1);
  EXPECT_EQ(result["rows"][0]["objects"], 2);
  // The clips' size and the prompt set, which it had left out: enough to make them again.
  EXPECT_EQ(result["video"], nlohmann::json({{"frames", 8}, {"height", 32}, {"width", 32}})) << result.dump();
  EXPECT_EQ(result["first_seed"], 1000000);
  // The figures: each prompt's clips made again through the Generator API with the settings the
  // JSON states, compared with compare_videos (checked against a brute force in metrics_tests);
  // the rows' PSNR and SSIM are the means over the prompts, and each row's share of attributes
  // right is the mean of its prompts' scores (one object each).
  {
    const std::unique_ptr<Model> model = Model::load(out / "model", c10::Device(c10::kCPU));
    const AttentionConfig sparse = attention_config_from_json(result["sparse_attention"], AttentionConfig{});
    double psnr_sum = 0.0, ssim_sum = 0.0;
    std::vector<double> score_sum(2, 0.0);
    for (const nlohmann::json& prompt : result["prompts"]) {
      std::vector<Video> clips;
      for (const AttentionMode mode : {AttentionMode::Dense, AttentionMode::SvgEar}) {
        GenerationRequest request;
        request.prompt = prompt["prompt"].get<std::string>();
        request.seed = prompt["seed"].get<uint64_t>();
        request.steps = result["sampling"]["steps"].get<int>();
        request.shift = result["sampling"]["shift"].get<double>();
        request.guidance = result["sampling"]["guidance"].get<double>();
        request.attention = sparse;
        request.attention.mode = mode;
        request.preview_every = 0;
        EventSink quiet;
        CancelToken cancel;
        GenerationResult run = Generator(*model).run(request, quiet, cancel);
        ASSERT_EQ(run.status, GenerationStatus::Finished) << run.error;
        clips.push_back(std::move(run.video));
      }
      const VideoQuality quality = compare_videos(clips[0], clips[1]);
      ASSERT_TRUE(std::isfinite(quality.mean_psnr_db)) << "top_p 0.8 changed nothing: the test needs a difference";
      psnr_sum += quality.mean_psnr_db;
      ssim_sum += quality.mean_ssim;
      for (size_t m = 0; m < 2; ++m) score_sum[m] += prompt["score"][m].get<double>();
    }
    EXPECT_NEAR(result["rows"][1]["mean_psnr_db_vs_dense"].get<double>(), psnr_sum / 2, 1e-9);
    EXPECT_NEAR(result["rows"][1]["mean_ssim_vs_dense"].get<double>(), ssim_sum / 2, 1e-12);
    EXPECT_TRUE(result["rows"][0]["mean_psnr_db_vs_dense"].is_null());
    for (size_t m = 0; m < 2; ++m) {
      EXPECT_NEAR(result["rows"][m]["all_attributes"].get<double>(), score_sum[m] / 2, 1e-12) << m;
    }
  }
  // The results name the weights they scored (an edited copy keeps its model's name) and the version.
  EXPECT_EQ(result["model_folder"], (out / "model").string());
  ASSERT_TRUE(result["model_files"].is_array() && !result["model_files"].empty()) << result.dump();
  EXPECT_EQ(result["model_files"], Model::load(out / "model", c10::Device(c10::kCPU))->weight_files);
  EXPECT_FALSE(result["svgear_version"].get<std::string>().empty());

  // An attention preset's mode chooses the modes where --modes does not (a svg2 file had run
  // svgear), and its settings are shown as a sparse run resolves them (Auto's query clusters
  // counted: a dense preset's had shown 0).
  const auto svg2_preset = *dir_ / "eval-svg2.json";
  std::ofstream(svg2_preset) << R"({"mode": "svg2", "top_p": 0.7})";
  const auto preset_json = *dir_ / "eval-preset.json";
  run = run_cli("eval --model " + (out / "model").string() + " --prompts 1 --steps 1 --device cpu --attention-preset " +
                svg2_preset.string() + " --json " + preset_json.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json preset_result = nlohmann::json::parse(std::ifstream(preset_json));
  EXPECT_EQ(preset_result["modes"], nlohmann::json::array({"dense", "svg2"}));
  EXPECT_EQ(preset_result["sparse_attention"]["top_p"], 0.7);
  EXPECT_GT(preset_result["sparse_attention"]["q_clusters"].get<int>(), 0);
  // --modes decides over a preset's mode; the sparse line counts Auto's query clusters all the same.
  const auto dense_preset = *dir_ / "eval-dense.json";
  std::ofstream(dense_preset) << R"({"mode": "dense"})";
  run = run_cli("eval --model " + (out / "model").string() + " --prompts 1 --steps 1 --device cpu --modes svgear "
                "--attention-preset " + dense_preset.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("\nsvgear "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("sparse: top_p 0.9, "), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find(" 0 query /"), std::string::npos) << run.output;

  // --objects N: every prompt holds N objects (it used to draw one up to N, mostly one).
  const auto three_path = *dir_ / "eval-three.json";
  run = run_cli("eval --model " + (out / "model").string() + " --prompts 4 --objects 3 --steps 1 --modes dense " +
                "--device cpu --json " + three_path.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("4 held-out prompts of 3 objects"), std::string::npos) << run.output;
  const nlohmann::json three = nlohmann::json::parse(std::ifstream(three_path));
  EXPECT_EQ(three["objects_per_prompt"], 3);
  EXPECT_EQ(three["rows"][0]["objects"], 12);
  // Dense alone ran no sparse mode: no sparse settings are recorded as if it had.
  EXPECT_TRUE(three["sparse_attention"].is_null()) << three.dump();
  // --text-influence: forward passes only, one row per noise level and the clips' own scale.
  const auto influence_path = *dir_ / "influence.json";
  run = run_cli("eval --model " + (out / "model").string() + " --text-influence --prompts 1 --device cpu --json " +
                influence_path.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("text influence (shapes-tiny, 1 held-out prompt)"), std::string::npos) << run.output;
  const nlohmann::json influence = nlohmann::json::parse(std::ifstream(influence_path));
  ASSERT_EQ(influence["rows"].size(), 3u);
  EXPECT_EQ(influence["rows"][0]["sigma"], 0.95);
  EXPECT_GT(influence["clips"]["shape"].get<double>(), 0.0);
  // The clips' row has no estimate, so no error: a dash, not a made-up 0.
  EXPECT_TRUE(std::regex_search(run.output, std::regex("\\n 0\\.00 +[0-9.]+ +[0-9.]+ +[0-9.]+ +-\\n"))) << run.output;
  // What eval would ignore, repeat, fail on or overwrite is refused before the model loads.
  const std::string manifest = file_bytes(out / "model" / "model.json");
  const std::string same_file = (*dir_ / "same.png").string();
  for (const std::string& bad : std::vector<std::string>{
           "--text-influence --top-p 0.5", "--text-influence --attention-preset fast", "--prompts 0",
           "--modes svgear,svg2,svgear", "--modes ,", "--modes dense,svg2,svg2", "--attention svg2", "--steps 0",
           "--cfg -1", "--guidance 4", "--json " + (out / "model" / "model.json").string(),
           "--json " + same_file + " --sheet " + same_file}) {
    run = run_cli("eval --model " + (out / "model").string() + " " + bad + " --device cpu");
    EXPECT_EQ(run.exit_code, 2) << bad << ": " << run.output;
    EXPECT_EQ(run.output.find("evaluating"), std::string::npos) << bad << ": " << run.output;
  }
  EXPECT_NE(run.output.find("name the same file"), std::string::npos) << run.output;
  // The repeat's numbers are the items as typed, dense counted.
  run = run_cli("eval --model " + (out / "model").string() + " --modes dense,svg2,svg2 --device cpu");
  EXPECT_NE(run.output.find("items 2 and 3"), std::string::npos) << run.output;
  EXPECT_EQ(file_bytes(out / "model" / "model.json"), manifest);
  for (const auto& row : result["rows"]) {
    EXPECT_EQ(row["objects"], 2) << row.dump();
    for (const char* key : {"colour", "shape", "motion", "all_attributes"}) {
      EXPECT_GE(row[key].get<double>(), 0.0) << key;
      EXPECT_LE(row[key].get<double>(), 1.0) << key;
    }
  }
  EXPECT_TRUE(result["rows"][0]["mean_psnr_db_vs_dense"].is_null());
  EXPECT_TRUE(result["rows"][0]["mean_ssim_vs_dense"].is_null());
  EXPECT_LE(result["rows"][1]["mean_ssim_vs_dense"].get<double>(), 1.0);
  ASSERT_EQ(result["prompts"].size(), 2u);
  EXPECT_EQ(result["prompts"][0]["score"].size(), 2u);
  // Dense alone, over the earlier results (a results file is replaced).
  run = run_cli("eval --model " + (out / "model").string() + " --prompts 1 --steps 2 --device cpu --modes dense "
                "--json " + json_path.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json dense_only = nlohmann::json::parse(std::ifstream(json_path));
  ASSERT_EQ(dense_only["rows"].size(), 1u);
  EXPECT_EQ(dense_only["rows"][0]["mode"], "dense");
  run = run_cli("eval --model " + (out / "model").string() + " --objects 4");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("--objects must be 1, 2 or 3"), std::string::npos) << run.output;
  run = run_cli("eval --model " + (out / "model").string() + " --top-p 1.5");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("top_p"), std::string::npos) << run.output;
}

// Every command answers --help on stdout with its usage line, and exits 0.
// The Wan memory options do nothing for a built-in model (the load passes over them, as the
// studio's boxes need): typed on the command line, each is refused with the reason before the model
// loads, also where the model is the default one.
TEST_F(CliTest, WanOptionsAreRefusedForABuiltInModel) {
  const std::string model = (*dir_ / "model").string();
  const std::string request = " --prompt \"a red circle\" --device cpu";
  for (const std::string option :
       {"--dit-fp8", "--free-text-encoder", "--text-encoder-device cpu", "--vae-device cpu", "--idle-expert-on-cpu"}) {
    const std::string flag = option.substr(0, option.find(' '));
    CliRun run = run_cli("generate --model " + model + request + " " + option + " --output " +
                         (*dir_ / "never-wan-option.y4m").string());
    EXPECT_EQ(run.exit_code, 2) << option << ": " << run.output;
    EXPECT_NE(run.output.find(flag + " applies to Wan models, and '" + model + "' is a built-in or random model"),
              std::string::npos)
        << run.output;
    EXPECT_EQ(run.output.find(" on cpu"), std::string::npos) << "loaded the model first: " << run.output;
    run = run_cli("compare --model " + model + request + " " + option + " --out " +
                  (*dir_ / "never-wan-option").string());
    EXPECT_EQ(run.exit_code, 2) << option << ": " << run.output;
    EXPECT_NE(run.output.find(flag + " applies to Wan models"), std::string::npos) << run.output;
  }
  const CliRun both = run_cli("generate --model " + model + request + " --vae-device cpu --dit-fp8");
  EXPECT_EQ(both.exit_code, 2) << both.output;
  EXPECT_NE(both.output.find("--vae-device and --dit-fp8 apply to Wan models"), std::string::npos) << both.output;

  // Without --model: the default, the first model under $SVGEAR_MODELS.
  std::optional<ScopedEnv> models(std::in_place, "SVGEAR_MODELS");
  ::setenv("SVGEAR_MODELS", dir_->c_str(), 1);
  const CliRun by_default = run_cli("generate" + request + " --dit-fp8");
  // A run on that default names the folder it took (a model failing further in would not).
  const CliRun named = run_cli("generate" + request + " --steps 1 --frames 1 --size 16x16 --output " +
                               (*dir_ / "default-model.y4m").string());
  // --quiet leaves the note out; an entry of $SVGEAR_MODELS that holds no models is a warning, kept.
  ::setenv("SVGEAR_MODELS", (dir_->string() + ":" + (*dir_ / "no-such-models").string()).c_str(), 1);
  const CliRun quiet = run_cli("generate" + request + " --steps 1 --frames 1 --size 16x16 --quiet --output " +
                               (*dir_ / "default-model-quiet.y4m").string());
  models.reset();
  EXPECT_EQ(quiet.exit_code, 0) << quiet.output;
  EXPECT_EQ(quiet.output.find("note:"), std::string::npos) << quiet.output;
  EXPECT_NE(quiet.output.find("warning: SVGEAR_MODELS names '" + (*dir_ / "no-such-models").string() +
                              "', which does not exist: it holds no models"),
            std::string::npos)
      << quiet.output;
  EXPECT_EQ(named.exit_code, 0) << named.output;
  EXPECT_NE(named.output.find("note: no --model given: " + dir_->string() + "/"), std::string::npos) << named.output;
  EXPECT_NE(named.output.find(", the first model found under $SVGEAR_MODELS"), std::string::npos) << named.output;
  EXPECT_EQ(by_default.exit_code, 2) << by_default.output;
  EXPECT_NE(by_default.output.find("is a built-in or random model"), std::string::npos) << by_default.output;

  EXPECT_FALSE(std::filesystem::exists(*dir_ / "never-wan-option.y4m"));
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "never-wan-option"));
}

TEST_F(CliTest, EveryCommandHasHelp) {
  for (const std::string command : {"generate", "compare", "bench", "info", "random-model", "train", "eval"}) {
    for (const std::string& asked : {command + " --help", "help " + command}) {
      const CliRun run = run_cli(asked);
      EXPECT_EQ(run.exit_code, 0) << asked << ": " << run.output;
      EXPECT_NE(run.output.find("usage: svgear " + command), std::string::npos) << asked << ": " << run.output;
    }
  }
  // A bench's two words name one command; its help opens with the attention bench, its usage's first.
  for (const std::string bench : {"attention", "step", "trace"}) {
    const CliRun run = run_cli("help bench " + bench);
    EXPECT_EQ(run.exit_code, 0) << bench << ": " << run.output;
    EXPECT_NE(run.output.find("usage: svgear bench attention [options]\n"), std::string::npos) << run.output;
    EXPECT_LT(run.output.find("svgear bench attention: "), run.output.find("svgear bench step: ")) << run.output;
    EXPECT_LT(run.output.find("svgear bench step: "), run.output.find("svgear bench trace: ")) << run.output;
  }
  CliRun run = run_cli("help");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("usage: svgear <command>"), std::string::npos) << run.output;
  run = run_cli("help nothing");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("unknown command 'nothing'"), std::string::npos) << run.output;
  run = run_cli("--version");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output.rfind("svgear " SVGEAR_VERSION " (", 0), 0u) << run.output;
  EXPECT_NE(run.output.find("LibTorch 2.11.0)"), std::string::npos) << run.output;
  run = run_cli("bench sweep");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("svgear bench has no 'sweep': it runs `svgear bench attention`"), std::string::npos)
      << run.output;
  // Help of the list's own entries, help and --version, is the list.
  for (const char* asked : {"help --help", "help help", "help --version"}) {
    run = run_cli(asked);
    EXPECT_EQ(run.exit_code, 0) << asked << ": " << run.output;
    EXPECT_NE(run.output.find("usage: svgear <command>"), std::string::npos) << asked << ": " << run.output;
  }
  for (const auto& [asked, message] : std::vector<std::pair<std::string, std::string>>{
           {"help generate extra", "error: svgear help takes one command, not 'extra'"},
           {"help bench sweep", "error: svgear help takes one command, not 'sweep'"},
           {"--version extra", "error: svgear --version takes nothing more, not 'extra'"}}) {
    run = run_cli(asked);
    EXPECT_EQ(run.exit_code, 2) << asked << ": " << run.output;
    EXPECT_NE(run.output.find(message), std::string::npos) << asked << ": " << run.output;
  }
}

// LibTorch's OpenMP threads wait passively unless the user chose their policy: spinning threads had
// made a sparse run on the CPU 20 to 100 times slower beside a second svgear process
// (core/openmp_wait_policy.cpp). libgomp's OMP_DISPLAY_ENV=VERBOSE shows the spin count it took.
TEST(Cli, OpenMpThreadsWaitPassivelyUnlessTheUserChose) {
  const ScopedEnv policy("OMP_WAIT_POLICY"), display("OMP_DISPLAY_ENV");
  ::unsetenv("OMP_WAIT_POLICY");  // set by this test executable for itself, as svgear does
  ::setenv("OMP_DISPLAY_ENV", "VERBOSE", 1);
  CliRun run = run_cli("--version");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  if (run.output.find("GOMP_SPINCOUNT") == std::string::npos) GTEST_SKIP() << "not GNU OpenMP: " << run.output;
  EXPECT_NE(run.output.find("GOMP_SPINCOUNT = '0'"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("svgear " SVGEAR_VERSION), run.output.rfind("svgear " SVGEAR_VERSION)) << run.output;
  ::setenv("OMP_WAIT_POLICY", "ACTIVE", 1);
  run = run_cli("--version");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("OMP_WAIT_POLICY = 'ACTIVE'"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("GOMP_SPINCOUNT = '0'"), std::string::npos) << run.output;
}

// What a command prints is its result (bench's table, info's report): one that could not be
// written (a full disk, a closed stdout) fails the command and says so; a reader that went away
// (`| head`) is no error.
TEST_F(CliTest, AnOutputThatCannotBeWrittenFailsTheCommand) {
  for (const std::string asked : {"--version >/dev/full", "info >/dev/full", "--help >&-"}) {
    const CliRun run = run_cli(asked);
    EXPECT_EQ(run.exit_code, 2) << asked << ": " << run.output;
    EXPECT_NE(run.output.find("error: what this command printed could not all be written to the standard output"),
              std::string::npos) << asked << ": " << run.output;
  }
  const CliRun run = run_cli("--help | true");
  EXPECT_EQ(run.output, "");
}

TEST_F(CliTest, InfoDescribesTheBuild) {
  const CliRun run = run_cli("info");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("LibTorch 2.11.0"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("MP4 output:"), std::string::npos);
  EXPECT_NE(run.output.find("CPU:"), std::string::npos);

  // A model whose description holds a terminal escape and a newline is listed on one line, the
  // control characters as '?'. SVGEAR_MODELS may name a model folder itself; an entry that is
  // missing or a file is named in a note, not skipped without a word.
  const auto root = *dir_ / "info-models";
  std::filesystem::create_directories(root);
  std::filesystem::copy(*dir_ / "model", root / "odd", std::filesystem::copy_options::recursive);
  nlohmann::json manifest = nlohmann::json::parse(std::ifstream(root / "odd" / "model.json"));
  manifest["description"] = "plain\u001b[2J\nforged line";
  std::ofstream(root / "odd" / "model.json") << manifest.dump();
  const auto loop = *dir_ / "info-loop";
  std::filesystem::remove(loop);
  std::filesystem::remove(loop.string() + "-2");
  std::filesystem::create_symlink(loop.string() + "-2", loop);
  std::filesystem::create_symlink(loop, loop.string() + "-2");
  // The model folder named twice, once through its parent: listed once.
  const std::string entries = (root / "odd").string() + ":" + (*dir_ / "nowhere").string() + ":" +
                              (*dir_ / "model" / "model.json").string() + ":" + loop.string() + ":" +
                              root.string() + ":" + (root / "odd" / ".").string();
  CliRun listed;
  {
    const ScopedEnv models("SVGEAR_MODELS");
    setenv("SVGEAR_MODELS", entries.c_str(), 1);  // the child inherits it
    listed = run_cli("info");
  }
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_EQ(listed.output.find('\x1b'), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("plain?[2J?forged line"), std::string::npos) << listed.output;
  EXPECT_EQ(listed.output.find("plain?[2J?forged line"), listed.output.rfind("plain?[2J?forged line")) << listed.output;
  EXPECT_NE(listed.output.find("note: SVGEAR_MODELS names '" + (*dir_ / "nowhere").string() + "', which does not exist"),
            std::string::npos)
      << listed.output;
  EXPECT_NE(listed.output.find("model.json', which is not a folder"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("info-loop', which cannot be opened (Too many levels of symbolic links)"),
            std::string::npos)
      << listed.output;
}

// info --model: the model's sizes and defaults, then what a load and a default request would
// refuse, from the headers: a missing tensor, a default no request takes (each with status 2).
TEST_F(CliTest, InfoModelChecksTheFilesAndTheDefaults) {
  const auto folder = *dir_ / "info-model";
  std::filesystem::copy(*dir_ / "model", folder, std::filesystem::copy_options::recursive);
  CliRun run = run_cli("info --model " + folder.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("diffusion model: 2 layers, dim 64"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("checked: the diffusion model's "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("checked: the text encoder's token table (23 words)"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("checked: the defaults, as a request"), std::string::npos) << run.output;

  nlohmann::json manifest = nlohmann::json::parse(std::ifstream(folder / "model.json"));
  manifest["defaults"]["frames"] = 0;
  std::ofstream(folder / "model.json") << manifest.dump();
  run = run_cli("info --model " + folder.string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("frames (--frames) must be between 1 and 1024 (got 0) (random-tiny's default"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("checked: the diffusion model's "), std::string::npos) << "the files first: " << run.output;

  manifest["defaults"].erase("frames");
  std::ofstream(folder / "model.json") << manifest.dump();
  std::vector<std::pair<std::string, at::Tensor>> kept;
  {
    const auto file = SafetensorsFile::open(folder / "model.safetensors");
    for (const TensorEntry& entry : file->tensors()) {
      if (entry.name != "head.modulation") kept.emplace_back(entry.name, file->load(entry.name));
    }
  }
  write_safetensors(folder / "model.safetensors", kept);
  run = run_cli("info --model " + folder.string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("1 tensor missing"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("missing: head.modulation"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("defaults: "), std::string::npos) << "what is known comes first: " << run.output;
}

}  // namespace
}  // namespace svgear
