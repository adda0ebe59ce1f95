#include "app/request_options.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/attention/attention_preset.h"
#include "core/pipeline/model_manifest.h"
#include "core/pipeline/request_limits.h"
#include "core/user_error.h"

namespace svgear {

const char* const kRequestOptionsHelp = R"(  --model DIR        model folder with model.json, or a folder of Wan files (docs/wan.md)
                     (default: the first under $SVGEAR_MODELS, else the built-in shapes-s)
  --prompt TEXT      what to generate
  --negative TEXT    negative prompt (default: the model's); only a guidance other than 1 reads it;
                     a built-in model's is a scene in the prompt's words ("a green square")
  --seed N|random    noise seed, 0 to 4294967295, or random (below 2^31) (default 0)
  --noise cpu|device where the seed's noise is drawn: cpu (default; one video per seed on every
                     device) or device (a GPU's own generator, as Wan's generate.py draws it:
                     upstream's noise for the seed on the same kind of GPU; docs/wan.md)
  --steps N          sampling steps, 1 to 1000       --sampler unipc|euler
  --cfg X            guidance scale, 1 (off) to 50   --shift X    timestep shift, above 0 to 100
  --cfg-low-noise X  Wan2.2-A14B: the low-noise expert's guidance; --cfg is then the
                     high-noise expert's, and given alone sets both (defaults: 4 and 3)
  --frames N         1 to 1024 (Wan: 4n + 1)         --fps X      0.01 to 240
  --size WxH         (or --width N --height N) sides up to 8192 pixels, multiples of the model's
                     patch (Wan: of its VAE's stride times its patch, 16 or 32)
  (steps, sampler, guidance, shift, frames, size and fps default to the model's)
  --device D         auto | cpu | cuda | cuda:N (default auto)
Wan memory options (docs/wan.md; refused for a built-in model, a folder with model.json):
  --text-encoder-device D   where umT5 runs (default: --device); cpu saves ~11 GB of GPU memory
  --free-text-encoder       free umT5 once the prompts are encoded (reloaded for a new prompt)
  --vae-device D            where the VAE decodes (default: --device)
  --idle-expert-on-cpu      Wan2.2-A14B on a GPU: keep the expert not in use in host memory
                            (page-locked) and swap the two at the boundary step (one 14B expert on
                            the GPU, not two; ~1 s per move on an H200)
  --dit-fp8                 quantise the diffusion model's linear weights to fp8 (e4m3, a scale
                            each) as they load: about half its memory on a GPU (14B: 13.9 GiB, not
                            26.6; a quarter of the CPU's float32), for fp8's rounding of the
                            weights; fp8 files are kept in fp8 anyway (bench step --fp8 times it)
sparse attention (svg2 / svgear; see docs/architecture.md; refused with dense attention):
  --attention-preset NAME|FILE.json   quality | balanced | fast, or a JSON file of AttentionConfig
                     fields ({"mode": "svgear", "top_p": 0.85, ...}; without "mode" it keeps
                     --attention's or the command's, and is refused for a dense run); the flags
                     below override it
  --top-p X          attention budget in (0, 1] (default 0.9)
  --q-clusters N     query clusters (default 200, or 300 for frames larger than 832x480, as the
                     reference's 720p scripts; 0 is that default, over a preset's count)
  --k-clusters N     key clusters (default 1000)
                     (at most one per token: a clip with fewer tokens gets one cluster per token)
  --guaranteed-ratio X   SVG-EAR's always-exact share of key clusters, in [0, 0.5] (default 0.05)
  --dense-steps X    fraction of the first steps kept dense (default 0.2)
  --dense-layers X   fraction of the first layers kept dense, at least one (default 0.03)
  --kmeans-in-warmup also cluster during the dense warm-up steps, so the first sparse step is not
                     slowed by the 50-iteration k-means init
)";

namespace {

// "--a", "--a and --b", "--a, --b and --c".
std::string spoken_list(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    out += (i == 0 ? "" : i + 1 < words.size() ? ", " : " and ") + words[i];
  }
  return out;
}

// A message ended as a sentence, for another to follow it: "Is this the file?" takes no '.'.
std::string as_sentence(std::string text) {
  if (!text.empty() && text.back() != '.' && text.back() != '?' && text.back() != '!') text += '.';
  return text;
}

struct DefaultModel {
  std::filesystem::path folder;
  bool builtin = false;  // from the built-in models' folder, not $SVGEAR_MODELS
};

// The model a run without --model takes (the scan's default), refused where it cannot be read, and
// where it is the built-in one while a Wan folder under $SVGEAR_MODELS is no model: that download,
// left incomplete or cut short, is most likely the model meant, and the built-in model's clip in
// its place would not say it was another model.
DefaultModel default_model_for_a_run() {
  const ModelScan scan = scan_model_roots();
  if (!scan.default_folder) {
    throw UserError("no model found: pass --model DIR (a folder with model.json or Wan files), "
                    "or make one with `svgear random-model --preset tiny --out models/tiny`");
  }
  const std::filesystem::path& found = *scan.default_folder;
  if (scan.default_builtin && !scan.not_models.empty()) {
    const NotAModel& first = scan.not_models.front();
    const size_t more = scan.not_models.size() - 1;
    throw UserError("no --model given, and no model was found under $SVGEAR_MODELS: '" + first.folder.string() +
                    "' holds a Wan diffusion model but is no model: " + as_sentence(first.why) +
                    (more ? " `svgear info` lists it and " +
                                counted_noun(more, "other such folder.", "other such folders.")
                          : "") +
                    " Fix that folder, or pass --model DIR (--model " + found.string() + " for the built-in model)");
  }
  // The user named none: a default that cannot be read must say it was picked, and from where.
  try {
    (void)read_model_manifest(found);
  } catch (const UserError& e) {
    throw UserError("no --model given, so the first model folder found, '" + found.string() +
                    "', was chosen, and it cannot be read: " + as_sentence(e.what()) + " Pass --model DIR, or fix "
                    "or move that folder");
  }
  return {found, scan.default_builtin};
}

// Model::load passes over the Wan memory options where they cannot apply, because the studio keeps
// its boxes ticked from one model to the next. Typed on the command line, an option that would do
// nothing is refused instead, before any weight loads.
void refuse_model_options_that_do_nothing(const RequestOptions& o) {
  const ModelOptions& m = o.model_options;
  std::vector<std::string> given;
  if (m.text_encoder_device) given.push_back("--text-encoder-device");
  if (m.free_text_encoder) given.push_back("--free-text-encoder");
  if (m.vae_device) given.push_back("--vae-device");
  if (m.idle_expert_on_cpu) given.push_back("--idle-expert-on-cpu");
  if (m.dit_fp8) given.push_back("--dit-fp8");
  if (given.empty()) return;
  // The folder the load will take (model_folder_or_default, which reports one that is missing).
  const std::optional<std::filesystem::path> folder =
      o.model_folder ? o.model_folder : default_model_for_a_run().folder;
  std::error_code ec;
  if (folder && std::filesystem::exists(*folder / "model.json", ec)) {  // as loads_as_wan_folder tells them apart
    throw UserError(spoken_list(given) + (given.size() == 1 ? " applies" : " apply") + " to Wan models, and '" +
                    folder->string() + "' is a built-in or random model (it has a model.json), with no umT5 text encoder or "
                    "VAE to place or free and no fp8 loading of its diffusion model: drop " +
                    (given.size() == 1 ? "it" : "them"));
  }
  if (m.idle_expert_on_cpu && folder) {
    const ModelManifest manifest = read_model_manifest(*folder);  // its files and their headers: nothing loads
    if (!manifest.low_noise_expert) {
      throw UserError("--idle-expert-on-cpu applies to a pair of experts (Wan2.2-A14B), and '" + folder->string() +
                      "' (" + manifest.name + ") has one diffusion model: drop it");
    }
  }
  if (m.idle_expert_on_cpu && parse_device(o.device_name).is_cpu()) {
    throw UserError(std::string("--idle-expert-on-cpu keeps the Wan2.2-A14B expert not in use in host memory while "
                                "the other runs on a GPU, and this run's device is the CPU") +
                    (o.device_name == "auto" ? " (--device auto found no GPU)" : "") +
                    ", where both experts are in host memory anyway: drop it, or choose a GPU with --device");
  }
}

}  // namespace

AttentionConfig read_attention_options(CliArgs& args, AttentionMode default_mode, std::vector<std::string>* typed,
                                       bool mode_option) {
  std::vector<std::string> names;
  const auto seen = [&names](const char* name, const auto& option) {
    if (option) names.emplace_back("--").append(name);  // not "--" + name: a GCC 12 -Warray-bounds false alarm
    return option;
  };
  const auto preset = seen("attention-preset", args.text("attention-preset"));
  // --attention's mode over the preset's, and the one a preset file without a mode applies to.
  AttentionConfig defaults;
  const auto mode = mode_option ? args.text("attention") : std::nullopt;
  defaults.mode = mode ? parse_attention_mode(*mode) : default_mode;
  std::vector<std::string> file_fields;
  AttentionConfig config = preset ? load_attention_preset(*preset, defaults, &file_fields) : defaults;
  if (mode) config.mode = defaults.mode;
  // A file's settings count as typed: a mode that uses them not is refused, not run without them
  // (a file saying "mode": "dense" beside a budget ran dense, its record listing the budget).
  for (const std::string& field : file_fields) {
    names.push_back(std::filesystem::path(*preset).filename().string() + "'s " + field);
  }
  if (const auto x = seen("top-p", args.number("top-p"))) config.top_p = *x;
  if (const auto n = seen("q-clusters", args.integer("q-clusters", 0))) config.q_clusters = *n;
  if (const auto n = seen("k-clusters", args.integer("k-clusters"))) config.k_clusters = *n;
  if (const auto x = seen("guaranteed-ratio", args.number("guaranteed-ratio"))) config.guaranteed_ratio = *x;
  if (const auto x = seen("dense-steps", args.number("dense-steps"))) config.dense_warmup_steps = *x;
  if (const auto x = seen("dense-layers", args.number("dense-layers"))) config.dense_layers = *x;
  if (seen("kmeans-in-warmup", args.flag("kmeans-in-warmup"))) config.kmeans_in_warmup = true;
  check_attention_config(config);
  if (typed) *typed = std::move(names);
  return config;
}

void refuse_attention_options_no_mode_uses(const std::vector<std::string>& typed,
                                           const std::vector<AttentionMode>& modes, const std::string& runs,
                                           const std::string& remedy) {
  const auto runs_mode = [&modes](AttentionMode m) { return std::find(modes.begin(), modes.end(), m) != modes.end(); };
  std::vector<std::string> unused;
  // SVG-EAR's own: the flag, and a preset file's guaranteed ratio and gamma (named "<file>'s field").
  const auto svgear_only = [](const std::string& name) {
    return name == "--guaranteed-ratio" || name.ends_with("'s guaranteed_ratio") || name.ends_with("'s gamma");
  };
  for (const std::string& name : typed) {
    const bool used = svgear_only(name) ? runs_mode(AttentionMode::SvgEar)
                                        : runs_mode(AttentionMode::Svg2) || runs_mode(AttentionMode::SvgEar);
    if (!used) unused.push_back(name);
  }
  if (unused.empty()) return;
  const bool sparse = runs_mode(AttentionMode::Svg2) || runs_mode(AttentionMode::SvgEar);
  throw UserError(runs + (sparse ? " runs no SVG-EAR, and only SVG-EAR uses "
                                 : " runs no sparse mode, and only the sparse modes (svg2, svgear) use ") +
                  spoken_list(unused) + (unused.size() == 1 ? ": drop it" : ": drop them") + ", or " + remedy);
}

RequestOptions read_request_options(CliArgs& args, AttentionMode default_mode) {
  RequestOptions o;
  GenerationRequest& request = o.request;
  const auto prompt = args.text("prompt");
  o.prompt_given = prompt.has_value();
  request.prompt = prompt.value_or("");
  request.negative_prompt = args.text("negative");
  request.seed = args.seed().value_or(0);
  request.steps = args.integer("steps", 1, kMaxSteps);
  request.guidance = args.number("cfg");
  request.low_noise_guidance = args.number("cfg-low-noise");
  request.shift = args.number("shift");
  request.frames = args.integer("frames");
  request.width = args.integer("width");
  request.height = args.integer("height");
  request.fps = args.number("fps");
  if (const auto size = args.text("size")) {
    if (request.width || request.height) throw UserError("give --size or --width and --height, not both");
    // Whole numbers of up to 9 digits (the size check then says what fits): sscanf's %d would wrap.
    const auto dimension = [&](std::string_view text) {
      if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
        throw UserError("--size expects WIDTHxHEIGHT, e.g. 64x64, got '" + *size + "'");
      }
      if (text.size() > 9) {
        throw UserError("--size '" + *size + "' is out of range: " + std::string(text) + " pixels is past any video "
                        "a model makes (e.g. 832x480)");
      }
      return std::stoi(std::string(text));
    };
    const size_t x = size->find('x');
    request.width = dimension(std::string_view(*size).substr(0, x));
    request.height = dimension(x == std::string::npos ? std::string_view() : std::string_view(*size).substr(x + 1));
  }
  if (const auto sampler = args.text("sampler")) request.sampler = parse_sampler_kind(*sampler);
  if (const auto noise = args.text("noise")) {
    const std::optional<NoiseSource> source = noise_source_from_name(*noise);
    if (!source) throw UserError("--noise expects cpu or device, got '" + *noise + "'");
    request.noise = *source;
  }
  std::vector<std::string> typed;
  request.attention = read_attention_options(args, default_mode, &typed);
  // The mode is --attention's, else the preset's (which may be dense, a preset file's choice), else
  // the command's default; a preset is refused only where --attention overrides it with dense.
  const bool mode_typed = args.text("attention").has_value();
  if (!mode_typed) std::erase(typed, std::string("--attention-preset"));
  const bool from_preset = !mode_typed && args.text("attention-preset").has_value();
  refuse_attention_options_no_mode_uses(
      typed, {request.attention.mode},
      std::string("--attention ") + attention_mode_name(request.attention.mode) +
          (mode_typed ? "" : from_preset ? " (the preset's)" : " (the default)"),
      request.attention.mode == AttentionMode::Svg2 ? "choose --attention svgear"
      : mode_typed                                   ? "choose --attention svgear (or svg2)"
                                                     : "add --attention svgear (or svg2)");
  o.device_name = args.text("device").value_or("auto");
  if (const auto model = args.text("model")) o.model_folder = *model;
  if (const auto d = args.text("text-encoder-device")) o.model_options.text_encoder_device = parse_device(*d);
  o.model_options.free_text_encoder = args.flag("free-text-encoder");
  if (const auto d = args.text("vae-device")) o.model_options.vae_device = parse_device(*d);
  o.model_options.idle_expert_on_cpu = args.flag("idle-expert-on-cpu");
  o.model_options.dit_fp8 = args.flag("dit-fp8");
  refuse_model_options_that_do_nothing(o);
  return o;
}

GenerationRequest resolve_typed_request(const GenerationRequest& request, const ModelManifest& model) {
  GenerationRequest resolved = request.resolve(model);
  if (!request.negative_prompt || resolved.reads_negative_prompt()) return resolved;
  // Every guidance of the run is 1: name where each came from.
  std::vector<std::string> guidances;
  if (request.guidance) guidances.push_back("--cfg 1");
  if (request.low_noise_guidance) guidances.push_back("--cfg-low-noise 1");
  if (!request.guidance) guidances.push_back(model.name + "'s default guidance 1");  // a --cfg alone sets both
  const std::string pair = model.low_noise_expert ? " at either expert" : "";
  throw UserError("--negative is not used with " + spoken_list(guidances) + ": guidance 1 runs no unconditional pass" +
                  pair + ", the only one that reads the negative prompt; drop --negative, or give a guidance other " +
                  "than 1 (--cfg" + (model.low_noise_expert ? " or --cfg-low-noise" : "") + ")");
}

void require_prompt(const RequestOptions& options, const std::string& help) {
  if (!options.prompt_given) throw UserError("--prompt is required\n" + help);
  // An empty prompt (an unset shell variable) would quietly give the model's unconditional clip.
  if (options.request.prompt.find_first_not_of(" \t\n\v\f\r") == std::string::npos) {
    throw UserError("--prompt is empty: say what to generate");
  }
}

std::filesystem::path model_folder_or_default(const std::optional<std::filesystem::path>& folder, bool quiet) {
  if (folder) return *folder;
  // SVGEAR_MODELS's folders come first; one that is not there would otherwise fall through to the
  // built-in model without a word, also under --quiet.
  for (const std::string& note : model_search_notes()) std::fprintf(stderr, "warning: %s\n", note.c_str());
  const DefaultModel found = default_model_for_a_run();
  // One of $SVGEAR_MODELS's, not the built-in model: named, since a model that fails further in (its
  // weights) would otherwise not say it was picked for the user.
  if (!quiet && !found.builtin) {
    std::fprintf(stderr, "note: no --model given: %s, the first model found under $SVGEAR_MODELS\n",
                 found.folder.c_str());
  }
  return found.folder;
}

void refuse_inside_model_folder(const std::filesystem::path& path, const std::filesystem::path& model_dir,
                                const std::string& option) {
  // Absolute first: where none of a relative path exists yet, weakly_canonical leaves it relative.
  std::error_code folder_error, path_error;
  const std::filesystem::path folder =
      std::filesystem::weakly_canonical(std::filesystem::absolute(model_dir, folder_error), folder_error);
  const std::filesystem::path canonical =
      std::filesystem::weakly_canonical(std::filesystem::absolute(path, path_error), path_error);
  if (folder_error || path_error || folder.empty()) return;
  // Compared by whole names: models/tiny2 is not inside models/tiny. weakly_canonical keeps a
  // folder's trailing slash as an empty last name, which no other path's names match.
  const auto names = [](const std::filesystem::path& p) {
    std::vector<std::filesystem::path> kept;
    for (const std::filesystem::path& name : p) {
      if (!name.empty()) kept.push_back(name);
    }
    return kept;
  };
  const std::vector<std::filesystem::path> folder_names = names(folder), path_names = names(canonical);
  if (path_names.size() >= folder_names.size() &&
      std::equal(folder_names.begin(), folder_names.end(), path_names.begin())) {
    throw UserError(option + " '" + path.string() + "' is inside the model's folder '" + model_dir.string() +
                    "': a file written there could replace its weights or be read as one of them. Choose a path "
                    "outside that folder.");
  }
}

}  // namespace svgear
