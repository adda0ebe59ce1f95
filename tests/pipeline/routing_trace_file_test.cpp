// A routing trace written step by step reads back field for field, and a damaged or hostile file
// is refused with the reason before a view could index with its labels.

#include "core/pipeline/routing_trace_file.h"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "core/user_error.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

// A step of a 2 × 3 × 4 token grid whose traces are consistent: labels give the sizes, the map
// holds 0s and 1s. `with_maps` false: the studio's dropped detail (scalars only).
RoutingEvent random_step(int step, int heads, bool with_maps, std::mt19937& rng) {
  RoutingEvent e;
  e.step = step;
  e.num_steps = 10;
  e.num_layers = 4;
  e.num_heads = heads;
  e.grid_frames = 2;
  e.grid_height = 3;
  e.grid_width = 4;
  e.temporal_factor = 4;
  const int tokens = 24, qc = 3, kc = 5;
  for (int h = 0; h < heads; ++h) {
    RoutingTrace t;
    t.step = step;
    t.layer = 1 + h % 3;
    t.head = h;
    t.q_clusters = qc;
    t.k_clusters = kc;
    t.density = std::uniform_real_distribution<double>(0, 1)(rng);
    t.estimated_log_error = h == 0 ? std::numeric_limits<double>::quiet_NaN() : -3.25 * h;
    t.measured_relative_l2 = h == 1 ? 0.125 : std::numeric_limits<double>::quiet_NaN();
    t.batch = h % 2;
    t.kmeans_ms = 1.5;
    t.permute_ms = 0.5;
    t.probe_ms = 0.25;
    t.routing_ms = 0.75 + h;
    t.attention_ms = 2.0;
    if (with_maps) {
      t.q_sizes.assign(qc, 0);
      t.k_sizes.assign(kc, 0);
      for (int i = 0; i < tokens; ++i) {
        t.q_labels.push_back(int32_t(rng() % qc));
        t.k_labels.push_back(i == 0 ? 0 : int32_t(rng() % kc));
        ++t.q_sizes[t.q_labels.back()];
        ++t.k_sizes[t.k_labels.back()];
      }
      for (int b = 0; b < qc * kc; ++b) {
        t.block_map.push_back(uint8_t(rng() % 2));
        t.block_log_error.push_back(b == 3 ? -std::numeric_limits<float>::infinity() : float(b) * 0.5f);
      }
    }
    e.traces.push_back(std::move(t));
  }
  return e;
}

// Writes `steps` as one trace file.
void write_trace(const std::filesystem::path& path, const std::vector<RoutingEvent>& steps) {
  RoutingTraceFile file(path);
  for (const RoutingEvent& step : steps) file.add(step);
  file.commit();
}

