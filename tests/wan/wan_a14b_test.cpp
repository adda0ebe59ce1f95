// Wan2.2-A14B: two experts of one config, the high-noise DiT for the steps whose timestep is at or
// above boundary × 1000 and the low-noise one for the rest, each with its own guidance. Tiny
// synthetic pairs in the three layouts users download (tests/wan/tiny_wan_folder.h).

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/attention/dense_backend.h"
#include "core/media/video_reader.h"
#include "core/model/wan_random_weights.h"
#include "core/pipeline/generator.h"
#include "core/pipeline/run_record.h"
#include "core/pipeline/wan_folder.h"
#include "core/sampling/flow_schedule.h"
#include "core/sampling/sampler.h"
#include "core/sampling/seeded_noise.h"
#include "core/user_error.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "tests/cli/cli_run.h"
#include "tests/model/tiny_wan.h"
#include "tests/support/test_paths.h"
#include "tests/text/tiny_umt5.h"
#include "tests/wan/tiny_wan_folder.h"

namespace svgear {
namespace {

namespace fs = std::filesystem;
using test::contains;
using test::load_error;

class LogSink : public EventSink {
 public:
  void on_log(const std::string& line) override { lines.push_back(line); }
  std::vector<std::string> lines;
};

GenerationRequest tiny_request(int steps, double shift) {
  GenerationRequest r;
  r.prompt = "a red cat walks on the grass";
  r.seed = 11;
  r.steps = steps;
  r.shift = shift;
  r.frames = 5;
  r.height = 32;
  r.width = 48;
  return r;
}

GenerationResult generate(Model& model, const GenerationRequest& request, LogSink& sink) {
  CancelToken cancel;
  GenerationResult result = Generator(model).run(request, sink, cancel);
  EXPECT_EQ(result.status, GenerationStatus::Finished) << result.error;
  return result;
}

bool same_video(const Video& a, const Video& b) {
  return a.frames == b.frames && a.height == b.height && a.width == b.width && a.rgb == b.rgb;
}

TEST(WanA14b, FindsThePairInEachLayout) {
  const auto root = test::scratch_dir("wan_a14b_find");
  const auto comfy = test::write_tiny_wan_a14b_comfy(root / "comfy");
  const auto wan_ai = test::write_tiny_wan_a14b_wan_ai(root / "wan_ai");
  const auto diffusers = test::write_tiny_wan_a14b_diffusers(root / "diffusers", 0.9);

  const WanFolder c = WanFolder::find(comfy);
  ASSERT_EQ(c.dit_files.size(), 1u);
  EXPECT_EQ(c.dit_files[0].filename(), "wan2.2_t2v_high_noise_tiny_fp32.safetensors");
  ASSERT_EQ(c.low_noise_dit_files.size(), 1u);
  EXPECT_EQ(c.low_noise_dit_files[0].filename(), "wan2.2_t2v_low_noise_tiny_fp32.safetensors");
  const WanFolder w = WanFolder::find(wan_ai);
  ASSERT_EQ(w.dit_files.size(), 2u);
  EXPECT_EQ(w.dit_files[0].parent_path().filename(), "high_noise_model");
  ASSERT_EQ(w.low_noise_dit_files.size(), 2u);
  EXPECT_EQ(w.low_noise_dit_files[0].parent_path().filename(), "low_noise_model");
  const WanFolder d = WanFolder::find(diffusers);
  EXPECT_EQ(d.dit_files[0].parent_path().filename(), "transformer");
  EXPECT_EQ(d.low_noise_dit_files[0].parent_path().filename(), "transformer_2");

  for (const auto& [dir, boundary] : {std::pair{comfy, 0.875}, std::pair{wan_ai, 0.875}, std::pair{diffusers, 0.9}}) {
    const ModelManifest m = read_wan_manifest(dir);
    ASSERT_TRUE(m.low_noise_expert) << dir;
    EXPECT_EQ(m.low_noise_expert->boundary, boundary) << dir;
    EXPECT_FALSE(m.low_noise_expert->weight_files.empty());
    EXPECT_TRUE(contains(m.name, "a pair of experts")) << m.name;
    EXPECT_TRUE(contains(m.description, "two experts")) << m.description;
    // Wan2.2-T2V-A14B's sampling (upstream wan_t2v_A14B.py).
    EXPECT_EQ(m.defaults.steps, 40);
    EXPECT_EQ(m.defaults.shift, 12.0);
    EXPECT_EQ(m.defaults.guidance, 4.0);
    EXPECT_EQ(m.defaults.low_noise_guidance, 3.0);
    EXPECT_EQ(m.defaults.width, 1280);
    EXPECT_EQ(m.defaults.height, 720);
    EXPECT_EQ(m.to_json()["low_noise_expert"]["boundary"], boundary);
  }
  // Without a boundary_ratio in model_index.json, Wan2.2-T2V-A14B's.
  const auto no_ratio = test::write_tiny_wan_a14b_diffusers(root / "no_ratio", std::nullopt);
  EXPECT_EQ(read_wan_manifest(no_ratio).low_noise_expert->boundary, 0.875);
  // At those defaults (40 steps, shift 12) the high-noise expert takes the first 26 steps
  // (timesteps 999 to 877), as docs/wan.md says.
  const std::vector<double> defaults = make_flow_schedule(40, 12.0).timesteps;
  EXPECT_EQ(first_low_noise_step(defaults, 0.875), 26);
  EXPECT_EQ(defaults[25], 877.0);
  // The model listings show a pair as one model.
  EXPECT_EQ(find_model_folders(wan_ai), std::vector<fs::path>{wan_ai});
}

TEST(WanA14b, AnExpertWithoutItsPairOrAPairThatDiffersIsRefused) {
  const auto root = test::scratch_dir("wan_a14b_refused");
  const auto high_only = test::write_tiny_wan_a14b_comfy(root / "high_only");
  fs::remove(high_only / "wan2.2_t2v_low_noise_tiny_fp32.safetensors");
  std::string error = load_error(high_only);
  EXPECT_TRUE(contains(error, "wan2.2_t2v_high_noise_tiny_fp32.safetensors (the high-noise expert of Wan2.2-A14B) "
                              "without its low-noise expert"))
      << error;
  const auto low_only = test::write_tiny_wan_a14b_comfy(root / "low_only");
  fs::remove(low_only / "wan2.2_t2v_high_noise_tiny_fp32.safetensors");
  error = load_error(low_only);
  EXPECT_TRUE(contains(error, "without its high-noise expert (wan2.2_t2v_high_noise_14B_fp16.safetensors)")) << error;

  const auto three = test::write_tiny_wan_a14b_comfy(root / "three");
  fs::copy_file(three / "wan2.2_t2v_high_noise_tiny_fp32.safetensors", three / "wan2.1_t2v_tiny_fp32.safetensors");
  error = load_error(three);
  EXPECT_TRUE(contains(error, "holds 3 diffusion models")) << error;
  EXPECT_TRUE(contains(error, "one named *high_noise* and one *low_noise*")) << error;

  const auto wan_ai = test::write_tiny_wan_a14b_wan_ai(root / "wan_ai");
  fs::remove_all(wan_ai / "low_noise_model");
  error = load_error(wan_ai);
  EXPECT_TRUE(contains(error, "holds high_noise_model/ without low_noise_model/")) << error;
  EXPECT_TRUE(contains(error, "Wan-AI/Wan2.2-T2V-A14B")) << error;
  // One expert's own folder chosen (with the other parts copied in) names the folder above it.
  const auto inside = wan_ai / "high_noise_model";
  for (const char* part : {"umt5_xxl_fp16.safetensors", "wan_2.1_vae.safetensors"}) fs::copy_file(wan_ai / part, inside / part);
  error = load_error(fs::path(inside.string() + "/"));
  EXPECT_TRUE(contains(error, "is high_noise_model, one expert of Wan2.2-A14B: choose the folder that holds both")) << error;

  // By the folder's real name: a link to the expert's folder is refused the same way, and a folder
  // of one model whose name merely contains "high_noise" loads.
  fs::create_directory_symlink(inside, root / "link_to_expert");
  error = load_error(root / "link_to_expert");
  EXPECT_TRUE(contains(error, "is high_noise_model, one expert of Wan2.2-A14B")) << error;
  EXPECT_NO_THROW(Model::load(test::write_tiny_wan_original(root / "my_high_noise_finetune"), c10::Device(c10::kCPU)));
  const auto both_names = test::write_tiny_wan_a14b_comfy(root / "both_names");
  fs::rename(both_names / "wan2.2_t2v_low_noise_tiny_fp32.safetensors", both_names / "high_noise_low_noise.safetensors");
  error = load_error(both_names);
  EXPECT_TRUE(contains(error, "is named both high_noise and low_noise")) << error;

  const auto diffusers = test::write_tiny_wan_a14b_diffusers(root / "diffusers");
  fs::remove_all(diffusers / "transformer");
  error = load_error(diffusers);
  EXPECT_TRUE(contains(error, "holds transformer_2/ (the low-noise expert of Wan2.2-A14B) without transformer/")) << error;

  const auto bad_ratio = test::write_tiny_wan_a14b_diffusers(root / "bad_ratio", 1.5);
  error = load_error(bad_ratio);
  EXPECT_TRUE(contains(error, "\"boundary_ratio\" must be a number between 0 and 1")) << error;

  // A low-noise expert of another size: the two would not share a step's shapes.
  const auto differ = test::write_tiny_wan_a14b_comfy(root / "differ");
  WanConfig wider = test::tiny_wan_config();
  wider.ffn_dim *= 2;
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (auto& [name, tensor] : wan_random_weights(wider, 3).state_dict()) tensors.emplace_back("model.diffusion_model." + name, tensor);
  write_safetensors(differ / "wan2.2_t2v_low_noise_tiny_fp32.safetensors", tensors);
  error = load_error(differ);
  EXPECT_TRUE(contains(error, "the two experts differ")) << error;
}

// The pair's video is the high-noise expert's alone when every timestep is at or above the
// boundary, the low-noise expert's alone (with its guidance) when none is, and neither when the
// boundary falls between steps, where the log says which steps ran on which expert.
TEST(WanA14b, EachStepRunsOnItsExpertWithItsGuidance) {
  const auto root = test::scratch_dir("wan_a14b_steps");
  constexpr int kSteps = 4;
  constexpr double kShift = 5.0;
  const std::vector<double> timesteps = make_flow_schedule(kSteps, kShift).timesteps;
  const int split = first_low_noise_step(timesteps, 0.875);
  ASSERT_GT(split, 0) << "the test wants both experts to run";
  ASSERT_LT(split, kSteps);

  GenerationRequest pair_request = tiny_request(kSteps, kShift);
  pair_request.guidance = 4.0;
  pair_request.low_noise_guidance = 2.5;
  const auto run_pair = [&](const std::string& name, double boundary, const GenerationRequest& request, LogSink& sink) {
    auto model = Model::load(test::write_tiny_wan_a14b_diffusers(root / name, boundary), c10::Device(c10::kCPU));
    return generate(*model, request, sink);
  };
  LogSink all_high_log, all_low_log, both_log;
  const GenerationResult all_high = run_pair("all_high", 0.001, pair_request, all_high_log);
  // Guidance 1 on the high-noise expert, which runs no step here: the low-noise steps' guidance
  // still needs the negative prompt.
  GenerationRequest low_only_guided = pair_request;
  low_only_guided.guidance = 1.0;
  const GenerationResult all_low = run_pair("all_low", 0.9999, low_only_guided, all_low_log);
  const GenerationResult both = run_pair("both", 0.875, pair_request, both_log);

  // Each expert alone, as a one-DiT folder.
  const auto high_folder = test::write_tiny_wan_diffusers(root / "high");
  const auto low_folder = test::write_tiny_wan_a14b_diffusers(root / "low");
  fs::remove_all(low_folder / "transformer");
  fs::rename(low_folder / "transformer_2", low_folder / "transformer");
  fs::remove(low_folder / "model_index.json");
  LogSink ignored;
  GenerationRequest single = tiny_request(kSteps, kShift);
  single.guidance = 4.0;
  auto high_model = Model::load(high_folder, c10::Device(c10::kCPU));
  const GenerationResult high = generate(*high_model, single, ignored);
  single.guidance = 2.5;
  auto low_model = Model::load(low_folder, c10::Device(c10::kCPU));
  const GenerationResult low = generate(*low_model, single, ignored);

  EXPECT_TRUE(same_video(all_high.video, high.video));
  EXPECT_TRUE(same_video(all_low.video, low.video));
  EXPECT_FALSE(same_video(high.video, low.video));
  EXPECT_FALSE(same_video(both.video, high.video));
  EXPECT_FALSE(same_video(both.video, low.video));

  const auto logged = [](const LogSink& sink, const std::string& text) {
    for (const auto& line : sink.lines) {
      if (contains(line, text)) return true;
    }
    return false;
  };
  const std::string high_steps = split == 1 ? "step 1" : "steps 1-" + std::to_string(split);
  const std::string low_steps =
      split + 1 == kSteps ? "step " + std::to_string(kSteps) : "steps " + std::to_string(split + 1) + "-" + std::to_string(kSteps);
  EXPECT_TRUE(logged(both_log, high_steps + " on the high-noise expert (guidance 4), " + low_steps +
                                   " on the low-noise expert (guidance 2.5)"));
  EXPECT_TRUE(logged(all_high_log, "steps 1-4 on the high-noise expert (guidance 4)"));
  EXPECT_TRUE(logged(all_low_log, "steps 1-4 on the low-noise expert (guidance 2.5)"));
  EXPECT_EQ(*both.request.low_noise_guidance, 2.5);
  // A timestep equal to boundary × 1000 is the high-noise expert's, as upstream's `t >= boundary`.
  EXPECT_EQ(first_low_noise_step({999.0, 875.0, 874.0}, 0.875), 2);
}

// A step whose sample is not finite names the expert that ran it: a NaN in the low-noise expert's
// weights is not blamed on the model as a whole, nor on the high-noise expert that ran first.
TEST(WanA14b, ANonFiniteStepNamesTheExpertThatRanIt) {
  const auto dir = test::write_tiny_wan_a14b_comfy(test::scratch_dir("wan_a14b_nan") / "pair");
  const fs::path low = dir / "wan2.2_t2v_low_noise_tiny_fp32.safetensors";
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  {
    const auto file = SafetensorsFile::open(low);
    for (const TensorEntry& entry : file->tensors()) {
      at::Tensor tensor = file->load(entry.name);
      if (entry.name.ends_with("head.head.weight")) tensor = at::full_like(tensor, NAN);
      tensors.emplace_back(entry.name, tensor);
    }
  }
  write_safetensors(low, tensors);
  constexpr int kSteps = 3;
  const int split = first_low_noise_step(make_flow_schedule(kSteps, 5.0).timesteps, 0.875);
  ASSERT_GT(split, 0);
  ASSERT_LT(split, kSteps);
  auto model = Model::load(dir, c10::Device(c10::kCPU));
  LogSink sink;
  CancelToken cancel;
  const GenerationResult result = Generator(*model).run(tiny_request(kSteps, 5.0), sink, cancel);
  ASSERT_EQ(result.status, GenerationStatus::Failed);
  EXPECT_TRUE(contains(result.error, "step " + std::to_string(split + 1) + " of " + std::to_string(kSteps) +
                                         " gave non-finite values"))
      << result.error;
  EXPECT_TRUE(contains(result.error, "(its low-noise expert, which ran this step)")) << result.error;
}

// The experts share each layer's k-means centroids, as the reference's one attention processor per
// layer does [spec §2.2, P4]: the low-noise expert's first sparse step continues the high-noise
// expert's clustering. With the same weights in both, the pair's SVG-EAR video is then the single
// DiT's bit for bit; a low-noise expert that clustered afresh (k-means's init) gives another.
TEST(WanA14b, TheLowNoiseExpertContinuesTheClustering) {
  const auto root = test::scratch_dir("wan_a14b_clustering");
  const auto twins = test::write_tiny_wan_a14b_diffusers(root / "twins");
  fs::remove_all(twins / "transformer_2");
  fs::copy(twins / "transformer", twins / "transformer_2", fs::copy_options::recursive);
  const auto single_folder = test::write_tiny_wan_diffusers(root / "single");

  GenerationRequest request = tiny_request(4, 5.0);
  ASSERT_GT(first_low_noise_step(make_flow_schedule(4, 5.0).timesteps, 0.875), 1);  // a warm high-noise step first
  request.guidance = 4.0;
  request.attention.mode = AttentionMode::SvgEar;
  request.attention.q_clusters = 3;  // of 12 tokens
  request.attention.k_clusters = 5;
  request.attention.top_p = 0.5;
  request.attention.dense_warmup_steps = 0.0;
  GenerationRequest pair_request = request;
  pair_request.low_noise_guidance = 4.0;
  LogSink ignored;
  auto pair = Model::load(twins, c10::Device(c10::kCPU));
  auto single = Model::load(single_folder, c10::Device(c10::kCPU));
  const GenerationResult from_pair = generate(*pair, pair_request, ignored);
  const GenerationResult from_single = generate(*single, request, ignored);
  EXPECT_TRUE(same_video(from_pair.video, from_single.video));
  // Sparse attention shapes the video here (top_p 0.5 skips blocks), so equal videos are not
  // the dense ones.
  GenerationRequest dense = request;
  dense.attention = AttentionConfig{};
  EXPECT_FALSE(same_video(generate(*single, dense, ignored).video, from_single.video));
}

// The pair's run step by step, written out here from upstream's rule rather than the Generator's
// code: one sampler across the switch, each step on the expert its timestep picks (t ≥ boundary ×
// 1000, WanT2V.generate) with that expert's guidance, dense attention. The Generator's video must
// be this one bit for bit: a step on the wrong expert, the wrong guidance at one step or a sampler
// restarted at the switch would each change it.
TEST(WanA14b, TheRunIsTheExpertsStepByStep) {
  const auto root = test::scratch_dir("wan_a14b_stitched");
  auto model = Model::load(test::write_tiny_wan_a14b_diffusers(root / "pair", 0.875), c10::Device(c10::kCPU));
  GenerationRequest request = tiny_request(4, 5.0);
  request.guidance = 4.0;
  request.low_noise_guidance = 2.5;
  request.sampler = SamplerKind::UniPC;
  LogSink ignored;
  const GenerationResult run = generate(*model, request, ignored);

  const GenerationRequest r = request.resolve(model->manifest);
  const auto encoded = [&](const std::string& text) {
    return model->text_encoder->encode(text).unsqueeze(0).to(model->dtype);
  };
  const at::Tensor context = encoded(r.prompt);
  const at::Tensor context_null = encoded(*r.negative_prompt);
  const LatentShape shape = model->decoder->latent_shape(*r.frames, *r.height, *r.width);
  at::Tensor sample = seeded_noise(r.seed, {1, shape.channels, shape.frames, shape.height, shape.width},
                                   at::TensorOptions().dtype(at::kFloat));
  std::unique_ptr<Sampler> sampler = make_sampler(SamplerKind::UniPC, 4, 5.0);
  DenseBackend dense;
  int high_steps = 0;
  for (int i = 0; i < 4; ++i) {
    const double t = sampler->schedule().timesteps[i];
    const bool high = t >= 0.875 * 1000;
    high_steps += high;
    const WanDiT& dit = high ? *model->dit : *model->low_noise_dit;
    DiTForward call;
    call.attention = &dense;
    call.step = i;
    call.num_steps = 4;
    const at::Tensor x = sample.to(model->dtype);
    const at::Tensor time = at::full({1}, t, at::TensorOptions().dtype(at::kFloat));
    const at::Tensor cond = dit.forward(x, time, context, call).to(at::kFloat);
    const at::Tensor uncond = dit.forward(x, time, context_null, call).to(at::kFloat);
    const double guidance = high ? 4.0 : 2.5;
    sample = sampler->step(uncond + guidance * (cond - uncond), i, sample);
  }
  ASSERT_GT(high_steps, 0);
  ASSERT_LT(high_steps, 4);  // both experts ran
  EXPECT_TRUE(same_video(run.video, model->decoder->decode(sample[0], *r.fps)));
}

TEST(WanA14b, TheLowNoiseGuidanceBelongsToAPair) {
  const auto root = test::scratch_dir("wan_a14b_request");
  const ModelManifest pair = read_wan_manifest(test::write_tiny_wan_a14b_comfy(root / "pair"));
  const GenerationRequest resolved = tiny_request(2, 5.0).resolve(pair);
  EXPECT_EQ(*resolved.guidance, 4.0);
  EXPECT_EQ(*resolved.low_noise_guidance, 3.0);
  EXPECT_EQ(resolved.to_json()["low_noise_guidance"], 3.0);
  // A guidance given alone serves both experts, as upstream's single guide_scale does.
  GenerationRequest one_guidance = tiny_request(2, 5.0);
  one_guidance.guidance = 6.0;
  EXPECT_EQ(*one_guidance.resolve(pair).low_noise_guidance, 6.0);
  GenerationRequest out_of_range = tiny_request(2, 5.0);
  out_of_range.low_noise_guidance = 60.0;
  EXPECT_THROW(out_of_range.resolve(pair), UserError);

  const ModelManifest single = read_wan_manifest(test::write_tiny_wan_original(root / "single"));
  GenerationRequest request = tiny_request(2, 5.0);
  EXPECT_FALSE(request.resolve(single).low_noise_guidance);
  request.low_noise_guidance = 3.0;
  try {
    request.resolve(single);
    ADD_FAILURE() << "resolved";
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "has one diffusion model")) << e.what();
  }
}

