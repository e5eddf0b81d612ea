// Projector fit / load and the PC-meaning report.
#include "taupe/projector/projector.h"

#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/json_number.h"
#include "taupe/core/stats.h"
#include "taupe/dataset/csv.h"
#include "taupe/projector/model_dir.h"

namespace taupe {

Pca fit_projector(const std::vector<float>& z_mean, int dims, const std::filesystem::path& model_dir,
                  const ProjectorConfig& cfg) {
  cfg.validate();
  const Pca pca = pca_fit(z_mean, dims);
  save_projector(pca, model_dir, {{"max_patches", cfg.max_patches}, {"batch_size", cfg.batch_size}},
                 "sklearn>=1.5 svd_flip(u_based_decision=False): largest-|.| entry of each component > 0");
  return pca;
}

void save_projector(const Pca& pca, const std::filesystem::path& model_dir, const nlohmann::json& config,
                    const std::string& sign_convention) {
  write_pca(model_files::pca(model_dir), pca);
  nlohmann::json sec;
  sec["file"] = model_files::pca({}).string();
  sec["dims"] = pca.dims;
  sec["samples"] = pca.samples;
  sec["explained_variance_ratio"] = pca.explained_variance_ratio;
  sec["config"] = config;
  sec["sign_convention"] = sign_convention;
  update_model_manifest(model_dir, "projector", sec);
}

Pca load_projector(const std::filesystem::path& model_dir) {
  const nlohmann::json sec = model_manifest_section(model_dir, "projector");
  const auto path = model_files::pca(model_dir);
  if (!std::filesystem::exists(path)) throw IoError(path.string() + ": PCA file not found");
  Pca p = read_pca(path);
  const int dims = sec.value("dims", -1);
  if (p.dims != dims)
    throw ModelError(path.string() + ": PCA has " + std::to_string(p.dims) + " dims, manifest says " +
                     std::to_string(dims));
  return p;
}

namespace {
/// R² of the ordinary least-squares fit y ~ 1 + x; x: (n, dims) row-major.
double linear_r2(const std::vector<float>& x, int dims, const std::vector<double>& y) {
  const auto n = static_cast<std::int64_t>(y.size());
  if (n <= dims + 1) return std::numeric_limits<double>::quiet_NaN();
  at::Tensor X = at::ones({n, dims + 1}, at::kDouble);  // (n, 1 + dims)
  X.slice(1, 1).copy_(at::from_blob(const_cast<float*>(x.data()), {n, dims}, at::kFloat));
  const at::Tensor Y = at::from_blob(const_cast<double*>(y.data()), {n, 1}, at::kDouble);  // (n, 1)
  const at::Tensor beta = std::get<0>(at::linalg_lstsq(X, Y));                            // (1 + dims, 1)
  const double ss_res = (Y - X.matmul(beta)).pow(2).sum().item<double>();
  const double ss_tot = (Y - Y.mean()).pow(2).sum().item<double>();
  return ss_tot > 0 ? 1.0 - ss_res / ss_tot : std::numeric_limits<double>::quiet_NaN();
}
}  // namespace

PcMeaningReport pc_meaning(const std::vector<float>& pcs, int dims, const std::vector<CellType>& types,
                           const std::map<std::string, std::vector<float>>& features,
                           const std::vector<double>& explained_variance_ratio) {
  PcMeaningReport r;
  const std::size_t n = pcs.size() / static_cast<std::size_t>(dims);
  r.patches = static_cast<std::int64_t>(n);
  const auto area_it = features.find("nuclear_area_um2");
  r.has_nuclear_area = area_it != features.end() && area_it->second.size() == n;
  std::vector<double> area;
  if (r.has_nuclear_area) area.assign(area_it->second.begin(), area_it->second.end());
  // Cell type coded WT = 0, scrib = 1; unknown types are left out of that correlation.
  std::vector<std::size_t> typed;
  std::vector<double> type_code;
  for (std::size_t i = 0; i < n && i < types.size(); ++i)
    if (types[i] != CellType::kUnknown) {
      typed.push_back(i);
      type_code.push_back(types[i] == CellType::kScrib ? 1.0 : 0.0);
    }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  r.area_r2_all_pcs = r.has_nuclear_area ? linear_r2(pcs, dims, area) : nan;
  for (int j = 0; j < dims; ++j) {
    PcMeaning m;
    m.pc = j;
    m.explained_variance_ratio = j < static_cast<int>(explained_variance_ratio.size()) ? explained_variance_ratio[j] : nan;
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = pcs[i * dims + j];
    m.rho_nuclear_area = r.has_nuclear_area ? stats::spearman(v, area) : nan;
    std::vector<double> vt;
    vt.reserve(typed.size());
    for (std::size_t i : typed) vt.push_back(v[i]);
    m.rho_cell_type = typed.size() >= 3 ? stats::spearman(vt, type_code) : nan;
    if (j < 3 && std::isfinite(m.rho_nuclear_area) && std::abs(m.rho_nuclear_area) > std::abs(r.best_area_rho_top3)) {
      r.best_area_rho_top3 = m.rho_nuclear_area;
      r.best_area_pc_top3 = j;
    }
    r.pcs.push_back(m);
  }
  return r;
}

std::string PcMeaningReport::brief() const {
  std::ostringstream o;
  o << std::fixed << std::setprecision(3);
  o << "PC meaning over " << patches << " patches";
  if (!has_nuclear_area) o << " (no nuclear_area_um2 feature)";
  o << "\n  PC  var%    rho(area)  rho(type)\n";
  for (std::size_t j = 0; j < pcs.size() && j < 8; ++j)
    o << "  " << std::setw(2) << pcs[j].pc << "  " << std::setw(5) << std::setprecision(1)
      << 100 * pcs[j].explained_variance_ratio << std::setprecision(3) << "  " << std::setw(9)
      << pcs[j].rho_nuclear_area << "  " << std::setw(9) << pcs[j].rho_cell_type << "\n";
  if (best_area_pc_top3 >= 0)
    o << "  best |rho| with nuclear area among PC0-PC2: PC" << best_area_pc_top3 << " rho = " << best_area_rho_top3;
  if (has_nuclear_area) o << "\n  nuclear area ~ all PCs (least squares): R2 = " << area_r2_all_pcs;
  return o.str();
}

void write_pc_meaning(const PcMeaningReport& report, const std::filesystem::path& model_dir) {
  CsvTable csv({"pc", "explained_variance_ratio", "rho_nuclear_area", "rho_cell_type"});
  nlohmann::json j;
  j["patches"] = report.patches;
  j["has_nuclear_area"] = report.has_nuclear_area;
  j["best_area_pc_top3"] = report.best_area_pc_top3;
  j["best_area_rho_top3"] = json_number(report.best_area_rho_top3);
  j["area_r2_all_pcs"] = json_number(report.area_r2_all_pcs);
  j["cell_type_coding"] = "wild type = 0, scrib = 1";
  j["pcs"] = nlohmann::json::array();
  for (const PcMeaning& m : report.pcs) {
    csv.add_row({cell(m.pc), cell(m.explained_variance_ratio), cell(m.rho_nuclear_area), cell(m.rho_cell_type)});
    j["pcs"].push_back({{"pc", m.pc},
                        {"explained_variance_ratio", json_number(m.explained_variance_ratio)},
                        {"rho_nuclear_area", json_number(m.rho_nuclear_area)},
                        {"rho_cell_type", json_number(m.rho_cell_type)}});
  }
  write_csv(model_files::pc_meaning_csv(model_dir), csv);
  write_text_atomic(model_files::pc_meaning_json(model_dir), j.dump(2) + "\n");
}

}  // namespace taupe
