#include "taupe/dataset/encodings.h"

#include <unordered_set>

#include "taupe/core/errors.h"
#include "taupe/dataset/detail.h"
#include "taupe/dataset/h5file.h"

namespace taupe {
namespace fs = std::filesystem;
namespace {
const h5::FormatTag kTag{"taupe.encodings", 1};
}

void write_encodings(const fs::path& path, const EncodingSet& set) {
  const std::string file = path.string();
  const int D = set.latent_dims;
  if (D <= 0) throw DataError(file + ": latent_dims = " + std::to_string(D) + ": must be > 0");
  const std::size_t n = set.trajectories.size();
  std::vector<std::int64_t> ids(n), offsets(n + 1, 0);
  std::vector<std::int8_t> fates(n);
  std::vector<std::int32_t> cutoffs(n), rotations(n);
  std::vector<std::string> movies(n);
  std::vector<std::int64_t> track_ids(n);
  std::unordered_set<std::int64_t> seen;
  for (std::size_t i = 0; i < n; ++i) {
    const EncodedTrajectory& t = set.trajectories[i];
    const std::string where = file + ": trajectory " + std::to_string(t.id) + " (row " + std::to_string(i) + ")";
    if (t.z_mean.empty() || t.z_mean.size() % static_cast<std::size_t>(D) != 0)
      throw DataError(where + ": z_mean has " + std::to_string(t.z_mean.size()) +
                      " values, expected a positive multiple of latent_dims = " + std::to_string(D));
    if (t.z_log_var.size() != t.z_mean.size())
      throw DataError(where + ": z_log_var has " + std::to_string(t.z_log_var.size()) + " values, z_mean " +
                      std::to_string(t.z_mean.size()));
    const int T = t.num_frames(D);
    if (t.cutoff < 0 || t.cutoff >= T)
      throw DataError(where + ": cutoff " + std::to_string(t.cutoff) + " outside [0, " + std::to_string(T - 1) + "]");
    if (t.rotation < 0 || t.rotation > 3)
      throw DataError(where + ": rotation " + std::to_string(t.rotation) + " outside [0, 3] quarter turns");
    detail::fate_from_code(static_cast<std::int8_t>(t.fate), where);
    if (!seen.insert(t.id).second) throw DataError(where + ": duplicate trajectory id");
    ids[i] = t.id;
    fates[i] = static_cast<std::int8_t>(t.fate);
    cutoffs[i] = t.cutoff;
    rotations[i] = t.rotation;
    movies[i] = t.movie;
    track_ids[i] = t.track_id;
    offsets[i + 1] = offsets[i] + T;
  }
  const hsize_t F = static_cast<hsize_t>(offsets.back());
  std::vector<float> mean, logvar;
  mean.reserve(F * D);
  logvar.reserve(F * D);
  for (const auto& t : set.trajectories) {
    mean.insert(mean.end(), t.z_mean.begin(), t.z_mean.end());
    logvar.insert(logvar.end(), t.z_log_var.begin(), t.z_log_var.end());
  }
  h5::AtomicFile af(path, kTag);
  H5::H5File& f = af.file();
  const int z = detail::kGzipLevel;
  h5::write_attr(f, "latent_dims", static_cast<std::int64_t>(D));
  h5::write_attr(f, "glimpse_file", set.glimpse_file);
  H5::Group g = h5::group(f, "trajectories");
  h5::write(g, "id", ids, {n}, 0, z);
  h5::write(g, "fate", fates, {n}, 0, z);
  h5::write(g, "cutoff", cutoffs, {n}, 0, z);
  h5::write(g, "rotation", rotations, {n}, 0, z);
  h5::write_strings(g, "movie", movies);
  h5::write(g, "track_id", track_ids, {n}, 0, z);
  h5::write(g, "offsets", offsets, {n + 1}, 0, z);
  h5::write(f, "z_mean", mean, {F, static_cast<hsize_t>(D)}, 0, z);
  h5::write(f, "z_log_var", logvar, {F, static_cast<hsize_t>(D)}, 0, z);
  af.commit();
}

EncodingSet read_encodings(const fs::path& path) {
  const std::string file = path.string();
  H5::H5File f = h5::open(path, kTag);
  EncodingSet set;
  const std::int64_t D = h5::read_attr_int(f, "latent_dims");
  if (D <= 0 || D > 1 << 20)
    throw DataError(file + ": attribute 'latent_dims' = " + std::to_string(D) + ": must be > 0");
  set.latent_dims = static_cast<int>(D);
  set.glimpse_file = h5::read_attr_string(f, "glimpse_file");
  const H5::Group g = h5::open_group(f, "trajectories");
  const auto ids = h5::read<std::int64_t>(g, "id", nullptr, {-1});
  const long long n = static_cast<long long>(ids.size());
  const auto fates = h5::read<std::int8_t>(g, "fate", nullptr, {n});
  const auto cutoffs = h5::read<std::int32_t>(g, "cutoff", nullptr, {n});
  const auto rotations = h5::read<std::int32_t>(g, "rotation", nullptr, {n});
  const auto offsets = h5::read<std::int64_t>(g, "offsets", nullptr, {n + 1});
  // Join key (movie, track id): optional, files written before it have neither.
  std::vector<std::string> movies;
  std::vector<std::int64_t> track_ids;
  if (h5::exists(g, "movie") && h5::exists(g, "track_id")) {
    movies = h5::read_strings(g, "movie");
    track_ids = h5::read<std::int64_t>(g, "track_id", nullptr, {n});
    if (static_cast<long long>(movies.size()) != n)
      throw DataError(file + ": dataset '/trajectories/movie': expected shape (" + std::to_string(n) + ",), found (" +
                      std::to_string(movies.size()) + ",)");
  }
  const long long F = offsets.back();
  const auto mean = h5::read<float>(f, "z_mean", nullptr, {F, D});
  const auto logvar = h5::read<float>(f, "z_log_var", nullptr, {F, D});
  if (offsets.front() != 0)
    throw DataError(file + ": dataset '/trajectories/offsets': first value must be 0, found " +
                    std::to_string(offsets.front()));
  set.trajectories.resize(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::string where = file + ": trajectory " + std::to_string(ids[i]) + " (row " + std::to_string(i) + ")";
    EncodedTrajectory& t = set.trajectories[i];
    t.id = ids[i];
    t.fate = detail::fate_from_code(fates[i], where);
    t.cutoff = cutoffs[i];
    t.rotation = rotations[i];
    if (!movies.empty()) {
      t.movie = movies[i];
      t.track_id = track_ids[i];
    }
    const std::int64_t a = offsets[i], b = offsets[i + 1];
    if (b <= a || b > F)
      throw DataError(where + ": dataset '/trajectories/offsets' must increase strictly within [0, " +
                      std::to_string(F) + "], found " + std::to_string(a) + " then " + std::to_string(b));
    if (t.cutoff < 0 || t.cutoff >= b - a)
      throw DataError(where + ": cutoff " + std::to_string(t.cutoff) + " outside [0, " + std::to_string(b - a - 1) + "]");
    t.z_mean.assign(mean.begin() + a * D, mean.begin() + b * D);
    t.z_log_var.assign(logvar.begin() + a * D, logvar.begin() + b * D);
  }
  return set;
}

}  // namespace taupe
