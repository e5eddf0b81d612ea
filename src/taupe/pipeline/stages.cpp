// The stage table of `taupe run` (stage.h): one entry per stage, with what it reads, what it
// writes, its cost model and the function that runs it.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <memory>
#include <sstream>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/core/run_dir.h"
#include "taupe/dataset/encodings.h"
#include "taupe/dist/cluster.h"
#include "taupe/dataset/types.h"
#include "taupe/encoder/artifacts.h"
#include "taupe/encoder/encode.h"
#include "taupe/encoder/encoder_train.h"
#include "taupe/perturb/perturb.h"
#include "taupe/pipeline/pipeline.h"
#include "taupe/pipeline/stage.h"
#include "taupe/projector/model_dir.h"
#include "taupe/projector/projector.h"
#include "taupe/report/image.h"
#include "taupe/report/plot.h"
#include "taupe/report/run_report.h"
#include "taupe/simulate/artifacts.h"
#include "taupe/simulate/simulate.h"
#include "taupe/temporal/artifacts.h"
#include "taupe/temporal/cross_validation.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace taupe {

void StageContext::note(const std::string& key, const nlohmann::json& value) const {
  if (run_dir) run_dir->stage_note(stage, key, value);
}

Cluster* StageContext::cluster() const { return opts.cluster; }

namespace {

std::string fmt(double v, int d) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(d) << v;
  return s.str();
}

// ---- cost models (ETA) ---------------------------------------------------------------------------
// Calibrated on the quick preset on 2 cores (docs/pipeline.md); deliberately simple: the ETA
// is corrected from the real timings as stages finish.

/// Field area in units of the calibration field (512 x 512 px at 0.65 µm = 333 x 333 µm):
/// mechanics and trajectory counts scale with the physical area, not with the pixel count.
double field_area(const SimConfig& s) {
  return static_cast<double>(s.fov_width_px) * s.fov_height_px * s.pixel_size_um * s.pixel_size_um / (0.65 * 0.65);
}

double encoder_patches(const RunConfig& cfg) {
  const auto& s = cfg.simulate;
  double patches = static_cast<double>(s.fovs) *
                   std::ceil(static_cast<double>(s.frames) / cfg.extract.patch_frame_stride) *
                   cfg.extract.patches_per_frame;
  if (cfg.encoder.max_patches > 0) patches = std::min(patches, static_cast<double>(cfg.encoder.max_patches));
  return patches;
}

/// Labelled trajectories: ~ 290 per 512x512 field and 24 h (quick: ~1,150).
double trajectories(const RunConfig& cfg) {
  const auto& s = cfg.simulate;
  return 290.0 * s.fovs * field_area(s) / (512.0 * 512.0) * s.frames / 360.0;
}

double glimpse_frames(const RunConfig& cfg) {
  const auto& x = cfg.extract;
  return trajectories(cfg) * (x.max_frames_before_cutoff + (x.frames_after_cutoff ? 12 : 0));
}

constexpr double kEncoderTrainRate = 350.0;  // encoder training images/s
constexpr double kEncodeRate = 2500.0;       // encoding images/s

double simulate_seconds(const RunConfig& cfg) {
  const auto& s = cfg.simulate;
  return 2.0 + 9e-8 * s.fovs * field_area(s) * (s.frames + s.burn_in_frames);
}

double temporal_seconds(const RunConfig& cfg) {
  const auto& t = cfg.temporal;
  return 2.0 + static_cast<double>(cfg.cv.folds) * t.epochs * t.steps_per_epoch * t.batch_size * (t.max_len / 128.0) /
                   9000.0;
}

double perturb_seconds(const RunConfig& cfg) {
  const double shifts = static_cast<double>(cfg.perturb.shifts().size());
  return 5.0 + trajectories(cfg) * 2 * cfg.encoder.latent_dims * shifts / 20000.0 +
         glimpse_frames(cfg) * 3 / kEncodeRate;
}

// ---- memory models ---------------------------------------------------------------------------------
// Deliberately rough (docs/reliability.md): the process with LibTorch loaded, plus the term that
// grows with the configuration. They refuse what cannot fit; they do not promise the rest fits.

constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kProcessBytes = 400 * kMiB;      // taupe with LibTorch loaded
constexpr double kPatchPixels = 2.0 * 64 * 64;    // one 2-channel 64x64 patch
constexpr double kTrainImageBytes = 1.0 * kMiB;   // activations + gradients of one training image
constexpr double kInferImageBytes = 0.25 * kMiB;  // activations of one encoded image

