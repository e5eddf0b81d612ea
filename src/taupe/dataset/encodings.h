#pragma once
// Encoding container ("taupe.encodings" v1): per trajectory the (T, 32) latent mean and
// log-variance of every glimpse frame, computed once by the encoder and read by everything
// downstream (TCN training, prediction, PC perturbations). Small enough to hold in memory.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "taupe/dataset/types.h"

namespace taupe {

struct EncodedTrajectory {
  std::int64_t id = 0;              ///< glimpse trajectory id
  Fate fate = Fate::kCensored;
  std::int32_t cutoff = 0;
  int rotation = 0;                 ///< quarter turns applied to the glimpse before encoding
  std::string movie;                ///< source movie of the glimpse trajectory ("" if unknown)
  std::int64_t track_id = 0;        ///< source track in that movie (0 if unknown)
  std::vector<float> z_mean;        ///< (T, latent_dims)
  std::vector<float> z_log_var;     ///< (T, latent_dims)
  int num_frames(int latent_dims) const { return static_cast<int>(z_mean.size()) / latent_dims; }
};

struct EncodingSet {
  int latent_dims = 32;
  std::string glimpse_file;         ///< provenance
  std::vector<EncodedTrajectory> trajectories;
};

void write_encodings(const std::filesystem::path& path, const EncodingSet& set);
EncodingSet read_encodings(const std::filesystem::path& path);

}  // namespace taupe