// A Wan load reports its parts in the order it reads them, each from 0 to its whole tensor bytes,
// the experts of a pair each as its own part; the CLI prints them.
TEST(WanA14b, TheLoadReportsEachPartAsItReadsIt) {
  const auto root = test::scratch_dir("wan_a14b_progress");
  for (const bool pair : {false, true}) {
    const auto dir =
        pair ? test::write_tiny_wan_a14b_comfy(root / "pair") : test::write_tiny_wan_original(root / "one");
    std::vector<LoadStep> heard;
    ModelOptions options;
    options.on_progress = [&](const LoadStep& step) { heard.push_back(step); };
    const std::unique_ptr<Model> model = Model::load(dir, c10::Device(c10::kCPU), options);
    std::vector<std::string> parts;
    for (size_t i = 0; i < heard.size(); ++i) {
      const LoadStep& step = heard[i];
      EXPECT_GT(step.total, 0) << step.part;
      EXPECT_LE(step.done, step.total) << step.part;
      if (i == 0 || heard[i - 1].part != step.part || heard[i - 1].done == heard[i - 1].total) {
        EXPECT_EQ(step.done, 0) << step.part << ": a part starts at 0";
        parts.push_back(step.part);
      } else {
        EXPECT_GT(step.done, heard[i - 1].done) << step.part;
      }
    }
    ASSERT_FALSE(heard.empty());
    EXPECT_EQ(heard.back().done, heard.back().total);
    const std::vector<std::string> expected =
        pair ? std::vector<std::string>{"VAE", "text encoder", "high-noise expert", "low-noise expert"}
             : std::vector<std::string>{"VAE", "text encoder", "diffusion model"};
    EXPECT_EQ(parts, expected);
    // The DiT's reads are counted tensor by tensor: percents between its start and end.
    const auto dit_reports = std::count_if(heard.begin(), heard.end(), [&](const LoadStep& step) {
      return step.part == expected[2] && step.done > 0 && step.done < step.total;
    });
    EXPECT_GT(dit_reports, 5) << expected[2];
  }
  const test::CliRun run = test::run_cli("generate --model " + (root / "pair").string() +
                                         " --prompt \"a red cat\" --frames 5 --size 48x32 --steps 1 --device cpu"
                                         " --output " + (root / "pair.y4m").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* part : {"VAE", "text encoder", "high-noise expert", "low-noise expert"}) {
    EXPECT_TRUE(contains(run.output, std::string("loading the ") + part + " (")) << run.output;
    EXPECT_TRUE(contains(run.output, std::string("loaded the ") + part + " in ")) << run.output;
  }
}