std::string count_text(double n) { return std::to_string(static_cast<long long>(std::llround(n))); }

MemoryEstimate simulate_memory(const RunConfig& cfg) {
  const double traj = trajectories(cfg);  // cell histories of every field are kept until extraction
  return {kProcessBytes + traj * 64 * 1024, "simulate.fovs", count_text(traj) + " trajectories' cell histories"};
}

MemoryEstimate encoder_memory(const RunConfig& cfg) {
  const auto& e = cfg.encoder;
  const double n = encoder_patches(cfg);
  const bool streamed = e.patch_window(static_cast<std::int64_t>(n)) > 0;
  // uint16 pixels: all of them, or two streaming windows
  const double patches = (streamed ? 2.0 * static_cast<double>(e.patch_window()) : n) * kPatchPixels * 2;
  const double steps = e.batch_size * (kTrainImageBytes + e.prefetch_batches * kPatchPixels * 4);
  const std::string held = streamed ? "two streaming windows of " + count_text(static_cast<double>(e.patch_window())) +
                                          " patches (of " + count_text(n) + ")"
                                    : count_text(n) + " patches in memory";
  return {kProcessBytes + patches + steps,
          patches < steps ? "encoder.batch_size" : "encoder.patch_memory_mb",  // lower it to stream the set
          held + ", training batches of " + std::to_string(e.batch_size)};
}

MemoryEstimate projector_memory(const RunConfig& cfg) {
  const auto& p = cfg.projector;
  double n = encoder_patches(cfg);
  if (p.max_patches > 0) n = std::min(n, static_cast<double>(p.max_patches));
  return {kProcessBytes + n * cfg.encoder.latent_dims * 8 + p.batch_size * kInferImageBytes, "projector.max_patches",
          count_text(n) + " patch encodings"};
}

MemoryEstimate encode_memory(const RunConfig& cfg) {
  const int b = cfg.encoder.encode_batch_size;
  return {kProcessBytes + b * kInferImageBytes + glimpse_frames(cfg) * cfg.encoder.latent_dims * 8,
          "encoder.encode_batch_size", "batches of " + std::to_string(b) + " glimpse frames"};
}

MemoryEstimate temporal_memory(const RunConfig& cfg) {
  const auto& t = cfg.temporal;
  // per fold: activations + gradients of one batch through every residual block
  const double fold = static_cast<double>(t.batch_size) * t.max_len * t.filters * (t.dilations.size() + 1) * 4 * 6;
  return {kProcessBytes + glimpse_frames(cfg) * cfg.encoder.latent_dims * 8 + cfg.cv.parallel_folds * fold,
          "cv.parallel_folds", std::to_string(cfg.cv.parallel_folds) + " folds training at once"};
}

MemoryEstimate perturb_memory(const RunConfig& cfg) {
  const double buffers = static_cast<double>(cfg.perturb.memory_budget_mb + cfg.cv.predict_memory_mb) * kMiB;
  return {kProcessBytes + buffers + glimpse_frames(cfg) * cfg.encoder.latent_dims * 8, "perturb.memory_budget_mb",
          "prediction buffers (perturb.memory_budget_mb + cv.predict_memory_mb)"};
}

// ---- the stages ------------------------------------------------------------------------------------

using Paths = std::vector<fs::path>;

void run_simulate_stage(StageContext& c) {
  const SimulateResult r =
      run_simulate(c.cfg.simulate, c.cfg.extract, static_cast<std::uint64_t>(c.cfg.run.seed), c.layout.data());
  c.note("trajectories", r.trajectories);
  c.note("patches", r.patches);
  log_info("simulate: " + r.brief());
}

Stage simulate_stage() {
  Stage s;
  s.name = "simulate";
  s.source = StageSource::kSimulated;
  s.config = {"run.seed", "run.world", "simulate", "extract"};
  s.seed_key = "run.seed";
  s.artifacts = [](const RunLayout& L) { return Paths{L.data()}; };
  s.expected_seconds = simulate_seconds;
  s.expected_memory = simulate_memory;
  s.run = run_simulate_stage;
  return s;
}

