// End-to-end runs of `svgear compare` and of the attention flags of `svgear generate`.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <tuple>

#include <ATen/Context.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/io/folder_lock.h"
#include "tests/cli/cli_run.h"
#include "core/media/video_output.h"
#include "core/media/video_reader.h"
#include "core/metrics/video_quality.h"
#include "core/pipeline/device_info.h"
#include "core/pipeline/run_record.h"
#include "svgear/build_config.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

using test::CliRun;
using test::run_cli;

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << path;
  return nlohmann::json::parse(file);
}

class CompareTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(test::scratch_dir("compare"));
    const CliRun made = run_cli("random-model --preset tiny --out " + (*dir_ / "model").string());
    ASSERT_EQ(made.exit_code, 0) << made.output;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string request(const std::string& extra) {
    return "--model " + (*dir_ / "model").string() + " --prompt \"a red circle moves left\" --steps 2 --device cpu " +
           extra;
  }
  static std::filesystem::path* dir_;
};
std::filesystem::path* CompareTest::dir_ = nullptr;

TEST_F(CompareTest, DenseAgainstItselfIsIdenticalAndTheDenseRunIsReused) {
  const auto out = *dir_ / "dense-vs-dense";
  CliRun run = run_cli("compare " + request("--seed 5 --attention dense --out " + out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("inf (identical)"), std::string::npos) << run.output;
  // The rerun's column is named as its video is (both had read "dense").
  EXPECT_NE(run.output.find("dense  dense-rerun   speedup"), std::string::npos) << run.output;
  nlohmann::json report = read_json(out / "report.json");
  EXPECT_EQ(report["mode"], "dense");
  EXPECT_EQ(report["svgear_version"], SVGEAR_VERSION);  // and when: as a run record says both
  EXPECT_EQ(report["created"].get<std::string>().size(), std::string("2026-11-29T07:45:01Z").size());
  EXPECT_EQ(report["quality"]["mean_psnr_db"], "inf");
  EXPECT_EQ(report["quality"]["mean_ssim"], 1.0);
  const int frames = report["quality"]["identical_frames"];
  EXPECT_GT(frames, 0);
  EXPECT_EQ(report["quality"]["psnr_db"].size(), size_t(frames));
  EXPECT_EQ(report["dense"]["reused"], false);
  // Deterministic before encoding too, where H.264 cannot hide a difference.
  EXPECT_EQ(report["quality_before_encoding"]["mean_psnr_db"], "inf") << report.dump(2);
  EXPECT_EQ(report["quality_before_encoding"]["identical_frames"], frames);
  EXPECT_NE(run.output.find("before encoding"), std::string::npos) << run.output;
  EXPECT_EQ(report["dense"]["timings_ms"]["steps"].size(), 2u);
  // Each run's first step apart (one-time costs fall there), the speedup over the steps after it.
  for (const char* run_name : {"dense", "sparse"}) {
    const nlohmann::json& steps = report[run_name]["timings_ms"]["steps"];
    ASSERT_EQ(steps.size(), 2u) << run_name;
    EXPECT_EQ(report[run_name]["first_step_ms"], steps[0]) << run_name;
    EXPECT_EQ(report[run_name]["ms_per_step"], steps[1]) << run_name;
  }
  EXPECT_DOUBLE_EQ(report["speedup_per_step"].get<double>(),
                   report["dense"]["timings_ms"]["steps"][1].get<double>() /
                       report["sparse"]["timings_ms"]["steps"][1].get<double>());
  const Video dense = read_video(out / report["dense"]["video"].get<std::string>());
  EXPECT_EQ(dense.frames, frames);
  EXPECT_TRUE(std::filesystem::exists(out / report["dense"]["record"].get<std::string>()));

  // Same request again: the dense run is read back, not recomputed.
  run = run_cli("compare " + request("--seed 5 --attention dense --out " + out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("reusing the dense run"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("dense run reused from " + out.string() + ": its times were measured when it ran"),
            std::string::npos)
      << run.output;
  report = read_json(out / "report.json");
  EXPECT_EQ(report["dense"]["reused"], true);
  EXPECT_EQ(report["quality"]["mean_psnr_db"], "inf");
  // Its frames before encoding were kept beside it (dense.frames), exactly.
  EXPECT_EQ(report["quality_before_encoding"]["mean_psnr_db"], "inf") << report.dump(2);
  EXPECT_EQ(report["quality_before_encoding"]["identical_frames"], frames);

  // Damaged or missing kept frames make the dense run again, which keeps them anew: reused without
  // them, every later compare had lacked its measure before encoding.
  std::filesystem::resize_file(out / "dense.frames", std::filesystem::file_size(out / "dense.frames") - 7);
  run = run_cli("compare " + request("--seed 5 --attention dense --out " + out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  report = read_json(out / "report.json");
  EXPECT_EQ(report["dense"]["reused"], false);
  EXPECT_EQ(report["quality_before_encoding"]["identical_frames"], frames) << report.dump(2);
  EXPECT_NE(run.output.find("has frames that cannot be read ("), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("): running it again"), std::string::npos) << run.output;
  run = run_cli("compare " + request("--seed 5 --attention dense --out " + out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(read_json(out / "report.json")["dense"]["reused"], true) << run.output;
  // An empty one (a copy cut short at its start) holds nothing to keep: it is damaged, not a user's.
  std::filesystem::resize_file(out / "dense.frames", 0);
  run = run_cli("compare " + request("--seed 5 --attention dense --out " + out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("has frames that cannot be read ("), std::string::npos) << run.output;
  EXPECT_EQ(read_json(out / "report.json")["dense"]["reused"], false);
  std::filesystem::remove(out / "dense.frames");
  run = run_cli("compare " + request("--seed 5 --attention dense --out " + out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("has no frames kept beside it: running it again"), std::string::npos) << run.output;
  EXPECT_EQ(read_json(out / "report.json")["dense"]["reused"], false);
  EXPECT_TRUE(std::filesystem::exists(out / "dense.frames"));

  // Another seed is another request: dense runs again, saying what differs.
  run = run_cli("compare " + request("--seed 6 --attention dense --out " + out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output.find("reusing the dense run"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("the dense run in " + out.string() + " is another run's (seed 5 there, 6 here): running dense"),
            std::string::npos)
      << run.output;
  EXPECT_EQ(read_json(out / "report.json")["dense"]["reused"], false);

  // A damaged dense video (a truncated copy, a disk error) is made again, not an error; here under
  // a record of a build that wrote no checksum, so the decoder finds the damage.
  const std::filesystem::path video = out / read_json(out / "report.json")["dense"]["video"].get<std::string>();
  {
    const std::filesystem::path dense_record =
        out / read_json(out / "report.json")["dense"]["record"].get<std::string>();
    nlohmann::json older = read_json(dense_record);
    older["video"].erase("checksum");
    std::ofstream(dense_record) << older.dump();
  }
  std::filesystem::resize_file(video, std::filesystem::file_size(video) / 3);
  run = run_cli("compare " + request("--seed 6 --attention dense --out " + out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("cannot be read"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("running it again"), std::string::npos) << run.output;
  EXPECT_EQ(read_json(out / "report.json")["dense"]["reused"], false);
  EXPECT_EQ(read_json(out / "report.json")["quality"]["mean_psnr_db"], "inf");

  // Bytes changed inside the video, its size kept (a disk error, a file swapped in): it would
  // decode, and give a wrong PSNR; its checksum in the record tells, and dense runs again.
  EXPECT_TRUE(read_json(out / read_json(out / "report.json")["dense"]["record"].get<std::string>())["video"]["checksum"]
                  .is_string());
  {
    std::fstream file(video, std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(std::streamoff(std::filesystem::file_size(video) / 2));
    file.write("damaged!", 8);
  }
  run = run_cli("compare " + request("--seed 6 --attention dense --out " + out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("is not the video its run wrote (its checksum differs from its record's): running it again"),
            std::string::npos)
      << run.output;
  EXPECT_EQ(read_json(out / "report.json")["dense"]["reused"], false);

  // A record whose fields a compare reads later is damaged: no hit, said why, and dense runs again
  // (the step times read after the sparse run had ended it with an internal error, its files replaced).
  const std::filesystem::path record = out / read_json(out / "report.json")["dense"]["record"].get<std::string>();
  for (const auto& [field, value, said] :
       {std::tuple{"timings_ms", nlohmann::json{{"steps", nlohmann::json::array()}, {"total", 1.0}},
                   "'timings_ms.steps' must be a list of step times in ms, got []"},
        std::tuple{"video", nlohmann::json("x"), "cannot use at() with string"},
        std::tuple{"video", nlohmann::json{{"frames", 4294967297LL}, {"height", 16}, {"width", 16}},
                   "'video.frames' must be a positive whole number, got 4294967297"}}) {
    nlohmann::json damaged = read_json(record);
    damaged[field] = value;
    std::ofstream(record) << damaged.dump();
    run = run_cli("compare " + request("--seed 6 --attention dense --out " + out.string()));
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_NE(run.output.find("the dense run's record in " + out.string() + " cannot be used (" + said +
                              "): running dense"),
              std::string::npos)
        << run.output;
    EXPECT_EQ(read_json(out / "report.json")["dense"]["reused"], false);
  }
}

TEST_F(CompareTest, CtrlCStopsWithoutAReport) {
  // Every folder it makes goes again, also through "." and ".." ("a/b/." had left a and b behind).
  const auto out = *dir_ / "interrupted" / "side" / ".." / "deeper" / ".";
  const CliRun run = test::run_cli_interrupted(
      "compare --model " + (*dir_ / "model").string() +
          " --prompt \"a red circle moves left\" --steps 200 --device cpu --out " + out.string(),
      "step 2/200", SIGINT);
  EXPECT_EQ(run.exit_code, 130) << run.output;
  EXPECT_NE(run.output.find("cancelled during the dense run: nothing written"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(*dir_ / "interrupted")) << "the folders compare made are left empty";
  EXPECT_TRUE(std::filesystem::exists(*dir_));
}

// The dense run is found by its model wherever the compare runs from: records name the model's folder
// absolute (as typed, "m" and "../m" had made two working folders rerun dense for each other), and
// the report names its files from its own folder. A sparse run in dense.mp4's place is not dense.
TEST_F(CompareTest, TheDenseRunIsFoundFromAnyWorkingFolderAndOnlyADenseRunIs) {
  struct WorkingFolderBack {  // restored however the test ends
    std::filesystem::path here = std::filesystem::current_path();
    ~WorkingFolderBack() { std::filesystem::current_path(here); }
  } back;
  const std::filesystem::path top = *dir_ / "working-folders";
  std::filesystem::create_directories(top / "sub");
  const std::string rest = " --prompt \"a red circle\" --steps 2 --device cpu --attention svgear --q-clusters 8"
                           " --k-clusters 32 --out ";
  std::filesystem::current_path(top);
  CliRun run = run_cli("compare --model ../model" + rest + "cmp");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::filesystem::current_path(top / "sub");
  run = run_cli("compare --model ../../model" + rest + "../cmp");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json report = read_json(top / "cmp" / "report.json");
  EXPECT_EQ(report["dense"]["reused"], true) << run.output;
  for (const char* run_name : {"dense", "sparse"}) {
    for (const char* file : {"video", "record"}) {
      const std::string name = report[run_name][file];  // dense.mp4, or dense.y4m in a build without FFmpeg
      EXPECT_EQ(name.find('/'), std::string::npos) << name;
      EXPECT_TRUE(std::filesystem::exists(top / "cmp" / name)) << name;
    }
  }
  const std::string folder = read_json(top / "cmp" / "dense.json")["model"]["folder"];
  EXPECT_TRUE(std::filesystem::path(folder).is_absolute()) << folder;
  EXPECT_TRUE(std::filesystem::equivalent(folder, *dir_ / "model")) << folder;

  nlohmann::json record = read_json(top / "cmp" / "dense.json");
  record["request"]["attention"]["mode"] = "svgear";
  std::ofstream(top / "cmp" / "dense.json") << record.dump();
  run = run_cli("compare --model " + (*dir_ / "model").string() + rest + (top / "cmp").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("is not dense (mode \"svgear\"): running dense"), std::string::npos) << run.output;
  EXPECT_EQ(read_json(top / "cmp" / "report.json")["dense"]["reused"], false);
}

// A sparse mode that makes no sparse call times dense attention under its name: the report says
// so, as the terminal does, beside its speedup.
TEST_F(CompareTest, TheRunsWarningsAreInTheReport) {
  const auto out = *dir_ / "no-sparse-call";
  const CliRun run = run_cli("compare " + request("--attention svgear --dense-steps 1 --out " + out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json warnings = read_json(out / "report.json").value("warnings", nlohmann::json());
  ASSERT_TRUE(warnings.is_array()) << run.output;
  const auto said = std::find_if(warnings.begin(), warnings.end(), [](const nlohmann::json& w) {
    return w.get<std::string>().starts_with("no call runs svgear attention: the dense warm-up");
  });
  ASSERT_NE(said, warnings.end()) << warnings.dump();
  EXPECT_NE(run.output.find("warning: " + said->get<std::string>()), std::string::npos) << run.output;
}

// A compare that replaces the folder's dense run removes the earlier report, which named it: a
// cancel in the sparse run must not leave a report describing videos it no longer matches.
TEST_F(CompareTest, ANewDenseRunRemovesTheEarlierReport) {
  const auto out = *dir_ / "stale-report";
  std::filesystem::create_directories(out);
  std::ofstream(out / "report.json") << R"({"mode": "svgear", "request": {"prompt": "an earlier prompt"},)"
                                         R"( "dense": {}, "sparse": {}, "quality": {}})";
  const CliRun run = test::run_cli_interrupted("compare --model " + (*dir_ / "model").string() +
                                                   " --prompt \"a blue square\" --steps 60 --device cpu --attention svgear"
                                                   " --q-clusters 8 --k-clusters 32 --no-cache --out " + out.string(),
                                               "svgear run", SIGINT);
  EXPECT_EQ(run.exit_code, 130) << run.output;
  EXPECT_TRUE(std::filesystem::exists(out / "dense.mp4") || std::filesystem::exists(out / "dense.y4m")) << run.output;
  EXPECT_FALSE(std::filesystem::exists(out / "report.json")) << run.output;
}

// A one-step compare has no later step: its table says it times the only one (it had read "later
// step" and "after the first", repeating the first step's time), and that one-time costs are in it.
// Each row's speedup sits in the table's own column (a sentence below it had held the one figure).
TEST_F(CompareTest, AOneStepCompareSaysItTimesItsOnlyStep) {
  const CliRun run = run_cli("compare --model " + (*dir_ / "model").string() +
                             " --prompt \"a red circle\" --steps 1 --device cpu --quiet --out " + (*dir_ / "one-step").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::regex header(R"((?:^|\n) {20} +dense +svgear +speedup\n)");
  EXPECT_TRUE(std::regex_search(run.output, header)) << run.output;
  // The speedup printed is the report's dense over sparse, to three significant digits.
  const nlohmann::json report = read_json(*dir_ / "one-step" / "report.json");
  const double expected =
      report["dense"]["first_step_ms"].get<double>() / report["sparse"]["first_step_ms"].get<double>();
  std::smatch only;
  ASSERT_TRUE(std::regex_search(run.output, only, std::regex(R"(\nonly step ms +[0-9.]+ +[0-9.]+ +([0-9.e+-]+)x\n)")))
      << run.output;
  EXPECT_NEAR(std::stod(only[1].str()), expected, 0.005 * expected) << run.output;
  EXPECT_NE(run.output.find("the only step's times include one-time costs"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("ms per later step"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("after the first"), std::string::npos) << run.output;
}

// A new dense run whose video cannot be written (a full disk) leaves the earlier dense video and its
// record; the earlier frames and report, which would describe the new run's place, are gone, so the
// next compare of the earlier request runs dense once more and then reuses it.
TEST_F(CompareTest, ADenseRunThatCannotBeWrittenLeavesTheEarlierOne) {
  const auto out = *dir_ / "full-disk";
  const std::string compare = "compare " + request("--attention svgear --q-clusters 8 --k-clusters 32 --out " + out.string());
  CliRun run = run_cli(compare);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json earlier = read_json(out / "dense.json");
  ASSERT_TRUE(std::filesystem::exists(out / "report.json"));
  run = test::run_cli_with_file_size_limit(compare + " --seed 7", 1024);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_EQ(read_json(out / "dense.json"), earlier) << "the earlier record stays";
  EXPECT_FALSE(std::filesystem::exists(out / "report.json")) << run.output;
  EXPECT_FALSE(std::filesystem::exists(out / "dense.frames")) << run.output;
  // Its frames went before the new video was written (beside another video they would give a wrong
  // measure before encoding), so the next compare runs it again rather than reuse it without them.
  run = run_cli(compare);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("has no frames kept beside it: running it again"), std::string::npos) << run.output;
  run = run_cli(compare);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("reusing the dense run"), std::string::npos) << run.output;
}

// A dense run that fails (NaN weights) prints its error once (compare had repeated it as "dense run
// failed: …"), says nothing was written, and leaves none of the folders --out made.
TEST_F(CompareTest, AFailedDenseRunSaysSoOnceAndLeavesNoFolders) {
  const auto model = *dir_ / "nan-model";
  std::filesystem::copy(*dir_ / "model", model, std::filesystem::copy_options::recursive);
  {
    // Every weight's bytes 0xFF: NaN in fp32, bf16 and fp16 alike; the header stays as it was.
    std::fstream weights(model / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    uint64_t header = 0;
    weights.read(reinterpret_cast<char*>(&header), sizeof header);
    const auto size = std::filesystem::file_size(model / "model.safetensors");
    ASSERT_LT(8 + header, size);
    weights.seekp(std::streamoff(8 + header));
    const std::string nan(size - 8 - header, '\xff');
    weights.write(nan.data(), std::streamsize(nan.size()));
  }
  const auto made = *dir_ / "failed-new";
  const CliRun run = run_cli("compare --model " + model.string() + " --prompt \"a red circle\" --steps 1 --frames 1 "
                             "--device cpu --out " + (made / "sub").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  const size_t first = run.output.find("gave non-finite values");
  ASSERT_NE(first, std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("gave non-finite values", first + 1), std::string::npos) << "said twice: " << run.output;
  EXPECT_NE(run.output.find("the dense run failed: nothing written"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(made)) << run.output;
}

// The user names the folder, not the files compare writes in it: a file of one of their names that
// no earlier compare wrote is refused before any work, and kept.
TEST_F(CompareTest, AUsersOwnFilesInTheFolderAreNotReplaced) {
  for (const char* name : {"dense.mp4", "svgear.mp4", "report.json", "dense.frames"}) {
    const auto out = *dir_ / ("users-" + std::string(name));
    std::filesystem::create_directories(out);
    // The videos under the name this build writes them (.y4m without FFmpeg).
    const auto file = video_output_path(out / name);
    std::ofstream(file) << "mine";
    const CliRun run = run_cli("compare " + request("--out " + out.string()));
    EXPECT_EQ(run.exit_code, 2) << name << "\n" << run.output;
    // Without FFmpeg the .y4m check of every output says it first, in its words.
    EXPECT_TRUE(run.output.find("the compare would replace it") != std::string::npos ||
                run.output.find("it would be replaced") != std::string::npos)
        << run.output;
    EXPECT_EQ(run.output.find("dense run"), std::string::npos) << "worked first: " << run.output;
    std::ifstream kept(file);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(kept), {}), "mine") << name;
  }
  // A JSON file with a report's two first keys is still the user's: a report has its own shape.
  const auto out = *dir_ / "users-report-keys";
  std::filesystem::create_directories(out);
  std::ofstream(out / "report.json") << R"({"mode": 1, "request": 2})";
  const CliRun run = run_cli("compare " + request("--out " + out.string()));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("is not a compare report: the compare would replace it"), std::string::npos) << run.output;
  EXPECT_EQ(read_json(out / "report.json"), nlohmann::json::parse(R"({"mode": 1, "request": 2})"));
}

// One compare per folder: a second would replace the first's dense run under its report.
TEST_F(CompareTest, ASecondCompareInTheSameFolderIsRefused) {
  const auto out = *dir_ / "locked";
  std::filesystem::create_directories(out);
  std::optional<FolderLock> held;
  held.emplace(out, "this test");  // as a running compare holds it
  CliRun run = run_cli("compare " + request("--out " + out.string()));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("another `svgear compare` is using"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(out / "dense.json")) << run.output;
  held.reset();
  run = run_cli("compare " + request("--attention dense --out " + out.string()));
  EXPECT_EQ(run.exit_code, 0) << run.output;
}

// One frame is "1 frame", not a mean of one.
TEST_F(CompareTest, OneFrameIsSaidSo) {
  const auto out = *dir_ / "one-frame";
  const CliRun run = run_cli("compare " + request("--frames 1 --attention svgear --dense-steps 0 --q-clusters 8 "
                                                  "--k-clusters 32 --quiet --out " + out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find(" (1 frame), before encoding"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("1 frames"), std::string::npos) << run.output;
}

TEST_F(CompareTest, SparseModesGiveAFinitePsnr) {
  for (const std::string mode : {"svg2", "svgear"}) {
    const auto out = *dir_ / ("sparse-" + mode);
    // The tiny model has about a thousand tokens per frame stack: a few clusters, no dense steps.
    const CliRun run = run_cli("compare " + request("--attention " + mode + " --dense-steps 0 --q-clusters 8 "
                                                    "--k-clusters 32 --quiet --out " + out.string()));
    ASSERT_EQ(run.exit_code, 0) << run.output;
    const nlohmann::json report = read_json(out / "report.json");
    EXPECT_EQ(report["mode"], mode);
    const nlohmann::json& written = report["quality"];
    const nlohmann::json& rendered = report["quality_before_encoding"];
    ASSERT_TRUE(written["mean_psnr_db"].is_number()) << report.dump(2);
    ASSERT_TRUE(rendered["mean_psnr_db"].is_number()) << report.dump(2);
    // A quality floor that a broken sparse path falls through. Measured on the CPU (2026-12-04):
    //   svg2    34.37 dB, SSIM 0.9983 written; 47.67 dB before encoding
    //   svgear  36.43 dB, SSIM 0.9989 written; 54.42 dB before encoding
    // while svg2 at --top-p 0.1 (a tenth of the blocks) gives 26.09 dB, SSIM 0.9896 written and
    // 27.56 dB before encoding. The random model's frames are near noise, which H.264 4:2:0 barely
    // keeps (about 10 dB from the frames it was given), so the written videos' figures sit lower.
    EXPECT_GT(written["mean_psnr_db"].get<double>(), 30.0) << report.dump(2);
    EXPECT_GT(written["mean_ssim"].get<double>(), 0.99) << report.dump(2);
    EXPECT_LE(written["mean_ssim"].get<double>(), 1.0);
    EXPECT_GT(rendered["mean_psnr_db"].get<double>(), 40.0) << report.dump(2);
    // Before encoding, the sparse run differs from dense in every frame.
    EXPECT_EQ(rendered["identical_frames"], 0);
    EXPECT_NE(run.output.find("(mean of " + std::to_string(rendered["psnr_db"].size()) + " frames, 0 identical), before encoding"),
              std::string::npos)
        << run.output;
    EXPECT_LT(rendered["mean_ssim"].get<double>(), 1.0);
    EXPECT_EQ(rendered["psnr_db"].size(), written["psnr_db"].size());

    // The report's figures are those of the written videos: measured again here from the files.
    const Video dense = read_video(out / report["dense"]["video"].get<std::string>());
    const Video sparse = read_video(out / report["sparse"]["video"].get<std::string>());
    ASSERT_EQ(dense.frames, sparse.frames);
    const VideoQuality measured = compare_videos(dense, sparse);
    EXPECT_NEAR(written["mean_psnr_db"].get<double>(), measured.mean_psnr_db, 1e-6) << report.dump(2);
    EXPECT_NEAR(written["mean_ssim"].get<double>(), measured.mean_ssim, 1e-9) << report.dump(2);
    EXPECT_EQ(written["identical_frames"], measured.identical_frames);
    ASSERT_EQ(written["psnr_db"].size(), measured.psnr_db.size());
    for (size_t f = 0; f < measured.psnr_db.size(); ++f) {
      if (std::isinf(measured.psnr_db[f])) {
        EXPECT_EQ(written["psnr_db"][f], "inf") << "frame " << f;
      } else {
        EXPECT_NEAR(written["psnr_db"][f].get<double>(), measured.psnr_db[f], 1e-6) << "frame " << f;
      }
    }
  }
}

TEST_F(CompareTest, GenerateTakesAttentionPresetsAndFlags) {
  const auto out = *dir_ / "preset.y4m";
  CliRun run = run_cli("generate " + request("--attention-preset fast --attention svg2 --top-p 0.85 --dense-layers 0.1 "
                                             "--quiet --output " + out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  nlohmann::json attention = read_json(*dir_ / "preset.json")["request"]["attention"];
  EXPECT_EQ(attention["mode"], "svg2");  // --attention beats the preset's svgear
  EXPECT_DOUBLE_EQ(attention["top_p"].get<double>(), 0.85);                // the flag beats the preset
  EXPECT_DOUBLE_EQ(attention["dense_warmup_steps"].get<double>(), 0.15);  // from "fast"
  EXPECT_DOUBLE_EQ(attention["dense_layers"].get<double>(), 0.1);

  const auto preset_file = *dir_ / "mine.json";
  std::ofstream(preset_file) << R"({"mode": "svgear", "q_clusters": 64, "k_clusters": 256})";
  run = run_cli("generate " + request("--attention-preset " + preset_file.string() + " --quiet --output " + out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  attention = read_json(*dir_ / "preset.json")["request"]["attention"];
  EXPECT_EQ(attention["mode"], "svgear");
  EXPECT_EQ(attention["q_clusters"], 64);
  EXPECT_EQ(attention["k_clusters"], 256);
  EXPECT_DOUBLE_EQ(attention["top_p"].get<double>(), 0.9);  // left out of the file: the default
  // The same counts in a dense file would do nothing: refused, the earlier video and record kept.
  const nlohmann::json kept_record = read_json(*dir_ / "preset.json");
  std::ofstream(preset_file) << R"({"mode": "dense", "q_clusters": 64, "k_clusters": 256})";
  run = run_cli("generate " + request("--attention-preset " + preset_file.string() + " --quiet --output " + out.string()));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("use mine.json's k_clusters and mine.json's q_clusters: drop them"), std::string::npos)
      << run.output;
  EXPECT_EQ(read_json(*dir_ / "preset.json"), kept_record);

  std::ofstream(preset_file) << R"({"top_pp": 0.9})";
  run = run_cli("generate " + request("--attention-preset " + preset_file.string() + " --output " + out.string()));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("unknown attention field 'top_pp'"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("known: mode, q_clusters"), std::string::npos) << run.output;

  run = run_cli("generate " + request("--attention-preset turbo --output " + out.string()));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("choose quality, balanced or fast"), std::string::npos) << run.output;

  run = run_cli("generate " + request("--top-p 1.5 --output " + out.string()));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("top_p (--top-p) must be in (0, 1]"), std::string::npos) << run.output;
}

TEST_F(CompareTest, BenchAttentionMeasuresTheDenseReference) {
  const auto json = *dir_ / "bench.json";
  const CliRun run = run_cli("bench attention --shape tiny --device cpu --modes dense,svg2,svgear --repeat 2 "
                             "--budgets 0.9 --json " + json.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("synthetic"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("sparse attention kernel: "), std::string::npos) << run.output;
  // Dense alone: no sparse settings in the table.
  const CliRun dense_only = run_cli("bench attention --shape tiny --device cpu --modes dense --repeat 1");
  ASSERT_EQ(dense_only.exit_code, 0) << dense_only.output;
  EXPECT_EQ(dense_only.output.find("sparse attention kernel"), std::string::npos) << dense_only.output;
  const nlohmann::json result = read_json(json);
  EXPECT_EQ(result["shape"]["tokens"], 1000);
  // Dense, then svg2 and svgear at the one budget: the CPU runs both sparse modes, so neither may
  // be left out or marked unavailable.
  ASSERT_EQ(result["rows"].size(), 3u) << result.dump(2);
  const nlohmann::json& dense = result["rows"][0];
  EXPECT_EQ(dense["mode"], "dense");
  EXPECT_EQ(dense["density"], 1.0);
  EXPECT_EQ(dense["relative_l2_vs_dense"], 0.0);
  EXPECT_EQ(dense["call_ms"].size(), 2u);
  EXPECT_GT(dense["median_ms"].get<double>(), 0.0);
  EXPECT_EQ(dense["speedup_vs_dense"], 1.0);
  EXPECT_FALSE(dense.contains("overhead_share")) << dense.dump();  // no phases
  // No FlashAttention-2 SDPA on the CPU, so no speedup against it.
  EXPECT_TRUE(result["dense_flash_ms"].is_null());
  const char* const sparse_modes[] = {"svg2", "svgear"};
  for (size_t i = 1; i < result["rows"].size(); ++i) {
    const nlohmann::json& row = result["rows"][i];
    EXPECT_EQ(row["mode"], sparse_modes[i - 1]) << row.dump();
    ASSERT_FALSE(row.contains("unavailable")) << row.dump();
    EXPECT_DOUBLE_EQ(row["top_p"].get<double>(), 0.9) << row.dump();
    EXPECT_EQ(row["call_ms"].size(), 2u) << row.dump();
    EXPECT_GT(row["relative_l2_vs_dense"].get<double>(), 0.0) << row.dump();
    EXPECT_LT(row["relative_l2_vs_dense"].get<double>(), 1.0) << row.dump();
    EXPECT_NEAR(row["speedup_vs_dense"].get<double>(),
                dense["median_ms"].get<double>() / row["median_ms"].get<double>(), 1e-9) << row.dump();
    EXPECT_FALSE(row.contains("speedup_vs_flash")) << row.dump();
    // k-means + probe + routing over the traced call's five phases.
    const nlohmann::json& p = row["phases_ms"];
    const double total = p["kmeans"].get<double>() + p["permute"].get<double>() + p["probe"].get<double>() +
                         p["routing"].get<double>() + p["attention"].get<double>();
    EXPECT_NEAR(row["overhead_share"].get<double>(),
                (p["kmeans"].get<double>() + p["probe"].get<double>() + p["routing"].get<double>()) / total, 1e-9);
    EXPECT_GT(row["overhead_share"].get<double>(), 0.0);
    EXPECT_LT(row["overhead_share"].get<double>(), 1.0);
    // The table shows it as a percentage on the row's line.
    char percent[16];
    std::snprintf(percent, sizeof percent, " %.0f%% ", 100.0 * row["overhead_share"].get<double>());
    bool shown = false;
    std::istringstream lines(run.output);
    for (std::string line; std::getline(lines, line);) {
      shown = shown || (line.rfind(row["mode"].get<std::string>(), 0) == 0 && line.find(percent) != std::string::npos);
    }
    EXPECT_TRUE(shown) << "no " << row["mode"] << " line with" << percent << "in\n" << run.output;
  }

  const CliRun bad = run_cli("bench attention --shape huge");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("(choose wan1.3b-480p, wan14b-720p, hunyuan-720p, tiny or small)"), std::string::npos)
      << bad.output;
  const CliRun upper = run_cli("bench attention --shape TINY");
  EXPECT_EQ(upper.exit_code, 2);
  EXPECT_NE(upper.output.find("unknown bench shape 'TINY' (did you mean 'tiny'? choose "), std::string::npos)
      << upper.output;
}

// svgear bench step on the tiny shape: dense first, SVG-EAR steps past the warm-up (sparse: a density
// below 1 and an error against dense that is neither zero nor wild), timings and an estimate; and
// Ctrl-C stops a bench between its stages and says so; timings cut short are no result, so no
// --json is written. Both benches say what they are doing as they go (on stderr).
TEST_F(CompareTest, BenchesStopOnCtrlCAndWriteNothing) {
  const auto json = *dir_ / "cut-short.json";
  CliRun run = test::run_cli_interrupted(
      "bench step --shape tiny --modes svgear --steps 3 --num-steps 10 --device cpu --json " + json.string(),
      "bench step: dense: step 1", SIGINT);
  EXPECT_EQ(run.exit_code, 130) << run.output;
  EXPECT_NE(run.output.find("bench step: cancelled; nothing written"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(json));
  // "small": each sparse row takes most of a second on a CPU, so the signal is in before the next.
  run = test::run_cli_interrupted("bench attention --shape small --device cpu --repeat 3 --budgets 0.5,0.9 --json " +
                                      json.string(),
                                  "bench attention: svg2 at top_p 0.5: 4 calls, the first untimed", SIGINT);
  EXPECT_EQ(run.exit_code, 130) << run.output;
  EXPECT_NE(run.output.find("bench attention: dense: 4 calls, the first untimed"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("bench attention: cancelled; nothing written"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(json));
}

// One dense call at wan1.3b-480p takes minutes on a CPU (274 s on two cores, ~35 s on sixteen):
// Ctrl-C must reach inside it, not wait for it. The bound is far from both sides: the call stops
// within a second or two of the signal (1.4 s on two cores).
TEST_F(CompareTest, BenchAttentionStopsInsideALongCall) {
  const CliRun run = test::run_cli_interrupted("bench attention --shape wan1.3b-480p --device cpu --modes dense "
                                               "--repeat 1",
                                               "bench attention: dense: 2 calls, the first untimed", SIGINT);
  EXPECT_EQ(run.exit_code, 130) << run.output;
  EXPECT_NE(run.output.find("bench attention: cancelled; nothing written"), std::string::npos) << run.output;
  EXPECT_GE(run.seconds_after_signal, 0.0);
  EXPECT_LT(run.seconds_after_signal, 15.0) << "Ctrl-C waited for the attention call to end";
}

// --top-p, the sparse modes' budget.
TEST_F(CompareTest, BenchStepTimesDenseAndSparseSteps) {
  const auto json = *dir_ / "bench-step.json";
  const CliRun run =
      run_cli("bench step --shape tiny --modes svgear --steps 2 --num-steps 10 --device cpu --seed random --json " +
              json.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json result = read_json(json);
  // A random seed is named, in the table and the JSON: the run can be repeated.
  ASSERT_TRUE(result["seed"].is_number_unsigned()) << result.dump();
  EXPECT_NE(run.output.find(" (seed " + std::to_string(result["seed"].get<uint64_t>()) + "), cpu, "), std::string::npos)
      << run.output;
  EXPECT_EQ(result["tokens"], 320);
  EXPECT_EQ(result["layers"], 3);
  EXPECT_EQ(result["dense_warmup_steps"], 2);
  ASSERT_EQ(result["rows"].size(), 2u);
  const nlohmann::json& dense = result["rows"][0];
  const nlohmann::json& sparse = result["rows"][1];
  EXPECT_EQ(dense["mode"], "dense");
  EXPECT_EQ(sparse["mode"], "svgear");
  for (const nlohmann::json* row : {&dense, &sparse}) {
    EXPECT_EQ((*row)["step_ms_all"].size(), 2u) << row->dump();
    EXPECT_GT((*row)["step_ms"].get<double>(), 0.0) << row->dump();
    EXPECT_GT((*row)["generation_s_estimate"].get<double>(), 0.0) << row->dump();
  }
  EXPECT_TRUE(dense["density"].is_null());
  EXPECT_DOUBLE_EQ(result["top_p"].get<double>(), 0.9);
  EXPECT_NE(run.output.find("sparse modes at top_p 0.9"), std::string::npos) << run.output;
  EXPECT_GT(sparse["density"].get<double>(), 0.0);
  EXPECT_LT(sparse["density"].get<double>(), 1.0);
  EXPECT_GT(sparse["relative_l2_vs_first"].get<double>(), 0.0);
  EXPECT_LT(sparse["relative_l2_vs_first"].get<double>(), 1.0);
  // The stages around the loop: the text encoder and the VAE decode of the whole latent (5 latent
  // frames of 16 × 16 → 17 frames of 128 × 128), in every mode's total.
  EXPECT_GT(result["text_encoder"]["ms"].get<double>(), 0.0);
  EXPECT_GT(result["text_encoder"]["weights_gib"].get<double>(), 0.0);
  EXPECT_GT(result["vae_decode"]["ms"].get<double>(), 0.0);
  EXPECT_EQ(result["video"], nlohmann::json::array({17, 128, 128}));
  for (const nlohmann::json* row : {&dense, &sparse}) {
    const double stages_s = (result["text_encoder"]["ms"].get<double>() + result["vae_decode"]["ms"].get<double>()) / 1000.0;
    EXPECT_NEAR((*row)["total_s_estimate"].get<double>(), (*row)["generation_s_estimate"].get<double>() + stages_s, 1e-9);
  }
  EXPECT_EQ(result["vae_frames"], "tiles");  // the CPU's, as a generation there decodes
  EXPECT_NE(run.output.find("VAE decode (to 17 × 128 × 128, 8-bit, in tiles)"), std::string::npos) << run.output;
  // Each stage is announced as it starts (a wan1.3b-480p stage takes minutes on a CPU).
  for (const char* stage : {"bench step: text encoder", "bench step: dense: step 3 of 3",
                            "bench step: svgear: step 1 of 3 (the cold one)", "bench step: svgear: one traced step",
                            "bench step: VAE decode"}) {
    EXPECT_NE(run.output.find(stage), std::string::npos) << stage << "\n" << run.output;
  }

  // --top-p sets the sparse modes' budget: a smaller one keeps fewer blocks; one outside (0, 1]
  // is refused before any step runs.
  const auto narrow_json = *dir_ / "bench-step-narrow.json";
  // With --profile-step, one more untimed step of the last mode follows its timed ones. With --fp8
  // the blocks' linear weights are e4m3 (a byte each instead of the float32's four).
  const CliRun narrow = run_cli("bench step --shape tiny --modes svgear --steps 1 --num-steps 10 --device cpu "
                                "--top-p 0.3 --profile-step --fp8 --json " + narrow_json.string());
  ASSERT_EQ(narrow.exit_code, 0) << narrow.output;
  // On the CPU no profiler listens, which it says (it had taken the flag without a word).
  EXPECT_NE(narrow.output.find("warning: --profile-step marks its step for Nsight Compute on a GPU: on the CPU the "
                               "extra step runs unmarked"),
            std::string::npos)
      << narrow.output;
  EXPECT_EQ(run.output.find("untimed step"), std::string::npos) << run.output;
  const size_t untimed = narrow.output.find("bench step: svgear: one untimed step for a profiler");
  ASSERT_NE(untimed, std::string::npos) << narrow.output;
  EXPECT_LT(narrow.output.find("bench step: svgear: step 2 of 2"), untimed) << narrow.output;
  const nlohmann::json narrowed = read_json(narrow_json);
  for (const nlohmann::json& row : narrowed["rows"]) EXPECT_EQ(row["step_ms_all"].size(), 1u) << row.dump();
  EXPECT_DOUBLE_EQ(narrowed["top_p"].get<double>(), 0.3);
  EXPECT_TRUE(narrowed["fp8"].get<bool>());
  EXPECT_FALSE(result["fp8"].get<bool>());
  EXPECT_LT(narrowed["weights_gib"].get<double>(), 0.5 * result["weights_gib"].get<double>());
  EXPECT_NE(narrow.output.find(" (scaled fp8, seed 0), cpu"), std::string::npos) << narrow.output;
  EXPECT_NE(narrow.output.find("sparse modes at top_p 0.3"), std::string::npos) << narrow.output;
  ASSERT_EQ(narrowed["rows"].size(), 2u);
  EXPECT_GT(narrowed["rows"].at(1)["density"].get<double>(), 0.0);
  EXPECT_LT(narrowed["rows"].at(1)["density"].get<double>(), sparse["density"].get<double>());
  const CliRun bad_budget = run_cli("bench step --shape tiny --top-p 1.5");
  EXPECT_EQ(bad_budget.exit_code, 2);
  EXPECT_NE(bad_budget.output.find("top_p (--top-p) must be in (0, 1]"), std::string::npos) << bad_budget.output;

  const CliRun bad = run_cli("bench step --shape huge");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("choose wan1.3b-480p, wan14b-720p or tiny"), std::string::npos) << bad.output;
  EXPECT_TRUE(result.contains("expert_swap_ms") && result["expert_swap_ms"].empty());  // without --expert-swap
  EXPECT_TRUE(result["expert_page_locked"].is_null());

  // Wan2.2-A14B's expert swap moves weights between a GPU and host memory: on a GPU three moves
  // are timed; on the CPU it is refused before any work.
  if (at::hasCUDA()) {
    const auto swap_json = *dir_ / "bench-step-swap.json";
    const CliRun swap = run_cli("bench step --shape tiny --modes dense --steps 1 --num-steps 10 --device cuda "
                                "--expert-swap --json " + swap_json.string());
    ASSERT_EQ(swap.exit_code, 0) << swap.output;
    const nlohmann::json swapped = read_json(swap_json);
    ASSERT_EQ(swapped["expert_swap_ms"].size(), 3u) << swapped.dump();
    for (const auto& ms : swapped["expert_swap_ms"]) EXPECT_GT(ms.get<double>(), 0.0);
    EXPECT_NE(swap.output.find("expert swap (Idle expert on the CPU"), std::string::npos) << swap.output;
    EXPECT_TRUE(swapped["expert_page_locked"].get<bool>()) << swap.output;
    ASSERT_EQ(swapped["expert_swap_pageable_ms"].size(), 2u) << swapped.dump();
    EXPECT_NE(swap.output.find("; from page-locked memory (locked in"), std::string::npos) << swap.output;
  }
  const CliRun swap_on_cpu = run_cli("bench step --shape tiny --device cpu --expert-swap");
  EXPECT_EQ(swap_on_cpu.exit_code, 2);
  EXPECT_NE(swap_on_cpu.output.find("--expert-swap times moves between a GPU and host memory"), std::string::npos)
      << swap_on_cpu.output;
}

// A routing trace file of synthetic traces written and read back: every trace read, the sizes and
// rates in the JSON, and nothing left in the folder, not even what a killed bench left there.
TEST_F(CompareTest, BenchTraceWritesAndReadsATraceFile) {
  const auto folder = *dir_ / "bench-trace";
  // What a bench killed two hours ago left: removed by this one.
  const auto abandoned = folder / "svgear-bench-trace-999999999-00000000000000a1";
  std::filesystem::create_directories(abandoned);
  std::ofstream(abandoned / "trace.json") << "{";
  std::filesystem::last_write_time(abandoned, std::filesystem::file_time_type::clock::now() - std::chrono::hours(2));
  const auto json = *dir_ / "bench-trace.json";
  const CliRun run = run_cli("bench trace --tokens 300 --q-clusters 7 --k-clusters 11 --steps 3 --traces 4 --folder " +
                             folder.string() + " --json " + json.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json result = read_json(json);
  EXPECT_EQ(result["traces"].get<int>(), 12);
  EXPECT_EQ(result["tokens"].get<int>(), 300);
  // Each trace holds at least its 600 labels and 77 map entries, a digit and a comma each.
  EXPECT_GT(result["bytes"].get<uint64_t>(), 12u * (600 + 77 + 77) * 2);
  EXPECT_GT(result["read_s"].get<double>(), 0.0);
  EXPECT_GT(result["write_s_per_gb"].get<double>(), 0.0);
  EXPECT_NE(run.output.find("routing trace: 12 traces of 300 tokens, 7 x 11 clusters"), std::string::npos) << run.output;
  EXPECT_TRUE(std::filesystem::is_empty(folder));
  const CliRun bad = run_cli("bench trace --tokens 0");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  for (const std::string option : {"--tokens", "--q-clusters", "--k-clusters"}) {  // refused before it says what it does
    const CliRun large = run_cli("bench trace " + option + " 1048577");
    EXPECT_EQ(large.exit_code, 2) << large.output;
    EXPECT_EQ(large.output, "error: " + option + " must be from 1 to 1048576, got 1048577\n");
  }
  const CliRun missing = run_cli("bench trace --steps 1 --traces 1 --folder " + (folder / "not-there").string());
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("is not a folder: name an existing one"), std::string::npos) << missing.output;
  EXPECT_FALSE(std::filesystem::exists(folder / "not-there"));
  // A folder that takes no file says so (/proc's errno had read "No such file or directory").
  const CliRun proc = run_cli("bench trace --steps 1 --traces 1 --folder /proc");
  EXPECT_EQ(proc.exit_code, 2) << proc.output;
  EXPECT_NE(proc.output.find("cannot write in /proc: /proc refuses new files"), std::string::npos) << proc.output;
  // More clusters than tokens: one per token, as a sparse call would cluster them, and so reported.
  const CliRun few = run_cli("bench trace --tokens 9 --q-clusters 200 --k-clusters 1000 --steps 1 --traces 1 --folder " +
                             folder.string() + " --json " + json.string());
  ASSERT_EQ(few.exit_code, 0) << few.output;
  EXPECT_EQ(read_json(json)["q_clusters"].get<int>(), 9);
  EXPECT_EQ(read_json(json)["k_clusters"].get<int>(), 9);
  // Ctrl-C stops it with its file removed (a killed bench's would stay in the temporary folder).
  const CliRun stopped = test::run_cli_interrupted("bench trace --steps 40 --folder " + folder.string(),
                                                   "bench trace: 40 steps of 24 traces each", SIGINT);
  EXPECT_EQ(stopped.exit_code, 130) << stopped.output;
  EXPECT_NE(stopped.output.find("bench trace: cancelled; its file is removed"), std::string::npos) << stopped.output;
  EXPECT_TRUE(std::filesystem::is_empty(folder));
  EXPECT_NE(few.output.find("1 trace of 9 tokens, 9 x 9 clusters"), std::string::npos) << few.output;
  // A step's traces are held until written, as a run writes its steps: 6 steps of 5 traces of a
  // million tokens (8 MB of labels each; a 120 MB file) had all been held, 240 MB, which 150 MB
  // refused with "internal error: std::bad_alloc"; a step's take 40 MB.
  const CliRun streamed = test::run_cli_in_memory(
      "bench trace --tokens 1000000 --q-clusters 4 --k-clusters 8 --steps 6 --traces 5 --folder " + folder.string(),
      uint64_t(150) << 20);
  EXPECT_EQ(streamed.exit_code, 0) << streamed.output;
  EXPECT_NE(streamed.output.find("30 traces of 1000000 tokens, 4 x 8 clusters"), std::string::npos) << streamed.output;
  EXPECT_TRUE(std::filesystem::is_empty(folder));
}

// A shape whose largest stage does not fit is refused before anything is drawn, saying what it
// needs: here the 14B DiT's float32 weights (~56 GiB) on the CPU, where the kernel's OOM killer
// would otherwise end the process without a word. Skipped where that much memory is free.
TEST(CliBench, StepRefusesAShapeThatDoesNotFitTheHostsMemory) {
  const std::optional<int64_t> available = available_host_memory();
  if (!available) GTEST_SKIP() << "no /proc/meminfo";
  // 53.2 GiB of float32 weights and about 25.5 GiB of a step's activations (host_step_bytes).
  if (*available > (int64_t(78) << 30)) GTEST_SKIP() << "this machine could hold the 14B DiT's step in float32";
  const CliRun run = run_cli("bench step --shape wan14b-720p --device cpu --steps 1");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("bench step --shape wan14b-720p needs about 78.8"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("of cpu memory for the diffusion model's weights (53.2 GiB) and about 25.5"),
            std::string::npos)
      << run.output;
}

TEST_F(CompareTest, DumpedActivationsFeedTheBench) {
  const auto dump = *dir_ / "qkv.safetensors";
  const CliRun generated = run_cli("generate " + request("--quiet --dump-attention " + dump.string() +
                                                        " --dump-layer 1 --dump-step 1 --output " +
                                                        (*dir_ / "dumped.y4m").string()));
  ASSERT_EQ(generated.exit_code, 0) << generated.output;
  EXPECT_NE(generated.output.find("wrote the q, k, v of layer 1 at step 1"), std::string::npos) << generated.output;
  ASSERT_TRUE(std::filesystem::exists(dump));
  // The run record names the dump, as it names a trace (relative to the record).
  const nlohmann::json dumped_record = read_json(run_record_path(*dir_ / "dumped.y4m"));
  EXPECT_EQ(dumped_record["attention_dump"],
            nlohmann::json({{"file", "qkv.safetensors"}, {"layer", 1}, {"step", 1}}));

  const auto json = *dir_ / "bench-real.json";
  const CliRun bench = run_cli("bench attention --inputs " + dump.string() +
                               " --device cpu --repeat 1 --budgets 0.9 --q-clusters 8 --k-clusters 16 --json " +
                               json.string());
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  EXPECT_NE(bench.output.find("real activations from"), std::string::npos) << bench.output;
  const nlohmann::json result = read_json(json);
  EXPECT_EQ(result["shape"]["name"], "file");
  EXPECT_GT(result["shape"]["tokens"].get<int>(), 16);  // the tiny model's video tokens
  // The report names the cluster counts the sparse rows ran with, not the default shape's.
  EXPECT_EQ(result["shape"]["q_clusters"], 8);
  EXPECT_EQ(result["shape"]["k_clusters"], 16);
  EXPECT_NE(bench.output.find("8 query / 16 key clusters"), std::string::npos) << bench.output;
  // Dense, then both sparse modes (the default --modes), each measured on the dumped activations.
  ASSERT_EQ(result["rows"].size(), 3u) << result.dump(2);
  const char* const modes[] = {"dense", "svg2", "svgear"};
  for (size_t i = 0; i < 3; ++i) {
    const nlohmann::json& row = result["rows"][i];
    EXPECT_EQ(row["mode"], modes[i]) << row.dump();
    ASSERT_FALSE(row.contains("unavailable")) << row.dump();
    EXPECT_EQ(row["call_ms"].size(), 1u) << row.dump();
    EXPECT_GT(row["median_ms"].get<double>(), 0.0) << row.dump();
    if (i == 0) continue;
    EXPECT_GT(row["relative_l2_vs_dense"].get<double>(), 0.0) << row.dump();
    EXPECT_LT(row["relative_l2_vs_dense"].get<double>(), 1.0) << row.dump();
  }

  // An earlier dump is replaced by the next one.
  const CliRun again = run_cli("generate " + request("--quiet --dump-attention " + dump.string() +
                                                    " --dump-layer 0 --dump-step 0 --output " +
                                                    (*dir_ / "dumped-again.y4m").string()));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("wrote the q, k, v of layer 0 at step 0"), std::string::npos) << again.output;

  const CliRun bad = run_cli("generate " + request("--dump-attention " + dump.string() + " --dump-layer 99"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("the attention dump's layer (--dump-layer) must be between 0 and"), std::string::npos)
      << bad.output;
  const CliRun orphan = run_cli("generate " + request("--dump-step 1"));
  EXPECT_NE(orphan.output.find("need --dump-attention"), std::string::npos) << orphan.output;
}

}  // namespace
}  // namespace svgear
