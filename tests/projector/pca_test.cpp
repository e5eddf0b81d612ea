// PCA: closed forms, an independent eigendecomposition (LibTorch eigh), sign rule, transforms,
// file round trip; model-directory manifest; PC-meaning report.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/rng.h"
#include "taupe/projector/model_dir.h"
#include "taupe/projector/pca.h"
#include "taupe/projector/projector.h"
#include "taupe/temporal/artifacts.h"

namespace taupe {
namespace {

std::filesystem::path temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("taupe_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

TEST(Pca, TwoDimensionalClosedForm) {
  // Points on the axes: var_x = 2/3, var_y = 0.5/3 (ddof 1), axes e_x then e_y, mean (1, 2).
  const std::vector<float> x = {2, 2, 0, 2, 1, 2.5f, 1, 1.5f};
  const Pca p = pca_fit(x, 2);
  EXPECT_NEAR(p.mean[0], 1.0, 1e-12);
  EXPECT_NEAR(p.mean[1], 2.0, 1e-12);
  EXPECT_NEAR(p.explained_variance[0], 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(p.explained_variance[1], 0.5 / 3.0, 1e-12);
  EXPECT_NEAR(p.explained_variance_ratio[0], 0.8, 1e-12);
  EXPECT_NEAR(p.components[0], 1.0, 1e-12);
  EXPECT_NEAR(std::abs(p.components[1]), 0.0, 1e-12);
  EXPECT_NEAR(p.components[3], 1.0, 1e-12);
  EXPECT_EQ(p.samples, 4);
}

std::vector<float> hand_made(int n, int d, std::uint64_t seed) {
  // Correlated Gaussian data with distinct variances: x = A s, A a fixed mixing matrix.
  Rng rng(seed);
  std::vector<double> a(static_cast<std::size_t>(d) * d);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j) a[i * d + j] = (i == j ? 1.0 + 0.4 * (d - i) : 0.0) + 0.3 * std::sin(1.0 + i * 7 + j * 3);
  std::vector<float> x(static_cast<std::size_t>(n) * d);
  std::vector<double> s(d);
  for (int r = 0; r < n; ++r) {
    for (int j = 0; j < d; ++j) s[j] = rng.normal();
    for (int i = 0; i < d; ++i) {
      double v = 0.5 * i;
      for (int j = 0; j < d; ++j) v += a[i * d + j] * s[j];
      x[static_cast<std::size_t>(r) * d + i] = static_cast<float>(v);
    }
  }
  return x;
}

TEST(Pca, MatchesAnIndependentEigendecompositionUpToSign) {
  const int n = 500, d = 8;
  const std::vector<float> x = hand_made(n, d, 11);
  const Pca p = pca_fit(x, d);
  torch::Tensor t = torch::from_blob(const_cast<float*>(x.data()), {n, d}, torch::kFloat32).to(torch::kFloat64);
  const torch::Tensor c = t - t.mean(0, true);
  const torch::Tensor cov = c.t().mm(c) / (n - 1);
  const auto eig = at::linalg_eigh(cov);   // ascending eigenvalues, eigenvectors as columns
  const torch::Tensor w = std::get<0>(eig), v = std::get<1>(eig);
  double sum = w.sum().item<double>();
  for (int j = 0; j < d; ++j) {
    const int src = d - 1 - j;
    EXPECT_NEAR(p.explained_variance[j], w[src].item<double>(), 1e-9);
    EXPECT_NEAR(p.explained_variance_ratio[j], w[src].item<double>() / sum, 1e-9);
    double dot = 0;
    for (int k = 0; k < d; ++k) dot += p.components[j * d + k] * v[k][src].item<double>();
    EXPECT_NEAR(std::abs(dot), 1.0, 1e-9) << "component " << j;
    // Sign rule (sklearn >= 1.5): the entry of largest |.| is positive.
    int arg = 0;
    for (int k = 1; k < d; ++k)
      if (std::abs(p.components[j * d + k]) > std::abs(p.components[j * d + arg])) arg = k;
    EXPECT_GT(p.components[j * d + arg], 0.0);
  }
  for (int j = 0; j + 1 < d; ++j) EXPECT_GE(p.explained_variance[j], p.explained_variance[j + 1]);
}

TEST(Pca, ForwardInverseIdentityAndPcVariances) {
  const int n = 300, d = 6;
  const std::vector<float> x = hand_made(n, d, 5);
  const Pca p = pca_fit(x, d);
  const std::vector<float> z = p.forward(x);
  const std::vector<float> back = p.inverse(z);
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(back[i], x[i], 1e-4);
  double ratio_sum = 0;
  for (int j = 0; j < d; ++j) {
    double m = 0, v = 0;
    for (int r = 0; r < n; ++r) m += z[r * d + j];
    m /= n;
    for (int r = 0; r < n; ++r) v += (z[r * d + j] - m) * (z[r * d + j] - m);
    EXPECT_NEAR(m, 0.0, 1e-4);
    EXPECT_NEAR(v / (n - 1), p.explained_variance[j], 1e-4 * p.explained_variance[j] + 1e-5);
    EXPECT_NEAR(p.pc_sd(j), std::sqrt(p.explained_variance[j]), 1e-12);
    ratio_sum += p.explained_variance_ratio[j];
  }
  EXPECT_NEAR(ratio_sum, 1.0, 1e-12);
  // PCs are uncorrelated.
  double cross = 0;
  for (int r = 0; r < n; ++r) cross += z[r * d + 0] * z[r * d + 1];
  EXPECT_NEAR(cross / (n - 1), 0.0, 1e-3);
}

TEST(Pca, RejectsBadInput) {
  EXPECT_THROW(pca_fit({1, 2}, 2), DataError);
  EXPECT_THROW(pca_fit({1, 2, NAN, 4}, 2), DataError);
  EXPECT_THROW(pca_fit({1, 2, 3}, 2), DataError);
}

TEST(Pca, FileRoundTripAndProjectorInModelDir) {
  const auto dir = temp_dir("pca");
  const std::vector<float> x = hand_made(100, 4, 3);
  const Pca p = fit_projector(x, 4, dir);
  const Pca q = load_projector(dir);
  EXPECT_EQ(q.dims, 4);
  EXPECT_EQ(q.samples, 100);
  EXPECT_EQ(q.components, p.components);
  EXPECT_EQ(q.mean, p.mean);
  EXPECT_EQ(q.explained_variance_ratio, p.explained_variance_ratio);
  EXPECT_EQ(model_manifest_section(dir, "projector").value("dims", 0), 4);
  EXPECT_THROW(model_manifest_section(dir, "temporal"), ModelError);
  std::filesystem::remove_all(dir);
}

TEST(ModelDir, ManifestChecksFormatAndVersion) {
  const auto dir = temp_dir("manifest");
  EXPECT_THROW(read_model_manifest(dir), IoError);
  update_model_manifest(dir, "encoder", {{"latent_dims", 32}});
  update_model_manifest(dir, "projector", {{"dims", 32}});
  const auto j = read_model_manifest(dir);
  EXPECT_EQ(j["format"], "taupe.model");
  EXPECT_EQ(j["encoder"]["latent_dims"], 32);
  EXPECT_EQ(j["projector"]["dims"], 32);
  EXPECT_EQ(temporal_artifacts::fold_weights(dir, 3), dir / "temporal" / "fold_03.pt");
  write_text_atomic(model_files::manifest(dir), R"({"format": "taupe.model", "format_version": 99})");
  try {
    read_model_manifest(dir);
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("format_version 99"), std::string::npos);
  }
  write_text_atomic(model_files::manifest(dir), "{not json");
  EXPECT_THROW(read_model_manifest(dir), ModelError);
  std::filesystem::remove_all(dir);
}

TEST(PcMeaning, SpearmanPerPcWithAreaAndType) {
  const int n = 60, d = 3;
  std::vector<float> pcs(n * d);
  std::vector<CellType> types(n);
  std::map<std::string, std::vector<float>> feat;
  auto& area = feat["nuclear_area_um2"];
  for (int i = 0; i < n; ++i) {
    area.push_back(50.0f + i);
    pcs[i * d + 0] = std::sin(i * 1.3f);                 // unrelated
    pcs[i * d + 1] = -std::exp(0.05f * i);               // monotone decreasing in area
    types[i] = i % 2 ? CellType::kScrib : CellType::kWildType;
    pcs[i * d + 2] = (i % 2 ? 1.0f : -1.0f) + 0.01f * i; // separates types
  }
  const PcMeaningReport r = pc_meaning(pcs, d, types, feat, {0.5, 0.3, 0.2});
  EXPECT_TRUE(r.has_nuclear_area);
  EXPECT_NEAR(r.pcs[1].rho_nuclear_area, -1.0, 1e-12);
  EXPECT_EQ(r.best_area_pc_top3, 1);
  EXPECT_GT(r.pcs[2].rho_cell_type, 0.8);
  EXPECT_LT(std::abs(r.pcs[0].rho_nuclear_area), 0.4);
  const auto dir = temp_dir("pcm");
  write_pc_meaning(r, dir);
  EXPECT_TRUE(std::filesystem::exists(model_files::pc_meaning_csv(dir)));
  EXPECT_NE(read_text_file(model_files::pc_meaning_json(dir)).find("rho_nuclear_area"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(PcMeaning, AreaR2OfAllPcsMatchesClosedForm) {
  // area = 3 + 2 pc0 - pc2 exactly: R² = 1 although no single PC has |rho| = 1.
  const int n = 200, d = 3;
  std::vector<float> pcs(n * d);
  std::vector<CellType> types(n, CellType::kScrib);
  std::map<std::string, std::vector<float>> feat;
  auto& area = feat["nuclear_area_um2"];
  for (int i = 0; i < n; ++i) {
    pcs[i * d + 0] = std::sin(0.37f * i);
    pcs[i * d + 1] = std::cos(1.91f * i);
    pcs[i * d + 2] = std::sin(0.11f * i + 1.0f);
    area.push_back(3.0f + 2.0f * pcs[i * d + 0] - pcs[i * d + 2]);
  }
  EXPECT_NEAR(pc_meaning(pcs, d, types, feat, {}).area_r2_all_pcs, 1.0, 1e-6);
  // Half the variance is noise independent of the PCs: R² = var(signal) / (var(signal) + var(noise)).
  Rng rng(7);
  double s2 = 0, e2 = 0;
  for (int i = 0; i < n; ++i) {
    const double signal = 2.0 * pcs[i * d + 1];
    const double noise = rng.normal() * std::sqrt(2.0);
    area[static_cast<std::size_t>(i)] = static_cast<float>(signal + noise);
    s2 += signal * signal;
    e2 += noise * noise;
  }
  EXPECT_NEAR(pc_meaning(pcs, d, types, feat, {}).area_r2_all_pcs, s2 / (s2 + e2), 0.05);
  // No area feature: NaN.
  EXPECT_TRUE(std::isnan(pc_meaning(pcs, d, types, {}, {}).area_r2_all_pcs));
}

}  // namespace
}  // namespace taupe