/// Encoder patches derived from the glimpse frames of a --data source without patches.h5.
fs::path derive_data_patches(const StageContext& c, const fs::path& glimpses) {
  const fs::path patches = fs::absolute(simulate_artifacts::patches(c.layout.data()));
  const int stride = c.cfg.extract.patch_frame_stride;
  const int batch = c.cfg.encoder.batch_size;
  std::size_t k = derive_patches_from_glimpses(glimpses, patches, stride);
  // A small dataset: rather than fail on fewer patches than a few training batches, use every
  // frame up to the cutoff.
  if (k < 4 * static_cast<std::size_t>(batch) && stride > 1) {
    log_info("data: every " + std::to_string(stride) + "th frame gives only " + std::to_string(k) +
             " encoder patches (< 4 batches of " + std::to_string(batch) + "); using every frame");
    k = derive_patches_from_glimpses(glimpses, patches, 1);
  }
  log_info("data: no patches.h5 given; derived " + std::to_string(k) + " encoder patches from glimpse frames");
  return patches;
}

void run_data_stage(StageContext& c) {
  fs::create_directories(c.layout.data());
  const DataSource src = resolve_data_source(c.opts.data);
  const fs::path patches = src.patches.empty() ? derive_data_patches(c, src.glimpses) : src.patches;
  json j = {{"glimpses", src.glimpses.string()},
            {"patches", patches.string()},
            {"patches_derived", src.patches.empty()},
            {"source", c.opts.data.string()}};
  write_text_atomic(c.layout.data_source(), j.dump(2) + "\n");
}

Stage data_stage() {
  Stage s;
  s.name = "data";
  s.source = StageSource::kRealData;
  s.config = {"extract"};
  s.hashes_data_source = true;
  s.artifacts = [](const RunLayout& L) { return Paths{L.data()}; };
  s.expected_seconds = [](const RunConfig&) { return 5.0; };
  // The patch count of a --data source is not known before it is read: only
  // encoder.max_patches bounds what the encoder stage will hold.
  s.expected_memory = [](const RunConfig&) { return MemoryEstimate{kProcessBytes, "run.memory_limit_mb", "taupe"}; };
  s.run = run_data_stage;
  return s;
}

void run_encoder_stage(StageContext& c) {
  EncoderTrainOptions o;
  o.patches = c.layout.patches();
  o.model_dir = c.layout.model();
  o.work_dir = c.layout.encoder_work();
  o.resume = true;
  o.cluster = c.cluster();
  std::unique_ptr<Progress> bar;
  o.on_step = [&](std::int64_t step, std::int64_t total, double loss) {
    if (!bar) bar = std::make_unique<Progress>("  train encoder", total, "steps", c.progress);
    bar->set_status("loss " + fmt(loss, 0));
    bar->update(step);
  };
  const EncoderTrainResult r = train_encoder(c.cfg.encoder, o);
  if (bar) bar->finish();
  if (!r.completed) throw ModelError("encoder training stopped before its last step");
  if (!c.cluster() || c.cluster()->leader()) log_info("encoder: " + r.brief());
}

Stage encoder_stage() {
  Stage s;
  s.name = "encoder";
  s.depends_on = {"simulate", "data"};
  s.config = {"encoder", "run.precision"};
  s.seed_key = "encoder.seed";
  s.artifacts = [](const RunLayout& L) {
    return Paths{encoder_artifacts::encoder_weights(L.model()), encoder_artifacts::decoder_weights(L.model()), L.encoder_work()};
  };
  s.resumable = true;
  s.distributed = true;  // data parallel over the ranks
  s.expected_seconds = [](const RunConfig& cfg) {
    return 3.0 + encoder_patches(cfg) * cfg.encoder.epochs / kEncoderTrainRate;
  };
  s.expected_memory = encoder_memory;
  s.run = run_encoder_stage;
  return s;
}

void run_projector_stage(StageContext& c) {
  const ProjectorFit fit = train_projector(c.layout.model(), c.layout.patches(), c.cfg.projector);
  log_info("projector: fitted on " + std::to_string(fit.samples) + " patches\n" + fit.meaning.brief());
}

Stage projector_stage() {
  Stage s;
  s.name = "projector";
  s.depends_on = {"encoder"};
  s.config = {"projector", "run.precision"};
  s.artifacts = [](const RunLayout& L) {
    return Paths{model_files::pca(L.model()), model_files::pc_meaning_csv(L.model()), model_files::pc_meaning_json(L.model())};
  };
  s.expected_seconds = [](const RunConfig& cfg) { return 1.0 + encoder_patches(cfg) / kEncodeRate; };
  s.expected_memory = projector_memory;
  s.run = run_projector_stage;
  return s;
}