// As a user types it: the pair from a ComfyUI folder, the low-noise guidance given, and the run
// record saying what ran.
TEST(WanA14b, TheCliGeneratesWithAPair) {
  const auto root = test::scratch_dir("wan_a14b_cli");
  const auto dir = test::write_tiny_wan_a14b_comfy(root / "comfy");
  const auto out = root / "pair.y4m";
  const test::CliRun run = test::run_cli("generate --model " + dir.string() +
                                         " --prompt \"a red cat\" --frames 5 --size 48x32 --steps 3 --shift 5"
                                         " --cfg-low-noise 2 --device cpu --output " + out.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(contains(run.output, "on the low-noise expert (guidance 2)")) << run.output;
  EXPECT_EQ(read_video(out).frames, 5);
  std::ifstream record_file(run_record_path(out));
  const nlohmann::json record = nlohmann::json::parse(record_file);
  EXPECT_EQ(record["request"]["low_noise_guidance"], 2.0);
  EXPECT_EQ(record["request"]["guidance"], 4.0);
  EXPECT_EQ(record["model"]["manifest"]["low_noise_expert"]["weights"][0], "wan2.2_t2v_low_noise_tiny_fp32.safetensors");

  // Traced with SVG-EAR: every step's routing, each from its own expert's backend, and the run
  // saying where the low-noise expert begins (3 steps at shift 5: the third, timestep 714).
  const auto trace = root / "pair-trace.json";
  const test::CliRun traced = test::run_cli("generate --model " + dir.string() +
                                            " --prompt \"a red cat\" --frames 5 --size 48x32 --steps 3 --shift 5"
                                            " --attention svgear --q-clusters 2 --k-clusters 3 --dense-steps 0"
                                            " --device cpu --trace " + trace.string() + " --output " +
                                            (root / "traced.y4m").string());
  ASSERT_EQ(traced.exit_code, 0) << traced.output;
  std::ifstream trace_file(trace);
  const nlohmann::json document = nlohmann::json::parse(trace_file);
  EXPECT_EQ(document["run"]["experts"]["boundary"], 0.875);
  EXPECT_EQ(document["run"]["experts"]["low_noise_from_step"], 2);
  ASSERT_EQ(document["steps"].size(), 3u);
  for (const auto& step : document["steps"]) EXPECT_FALSE(step["traces"].empty()) << step["step"];

  const auto single = test::write_tiny_wan_original(root / "single");
  const test::CliRun refused = test::run_cli("generate --model " + single.string() +
                                             " --prompt a --frames 5 --size 48x32 --steps 1 --cfg-low-noise 2 --device cpu"
                                             " --output " + (root / "x.y4m").string());
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_TRUE(contains(refused.output, "has one diffusion model")) << refused.output;
}

}  // namespace
}  // namespace svgear
