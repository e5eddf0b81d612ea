// PCA by a cyclic Jacobi eigendecomposition of the (ddof = 1) covariance, in double.
// Equivalent to sklearn PCA(n_components = D) (centred, no whitening, components sorted by
// decreasing explained variance). Sign rule = sklearn >= 1.5 (svd_flip with
// u_based_decision=False): in every component the entry of largest |value| is positive
// (first such entry on ties). docs/models.md.
#include "taupe/projector/pca.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/dataset/h5file.h"

namespace taupe {
namespace {

/// Symmetric eigendecomposition A = V diag(w) Vᵀ (A row-major d x d, overwritten).
/// Returns eigenvalues; `vecs` gets eigenvectors as columns (row-major d x d).
std::vector<double> jacobi_eigen(std::vector<double> a, int d, std::vector<double>& vecs) {
  vecs.assign(static_cast<std::size_t>(d) * d, 0.0);
  for (int i = 0; i < d; ++i) vecs[i * d + i] = 1.0;
  auto A = [&](int i, int j) -> double& { return a[static_cast<std::size_t>(i) * d + j]; };
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0.0, diag = 0.0;
    for (int i = 0; i < d; ++i) {
      diag += A(i, i) * A(i, i);
      for (int j = i + 1; j < d; ++j) off += A(i, j) * A(i, j);
    }
    if (off <= 1e-30 * std::max(diag, 1e-300)) break;
    for (int p = 0; p < d; ++p)
      for (int q = p + 1; q < d; ++q) {
        const double apq = A(p, q);
        if (apq == 0.0) continue;
        const double theta = (A(q, q) - A(p, p)) / (2.0 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
        for (int k = 0; k < d; ++k) {  // columns p, q
          const double akp = A(k, p), akq = A(k, q);
          A(k, p) = c * akp - s * akq;
          A(k, q) = s * akp + c * akq;
        }
        for (int k = 0; k < d; ++k) {  // rows p, q
          const double apk = A(p, k), aqk = A(q, k);
          A(p, k) = c * apk - s * aqk;
          A(q, k) = s * apk + c * aqk;
        }
        for (int k = 0; k < d; ++k) {
          double& vkp = vecs[static_cast<std::size_t>(k) * d + p];
          double& vkq = vecs[static_cast<std::size_t>(k) * d + q];
          const double a0 = vkp, b0 = vkq;
          vkp = c * a0 - s * b0;
          vkq = s * a0 + c * b0;
        }
      }
  }
  std::vector<double> w(d);
  for (int i = 0; i < d; ++i) w[i] = A(i, i);
  return w;
}

}  // namespace

Pca pca_fit(const std::vector<float>& x, int dims) {
  if (dims <= 0) throw DataError("PCA: dims = " + std::to_string(dims) + ": must be > 0");
  if (x.size() % static_cast<std::size_t>(dims) != 0)
    throw DataError("PCA: input of " + std::to_string(x.size()) + " values is not (n, " + std::to_string(dims) + ")");
  const std::int64_t n = static_cast<std::int64_t>(x.size()) / dims;
  if (n < 2) throw DataError("PCA: needs at least 2 samples, got " + std::to_string(n));
  Pca p;
  p.dims = dims;
  p.samples = n;
  p.mean.assign(dims, 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (int j = 0; j < dims; ++j) {
      const float v = x[static_cast<std::size_t>(i * dims + j)];
      if (!std::isfinite(v))
        throw DataError("PCA: non-finite value at row " + std::to_string(i) + ", column " + std::to_string(j));
      p.mean[j] += v;
    }
  for (double& m : p.mean) m /= static_cast<double>(n);
  std::vector<double> cov(static_cast<std::size_t>(dims) * dims, 0.0), row(dims);
  for (std::int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < dims; ++j) row[j] = x[static_cast<std::size_t>(i * dims + j)] - p.mean[j];
    for (int a = 0; a < dims; ++a)
      for (int b = a; b < dims; ++b) cov[static_cast<std::size_t>(a) * dims + b] += row[a] * row[b];
  }
  for (int a = 0; a < dims; ++a)
    for (int b = a; b < dims; ++b) {
      double& v = cov[static_cast<std::size_t>(a) * dims + b];
      v /= static_cast<double>(n - 1);
      cov[static_cast<std::size_t>(b) * dims + a] = v;
    }
  std::vector<double> vecs;
  const std::vector<double> w = jacobi_eigen(cov, dims, vecs);
  std::vector<int> order(dims);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return w[a] > w[b]; });
  p.components.assign(static_cast<std::size_t>(dims) * dims, 0.0);
  p.explained_variance.assign(dims, 0.0);
  double total = 0.0;
  for (int j = 0; j < dims; ++j) {
    const int src = order[j];
    p.explained_variance[j] = std::max(0.0, w[src]);
    total += p.explained_variance[j];
    int arg = 0;
    for (int k = 0; k < dims; ++k)
      if (std::abs(vecs[static_cast<std::size_t>(k) * dims + src]) >
          std::abs(vecs[static_cast<std::size_t>(arg) * dims + src]))
        arg = k;
    const double sign = vecs[static_cast<std::size_t>(arg) * dims + src] < 0 ? -1.0 : 1.0;
    for (int k = 0; k < dims; ++k)
      p.components[static_cast<std::size_t>(j) * dims + k] = sign * vecs[static_cast<std::size_t>(k) * dims + src];
  }
  p.explained_variance_ratio.assign(dims, 0.0);
  for (int j = 0; j < dims; ++j) p.explained_variance_ratio[j] = total > 0 ? p.explained_variance[j] / total : 0.0;
  return p;
}