void run_encode_stage(StageContext& c) {
  const VaeModel m = VaeModel::load(c.layout.model());
  EncodeGlimpsesOptions eo;
  eo.batch_size = c.cfg.encoder.encode_batch_size;
  const EncodingSet set = encode_glimpse_file(m, c.layout.glimpses(), c.layout.encodings(), eo);
  c.note("trajectories", set.trajectories.size());
}

Stage encode_stage() {
  Stage s;
  s.name = "encode";
  s.depends_on = {"encoder", "projector"};
  s.config = {"run.precision"};
  s.artifacts = [](const RunLayout& L) { return Paths{L.encodings()}; };
  s.expected_seconds = [](const RunConfig& cfg) { return 1.0 + glimpse_frames(cfg) / kEncodeRate; };
  s.expected_memory = encode_memory;
  s.run = run_encode_stage;
  return s;
}

void run_temporal_stage(StageContext& c) {
  const EncodingSet set = read_encodings(c.layout.encodings());
  const Pca pca = load_projector(c.layout.model());
  const int folds = c.cfg.cv.folds;
  // One bar over every fold's epochs (folds train in parallel, cv.parallel_folds).
  std::unique_ptr<Progress> bar;
  std::map<int, int> epochs_by_fold;
  const CvProgress cb = [&](const CvProgressEvent& e) {
    if (!bar)
      bar = std::make_unique<Progress>("  " + std::to_string(folds) + " folds",
                                       static_cast<std::int64_t>(folds) * e.epochs, "epochs", c.progress);
    epochs_by_fold[e.fold] = e.epoch;
    std::int64_t done = 0;
    for (const auto& [fold, n] : epochs_by_fold) done += n;
    bar->set_status("fold " + std::to_string(e.fold + 1) + " epoch " + std::to_string(e.epoch) + " loss " +
                    fmt(e.train_loss, 3) + " val acc " + fmt(e.val_accuracy, 2));
    bar->update(done);
  };
  CvOptions cvo;
  cvo.glimpses = c.layout.glimpses();
  cvo.cluster = c.cluster();
  const CvResult r = run_cross_validation(set, pca, c.cfg.temporal, c.cfg.cv, c.layout.model(), cb, cvo);
  if (bar) bar->finish();
  if (!c.cluster() || c.cluster()->leader()) log_info("temporal: " + r.brief());
}

Stage temporal_stage() {
  Stage s;
  s.name = "temporal";
  s.depends_on = {"encode"};
  s.config = {"temporal", "cv", "run.precision"};
  s.seed_key = "cv.seed";
  s.artifacts = [](const RunLayout& L) { return Paths{L.temporal(), temporal_artifacts::folds_csv(L.model())}; };
  s.resumable = true;
  s.distributed = true;  // folds spread over the ranks
  s.expected_seconds = temporal_seconds;
  s.expected_memory = temporal_memory;
  s.run = run_temporal_stage;
  return s;
}

void run_perturb_stage(StageContext& c) {
  ModelSetOptions mo;
  mo.memory_budget_mb = c.cfg.cv.predict_memory_mb;
  PerturbContext ctx = PerturbContext::load(c.layout.model(), c.layout.glimpses(), c.layout.encodings(), mo);
  if (c.layout.real_data()) ctx.forget_world();  // --data: no ground-truth verdicts
  ctx.share_with(c.cluster());  // several ranks: the models are dealt out, rank 0 writes
  const bool writes = !c.cluster() || c.cluster()->leader();
  const PerturbAllResult all = run_all(ctx, c.cfg.perturb, writes ? c.layout.root : fs::path());
  if (!writes) return;
  report::RunSummary part;
  all.fill_summary(part);
  json j;
  to_json(j, part);
  write_text_atomic(c.layout.summary_part(), j.dump(2) + "\n");
  log_info("perturb:\n" + all.brief());
}

Stage perturb_stage() {
  Stage s;
  s.name = "perturb";
  s.depends_on = {"temporal"};
  s.config = {"perturb", "verdict", "run.precision"};
  s.seed_key = "perturb.seed";
  s.artifacts = [](const RunLayout& L) { return Paths{L.perturb()}; };
  s.distributed = true;  // the fold models dealt out over the ranks
  s.expected_seconds = perturb_seconds;
  s.expected_memory = perturb_memory;
  s.run = run_perturb_stage;
  return s;
}

void run_report_stage(StageContext& c) {
  write_latent_traversal(c.layout, c.cfg.report);
  const double so_far = std::chrono::duration<double>(std::chrono::steady_clock::now() - c.started).count();
  write_run_report(c.layout.root, c.cfg.report, c.run_dir->manifest(), {{"report", so_far}});
}