// Equal, or both NaN (null in the file).
bool same_number(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// `y`, read from a file, holds every field of `x`, which was written to it (or read from another).
void expect_read_as(const RoutingTrace& x, const RoutingTrace& y) {
  EXPECT_EQ(y.layer, x.layer);
  EXPECT_EQ(y.head, x.head);
  EXPECT_EQ(y.q_clusters, x.q_clusters);
  EXPECT_EQ(y.k_clusters, x.k_clusters);
  EXPECT_DOUBLE_EQ(y.density, x.density);
  EXPECT_TRUE(same_number(y.estimated_log_error, x.estimated_log_error));
  EXPECT_TRUE(same_number(y.measured_relative_l2, x.measured_relative_l2));
  EXPECT_EQ(y.batch, x.batch);
  EXPECT_EQ(y.kmeans_ms, x.kmeans_ms);
  EXPECT_EQ(y.permute_ms, x.permute_ms);
  EXPECT_EQ(y.probe_ms, x.probe_ms);
  EXPECT_EQ(y.routing_ms, x.routing_ms);
  EXPECT_EQ(y.attention_ms, x.attention_ms);
  EXPECT_EQ(y.q_labels, x.q_labels);
  EXPECT_EQ(y.k_labels, x.k_labels);
  EXPECT_EQ(y.q_sizes, x.q_sizes);
  EXPECT_EQ(y.k_sizes, x.k_sizes);
  EXPECT_EQ(y.block_map, x.block_map);
  ASSERT_EQ(y.block_log_error.size(), x.block_log_error.size());
  for (size_t b = 0; b < x.block_log_error.size(); ++b) {
    // JSON has no infinity: written as null, read back as NaN.
    EXPECT_TRUE(std::isfinite(x.block_log_error[b]) ? y.block_log_error[b] == x.block_log_error[b]
                                                    : std::isnan(y.block_log_error[b]))
        << b;
  }
}

std::string text_of(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(RoutingTraceFile, ReadsBackWhatItWrote) {
  const auto dir = test::scratch_dir("routing_trace_file");
  std::mt19937 rng(7);
  std::vector<RoutingEvent> written;
  written.push_back(random_step(2, 3, false, rng));
  written.push_back(random_step(3, 3, true, rng));
  written.push_back(random_step(5, 2, true, rng));
  written.front().run = {{"model", "random-tiny"}, {"request", {{"prompt", "a red circle"}, {"seed", 9}}}};
  {
    RoutingTraceFile file(dir / "trace.json");
    for (const RoutingEvent& e : written) file.add(e);
    EXPECT_EQ(file.steps(), 3);
    EXPECT_EQ(file.steps_without_maps(), 1);
    file.commit();
  }
  std::vector<RoutingEvent> read;
  const nlohmann::json run = read_routing_trace(dir / "trace.json", [&](RoutingEvent&& e) { read.push_back(std::move(e)); });
  EXPECT_EQ(run, written.front().run);
  EXPECT_TRUE(run["request"]["seed"].is_number_unsigned());  // as the studio takes a trace's seed
  ASSERT_EQ(read.size(), written.size());
  for (size_t s = 0; s < read.size(); ++s) {
    const RoutingEvent &a = written[s], &b = read[s];
    EXPECT_EQ(b.step, a.step);
    EXPECT_EQ(b.num_steps, a.num_steps);
    EXPECT_EQ(b.num_layers, a.num_layers);
    EXPECT_EQ(b.num_heads, a.num_heads);
    EXPECT_EQ(b.grid_frames * b.grid_height * b.grid_width, 24);
    EXPECT_EQ(b.temporal_factor, 4);
    ASSERT_EQ(b.traces.size(), a.traces.size());
    for (size_t h = 0; h < a.traces.size(); ++h) expect_read_as(a.traces[h], b.traces[h]);
  }
}

// bytes() counts what the file holds: the size notes below are reckoned from it.
TEST(RoutingTraceFile, CountsTheBytesItWrote) {
  const auto dir = test::scratch_dir("routing_trace_bytes");
  std::mt19937 rng(3);
  RoutingTraceFile file(dir / "trace.json");
  file.add(random_step(2, 3, false, rng));
  file.add(random_step(3, 3, true, rng));
  file.commit();
  EXPECT_EQ(file.bytes(), std::filesystem::file_size(dir / "trace.json"));
}

// A Wan step traced whole takes ~1 GB: the first step's size says what the run will take, a
// warning when it will not fit above the reserve left for the video, and tracing stops there.
TEST(RoutingTraceFile, SizeNotesAndTheStopForTheVideosRoom) {
  constexpr uint64_t GB = 1000000000;
  EXPECT_EQ(routing_trace_size_note(50000000, 10, 100 * GB).text, "");  // 0.5 GB in all: nothing to say
  const TraceSizeNote fits = routing_trace_size_note(GB + GB / 50, 48, 120 * GB);
  EXPECT_FALSE(fits.wont_fit);
  EXPECT_EQ(fits.text, "the routing trace takes 1.02 GB a step, about 49 GB for the run's 48 traced steps (120 GB free "
                       "on its disk)");
  const TraceSizeNote wont = routing_trace_size_note(GB, 48, 20 * GB);
  EXPECT_TRUE(wont.wont_fit);
  EXPECT_EQ(wont.text, "the routing trace takes 1.00 GB a step, about 48 GB for the run's 48 traced steps, and its "
                       "disk has 20 GB free: tracing stops while 1.00 GB is left there, for the video; to trace every "
                       "step, trace fewer layers or heads (--trace-layers, --trace-heads)");
  EXPECT_EQ(routing_trace_size_note(GB, 5, UINT64_MAX).text, "the routing trace takes 1.00 GB a step, about 5.00 GB for "
                                                              "the run's 5 traced steps");
  // Exactly the rest above the reserve fits; a byte less does not.
  EXPECT_FALSE(routing_trace_size_note(GB, 3, 2 * GB + kTraceDiskReserve).wont_fit);
  EXPECT_TRUE(routing_trace_size_note(GB, 3, 2 * GB + kTraceDiskReserve - 1).wont_fit);

  EXPECT_EQ(routing_trace_out_of_room(GB, 5, GB + kTraceDiskReserve), "");
  EXPECT_EQ(routing_trace_out_of_room(GB, 5, GB + kTraceDiskReserve - 1),
            "the routing trace stops after 5 steps: its disk has 2.00 GB free, which the video keeps (a step takes "
            "1.00 GB); the steps traced are written. To trace every step, trace fewer layers or heads "
            "(--trace-layers, --trace-heads)");
  EXPECT_NE(routing_trace_out_of_room(GB, 1, 0).find("stops after 1 step: its disk has 0 MB free"), std::string::npos);
  EXPECT_NE(routing_trace_size_note(27000000, 5, GB).text.find("takes 27 MB a step, about 135 MB for the run's 5"),
            std::string::npos);
}

// A file whose steps list their traces before their grid, with a key of its own (rewritten by
// another tool), reads the same.
TEST(RoutingTraceFile, ReadsStepsWhoseTracesComeBeforeTheirGrid) {
  const auto dir = test::scratch_dir("routing_trace_reordered");
  std::mt19937 rng(5);
  const RoutingEvent written = random_step(4, 2, true, rng);
  write_trace(dir / "trace.json", {written});
  const nlohmann::json original = nlohmann::json::parse(text_of(dir / "trace.json"));
  nlohmann::ordered_json step;
  step["traces"] = original["steps"][0]["traces"];
  for (const auto& [key, value] : original["steps"][0].items()) {
    if (key != "traces") step[key] = value;
  }
  nlohmann::ordered_json reordered;
  reordered["format"] = original["format"];
  reordered["notes"] = {{"by", "another tool"}, {"kept", {1, 2, 3}}};  // read past
  reordered["steps"] = nlohmann::ordered_json::array({step});
  std::ofstream(dir / "reordered.json") << reordered.dump();
  ASSERT_LT(text_of(dir / "reordered.json").find("\"traces\""), text_of(dir / "reordered.json").find("\"grid\""));
  std::vector<RoutingEvent> read;
  read_routing_trace(dir / "reordered.json", [&](RoutingEvent&& e) { read.push_back(std::move(e)); });
  ASSERT_EQ(read.size(), 1u);
  ASSERT_EQ(read[0].traces.size(), 2u);
  EXPECT_EQ(read[0].traces[1].q_labels, written.traces[1].q_labels);
  EXPECT_EQ(read[0].traces[1].block_map, written.traces[1].block_map);
}

// The same trace pretty-printed (another tool's rewrite: spaces and line breaks everywhere) reads as
// the compact file does.
TEST(RoutingTraceFile, ReadsAPrettyPrintedTraceAsItsCompactForm) {
  const auto dir = test::scratch_dir("routing_trace_pretty");
  std::mt19937 rng(3);
  write_trace(dir / "trace.json", {random_step(1, 3, true, rng), random_step(2, 2, false, rng)});
  std::ofstream(dir / "pretty.json") << nlohmann::json::parse(text_of(dir / "trace.json")).dump(2);
  ASSERT_NE(text_of(dir / "pretty.json").find("\n    "), std::string::npos);
  std::vector<RoutingEvent> compact, pretty;
  read_routing_trace(dir / "trace.json", [&](RoutingEvent&& e) { compact.push_back(std::move(e)); });
  read_routing_trace(dir / "pretty.json", [&](RoutingEvent&& e) { pretty.push_back(std::move(e)); });
  ASSERT_EQ(pretty.size(), 2u);
  ASSERT_EQ(compact.size(), 2u);
  for (size_t s = 0; s < 2; ++s) {
    ASSERT_EQ(pretty[s].traces.size(), compact[s].traces.size());
    for (size_t h = 0; h < compact[s].traces.size(); ++h) expect_read_as(compact[s].traces[h], pretty[s].traces[h]);
  }
}

// A file cut short after whole steps (a copy or download that stopped) gives those steps to a
// reader that asks for them, and says where it breaks off; cut inside its first step, or damaged
// before its end, it is refused as before.
TEST(RoutingTraceFile, ACopyCutShortGivesItsWholeSteps) {
  const auto dir = test::scratch_dir("routing_trace_cut");
  std::mt19937 rng(5);
  write_trace(dir / "good.json", {random_step(1, 2, true, rng), random_step(2, 2, true, rng), random_step(3, 2, true, rng)});
  const std::string good = text_of(dir / "good.json");
  const size_t third = good.find("\"step\":3");  // step 3's own key: a step's keys come before its traces
  const auto read = [&](const std::string& text, std::string* cut_short) {
    std::ofstream(dir / "cut.json", std::ios::trunc) << text;
    std::vector<int> steps;
    read_routing_trace(dir / "cut.json", [&](RoutingEvent&& e) { steps.push_back(e.step); }, nullptr, cut_short);
    return steps;
  };
  const std::string cut = good.substr(0, third + 20);  // inside step 3
  std::string why;
  EXPECT_EQ(read(cut, &why), (std::vector<int>{1, 2}));
  EXPECT_EQ(why, "'" + (dir / "cut.json").string() +
                     "' breaks off after 2 whole steps: the rest of the file is missing (a copy cut short?)");
  EXPECT_THROW(read(cut, nullptr), UserError);  // a reader that does not ask: refused
  why.clear();
  EXPECT_THROW(read(good.substr(0, good.find("\"step\":1") + 20), &why), UserError);  // no whole step
  EXPECT_THROW(read(good.substr(0, third) + "x" + good.substr(third), &why), UserError);  // damaged, not cut
  EXPECT_TRUE(why.empty());
  EXPECT_EQ(read(good, &why), (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(why.empty());
}

// Each damage is refused naming the file, and the damaged step (the first) never reaches the
// reader; a read that is told to stop ends likewise.
TEST(RoutingTraceFile, RefusesWhatIsNotAWholeValidTrace) {
  const auto dir = test::scratch_dir("routing_trace_damaged");
  std::mt19937 rng(11);
  write_trace(dir / "good.json", {random_step(1, 2, true, rng), random_step(2, 2, true, rng)});
  const std::string good = text_of(dir / "good.json");
  const auto damaged = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
  };
  // The first step's first trace, changed through a JSON tree.
  const auto changed = [&](const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json j = nlohmann::json::parse(good);
    change(j["steps"][0]["traces"][0]);
    return j.dump();
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {good.substr(0, good.size() / 2), "is not complete, valid JSON"},
      {R"({"format":"something-else/1","steps":[]})", "not a routing trace of a known format"},
      {R"({"steps":[{"step":1}],"format":"svgear-routing-trace/1"})", "does not come first"},
      {R"({"run":{}})", "no \"format\""},
      {R"({"format":"svgear-routing-trace/1","steps":5})", "\"steps\" is not a list"},
      {R"({"format":"svgear-routing-trace/1","steps":[1]})", "holds something other than steps"},
      {damaged(R"("traces":[)", R"("traces":5,"x":[)"), "its \"traces\" is not a list"},
      {damaged(R"("traces":[)", R"("traces":[1,)"), "its \"traces\" holds something other than traces"},
      // An array is refused as it passes the length its grid and cluster counts give it, not read whole.
      {damaged(R"("q_clusters":3)", R"("q_clusters":2)"), "more than 2 entries in \"q_sizes\""},
      {damaged(R"("q_labels":[)", R"("q_labels":[0,)"), "more than 24 entries in \"q_labels\""},
      {damaged(R"("k_labels":[0,)", R"("k_labels":[7,)"), "not one of its 5 clusters"},
      {damaged(R"("q_clusters":3)", R"("q_clusters":0)"), "outside 1"},
      {damaged(R"("block_map":[)", R"("block_map":[7,)"), "entries in \"block_map\""},
      {changed([](nlohmann::json& t) { t["block_map"][0] = 7; }), "neither 0 nor 1"},
      {changed([](nlohmann::json& t) { t["q_labels"][0] = (t["q_labels"][0].get<int>() + 1) % 3; }),
       "do not give its cluster sizes"},
      {changed([](nlohmann::json& t) { t["q_sizes"] = nlohmann::json::array(); }), "only part of its detail"},
      {changed([](nlohmann::json& t) {
         t["q_labels"] = t["k_labels"] = t["q_sizes"] = t["k_sizes"] = t["block_log_error"] = nlohmann::json::array();
       }),
       "only part of its detail"},
      {changed([](nlohmann::json& t) { t["q_labels"][0] = 1.0; }), "not one of its 3 clusters"},
      {changed([](nlohmann::json& t) { t["block_log_error"][1] = "x"; }), "\"block_log_error\" that is not a number"},
      {changed([](nlohmann::json& t) { t["block_map"] = "none"; }), "has no array \"block_map\""},
      // Figures no run makes, which the panels would show as facts.
      {changed([](nlohmann::json& t) { t["density"] = 7.5; }), "has \"density\" 7.5, outside 0…1"},
      {changed([](nlohmann::json& t) { t["phase_ms"]["kmeans"] = -50; }), "has \"phase_ms.kmeans\" -50, below 0"},
      {changed([](nlohmann::json& t) { t["measured_relative_l2"] = -0.5; }), "\"measured_relative_l2\" -0.5, below 0"},
      {damaged(R"("width":4)", R"("width":5)"), "not the 30 tokens"},
      {damaged(R"("grid":{)", R"("grid":{"frames":1,"height":1,"width":1,"temporal_factor":0},"grid":{)"),
       "the key 'grid' is given twice in one object"},
      {damaged(R"("step":1,)", R"("step":1,"step":0,)"), "the key 'step' is given twice in one object"},
      {damaged(R"("grid":{"frames":2,"height":3,"temporal_factor":4,"width":4},)", ""), "a step has no \"grid\""},
      // A file that breaks off says so, wherever it does.
      {good.substr(0, 1), "the text ends where a key should be"},
      {good.substr(0, good.find("\"steps\":") + 8), "expected '[', but the text ends"},
      {good.substr(0, good.find("\"steps\":") + 9), "expected '{', but the text ends"},
      // A format that is no short word is cut in the message.
      {R"({"format":")" + std::string(100000, 'x') + R"(","steps":[]})", "xxx\u2026 (100002 bytes), expected"},
      {damaged(R"("frames":2)", R"("frames":0)"), "\"frames\" is not a whole number from 1"},
      {damaged(R"("num_heads":2)", R"("num_heads":"two")"), "\"num_heads\" is not a whole number"},
      // Counts no DiT has, and traces outside their step's: a view loops over a step's layers.
      {damaged(R"("num_heads":2)", R"("num_heads":4097)"), "\"num_heads\" is not a whole number from 1 to 4096"},
      {damaged(R"("num_layers":4)", R"("num_layers":1048576)"), "\"num_layers\" is not a whole number from 1 to 4096"},
      {changed([](nlohmann::json& t) { t["layer"] = 4; }), "a trace of layer 4, head 0 lies outside its step's 4 layers × 2 heads"},
      {changed([](nlohmann::json& t) { t["head"] = 2; }), "lies outside its step's 4 layers × 2 heads"},
      // A step or trace that contradicts its run or its step.
      {damaged(R"("num_steps":10)", R"("num_steps":1)"), "a step numbered 1 lies outside its run's 1 step"},
      {changed([](nlohmann::json& t) { t["step"] = 7; }), "a trace of layer 1, head 0 says step 7 inside step 1"},
      {changed([](nlohmann::json& t) {
         t["layer"] = 2;  // the second trace's layer, head and batch
         t["head"] = 1;
         t["batch"] = 1;
       }),
       "a trace of layer 2, head 1, batch 1 comes twice in step 1"},
  };
  for (const auto& [text, message] : cases) {
    std::ofstream(dir / "bad.json", std::ios::trunc) << text;
    int steps = 0;
    try {
      read_routing_trace(dir / "bad.json", [&](RoutingEvent&&) { ++steps; });
      ADD_FAILURE() << "read: " << text.substr(0, 200);
    } catch (const UserError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(message), std::string::npos) << what;
      EXPECT_NE(what.find("bad.json"), std::string::npos) << what;
    }
    EXPECT_EQ(steps, 0) << message;
  }
  EXPECT_THROW(read_routing_trace(dir / "missing.json", [](RoutingEvent&&) {}), UserError);
  // Steps out of order or twice (a hand-edited file): the latest shown would be an older step.
  for (const auto& [first, second] : {std::pair{2, 1}, std::pair{1, 1}}) {
    write_trace(dir / "order.json", {random_step(first, 2, true, rng), random_step(second, 2, true, rng)});
    try {
      read_routing_trace(dir / "order.json", [](RoutingEvent&&) {});
      ADD_FAILURE() << "read steps " << first << ", " << second;
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("holds a step that cannot be shown: step " + std::to_string(second) +
                                           " comes after step " + std::to_string(first) +
                                           " (a trace's steps run in order, each once)"),
                std::string::npos)
          << e.what();
    }
  }

  // Told to stop after the first step: the second never comes. The counts say what was read.
  RoutingTraceReading reading;
  int steps = 0;
  try {
    read_routing_trace(
        dir / "good.json",
        [&](RoutingEvent&&) {
          ++steps;
          reading.stop = true;
        },
        &reading);
    ADD_FAILURE() << "read to the end";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("the read was stopped"), std::string::npos) << e.what();
  }
  EXPECT_EQ(steps, 1);
  EXPECT_EQ(reading.steps.load(), 1);
  EXPECT_EQ(reading.traces.load(), 2);
}

}  // namespace
}  // namespace svgear