std::vector<float> Pca::forward(const std::vector<float>& x) const {
  const std::size_t n = x.size() / static_cast<std::size_t>(dims);
  std::vector<float> out(x.size());
  std::vector<double> c(dims);
  for (std::size_t i = 0; i < n; ++i) {
    for (int k = 0; k < dims; ++k) c[k] = x[i * dims + k] - mean[k];
    for (int j = 0; j < dims; ++j) {
      const double* comp = components.data() + static_cast<std::size_t>(j) * dims;
      double s = 0.0;
      for (int k = 0; k < dims; ++k) s += c[k] * comp[k];
      out[i * dims + j] = static_cast<float>(s);
    }
  }
  return out;
}

std::vector<float> Pca::inverse(const std::vector<float>& pcs) const {
  const std::size_t n = pcs.size() / static_cast<std::size_t>(dims);
  std::vector<float> out(pcs.size());
  std::vector<double> acc(dims);
  for (std::size_t i = 0; i < n; ++i) {
    for (int k = 0; k < dims; ++k) acc[k] = mean[k];
    for (int j = 0; j < dims; ++j) {
      const double v = pcs[i * dims + j];
      const double* comp = components.data() + static_cast<std::size_t>(j) * dims;
      for (int k = 0; k < dims; ++k) acc[k] += v * comp[k];
    }
    for (int k = 0; k < dims; ++k) out[i * dims + k] = static_cast<float>(acc[k]);
  }
  return out;
}

double Pca::pc_sd(int j) const { return std::sqrt(explained_variance.at(static_cast<std::size_t>(j))); }

void write_pca(const std::filesystem::path& path, const Pca& pca) {
  write_atomic(path, [&](const std::filesystem::path& tmp) {
    H5::H5File f = h5::create(tmp, h5::FormatTag{"taupe.pca", 1});
    const hsize_t d = static_cast<hsize_t>(pca.dims);
    h5::write(f, "mean", pca.mean, {d});
    h5::write(f, "components", pca.components, {d, d});
    h5::write(f, "explained_variance", pca.explained_variance, {d});
    h5::write(f, "explained_variance_ratio", pca.explained_variance_ratio, {d});
    h5::write_attr(f, "dims", static_cast<std::int64_t>(pca.dims));
    h5::write_attr(f, "samples", pca.samples);
    h5::write_attr(f, "sign_convention", std::string("largest-|.| entry of each component positive (sklearn>=1.5)"));
    f.close();
  });
}

Pca read_pca(const std::filesystem::path& path) {
  H5::H5File f = h5::open(path, h5::FormatTag{"taupe.pca", 1});
  Pca p;
  p.dims = static_cast<int>(h5::read_attr_int(f, "dims"));
  p.samples = h5::read_attr_int(f, "samples");
  const long long d = p.dims;
  p.mean = h5::read<double>(f, "mean", nullptr, {d});
  p.components = h5::read<double>(f, "components", nullptr, {d, d});
  p.explained_variance = h5::read<double>(f, "explained_variance", nullptr, {d});
  p.explained_variance_ratio = h5::read<double>(f, "explained_variance_ratio", nullptr, {d});
  return p;
}

}  // namespace taupe