Stage report_stage() {
  Stage s;
  s.name = "report";
  s.depends_on = {"perturb"};
  s.config = {"report"};
  s.artifacts = [](const RunLayout& L) {
    return Paths{L.summary(), L.report(), report_artifacts::latent_traversal_svg(L.root)};
  };
  s.expected_seconds = [](const RunConfig&) { return 3.0; };
  s.expected_memory = [](const RunConfig&) { return MemoryEstimate{kProcessBytes, "run.memory_limit_mb", "taupe"}; };
  s.run = run_report_stage;
  return s;
}

}  // namespace

// ---- the report stage's figure that needs the models ------------------------------------------
void write_latent_traversal(const RunLayout& L, const ReportConfig& cfg) {
  std::vector<int> pcs = {0, 1, 2, 3};
  try {
    const int top = json::parse(read_text_file(L.summary_part())).at("pc_shift").at("top_pc").get<int>();
    if (std::find(pcs.begin(), pcs.end(), top) == pcs.end()) pcs.push_back(top);
  } catch (const std::exception&) {  // no pc-shift result: the first PCs only
  }
  const fs::path out = report_artifacts::latent_traversal_svg(L.root);
  try {
    const VaeModel vae = VaeModel::load(L.model());
    const Pca pca = load_projector(L.model());
    const std::vector<double> steps = {-3, -2, -1, 0, 1, 2, 3};
    report::ImageMontage m;
    m.title = "Latent traversal: decoded walks along single PCs";
    m.col_title = "shift (PC standard deviations)";
    m.cell = cfg.montage_cell_px;
    for (double v : steps) m.col_labels.push_back((v > 0 ? "+" : "") + fmt(v, 0) + " sd");
    const std::size_t n = static_cast<std::size_t>(kGlimpseSize) * kGlimpseSize;
    for (int p : pcs) {
      if (p < 0 || p >= pca.dims) continue;
      std::vector<float> z_pc(static_cast<std::size_t>(pca.dims) * steps.size(), 0.f);
      for (std::size_t k = 0; k < steps.size(); ++k)
        z_pc[k * static_cast<std::size_t>(pca.dims) + static_cast<std::size_t>(p)] =
            static_cast<float>(steps[k] * pca.pc_sd(p));
      const std::vector<float> img = vae.decode(pca.inverse(z_pc).data(), static_cast<std::int64_t>(steps.size()));
      std::vector<report::Image> row;
      for (std::size_t k = 0; k < steps.size(); ++k)
        row.push_back(report::composite_from_float(img.data() + k * 2 * n, img.data() + k * 2 * n + n, kGlimpseSize,
                                                   kGlimpseSize, -1.0f, 3.0f));
      m.row_labels.push_back("PC " + std::to_string(p));
      m.images.push_back(row);
    }
    write_text_atomic(out, report::render(m));
  } catch (const Error& e) {  // the report notes the missing figure
    log_warn("latent traversal not written: " + std::string(e.what()));
  }
}

report::RunSummary regenerate_report(const fs::path& run_dir) {
  RunConfig cfg = load_run_config("", run_dir / RunDir::kConfigName, {});
  write_latent_traversal(RunLayout(run_dir), cfg.report);
  return write_run_report(run_dir, cfg.report);
}

ProjectorFit train_projector(const fs::path& model_dir, const fs::path& patches, const ProjectorConfig& cfg) {
  const VaeModel m = VaeModel::load(model_dir);
  const PatchEncodings pe = encode_patch_file(m, patches, cfg.max_patches, cfg.batch_size);
  const Pca pca = fit_projector(pe.enc.z_mean, pe.enc.dims, model_dir, cfg);
  ProjectorFit fit{pca.samples,
                   pc_meaning(pca.forward(pe.enc.z_mean), pca.dims, pe.types, pe.features, pca.explained_variance_ratio)};
  write_pc_meaning(fit.meaning, model_dir);
  return fit;
}

// ---- the table ---------------------------------------------------------------------------------------
const StageTable& pipeline_stages() {
  static const StageTable table = [] {
    StageTable t = {simulate_stage(), data_stage(),    encoder_stage(), projector_stage(),
                    encode_stage(),   temporal_stage(), perturb_stage(), report_stage()};
    check_stage_table(t);
    return t;
  }();
  return table;
}

}  // namespace taupe
