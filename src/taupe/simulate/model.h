#pragma once
// Agent-based model of a mixed MDCK monolayer (WT + scrib) on a periodic field of view.
// One call simulates one field of view and returns its full history: a snapshot of every
// cell at every recorded frame (what the renderer draws and the ground-truth table holds)
// and the tracks a perfect tracker would produce. See docs/simulator.md.
#include <cstdint>
#include <string>
#include <vector>

#include "taupe/dataset/tracks.h"
#include "taupe/dataset/types.h"
#include "taupe/simulate/sim_config.h"

namespace taupe {

/// Visible state of a cell's nucleus.
enum class Morph : std::int8_t { kInterphase = 0, kMitosis = 1, kApoptosis = 2 };

/// One cell at one recorded frame. Positions and nuclear axes in pixels.
struct CellSnap {
  std::int64_t track_id = 0;      ///< current track (also the instance label in masks)
  CellType type = CellType::kWildType;
  Morph morph = Morph::kInterphase;
  float morph_progress = 0;       ///< 0..1 through the visible event
  float x = 0, y = 0;             ///< pixels, in [0, width) x [0, height)
  float nuc_a = 0, nuc_b = 0;     ///< nuclear semi-axes (pixels, interphase shape)
  float theta = 0;                ///< orientation (radians)
  float expression = 1;           ///< relative H2B expression
  float division_angle = 0;       ///< axis along which the daughters will separate
  std::uint32_t texture_seed = 0;
  // ---- ground truth -------------------------------------------------------------------
  float area_um2 = 0;             ///< available (Voronoi-like) cell area
  float target_area_um2 = 0;      ///< area the cell would take uncompressed
  float compression = 0;          ///< 1 - area / reference area (SimConfig::compression_reference), in [0, 1)
  float local_density = 0;        ///< cells per mm² within 25 µm
  float nuclear_area_um2 = 0;     ///< geometric nuclear area (interphase ellipse)
  float hazard_apoptosis = 0;     ///< apoptosis hazard in force (per hour)
  float cycle_speed = 0;          ///< cycle progression relative to free growth (contact inhibition)
  float phase = 0;                ///< cell-cycle phase 0..1
  std::int16_t wt_neighbours = 0;     ///< WT neighbours in contact
  std::int16_t scrib_neighbours = 0;  ///< scrib neighbours in contact
};

struct FovHistory {
  int fov = 0;
  int width = 0, height = 0;      ///< pixels
  double pixel_size_um = 0.65;
  std::uint64_t seed = 0;         ///< this field of view's derived seed (also seeds its camera noise)
  std::vector<std::vector<CellSnap>> frames;  ///< [t] -> cells sorted by track_id
  TrackSet tracks;

  /// Snapshot of track `id` at frame t, or nullptr.
  const CellSnap* find(std::int64_t track_id, int t) const;
};

/// Simulates field of view `fov` with seed derive_seed(seed, fov).
FovHistory simulate_fov(const SimConfig& cfg, std::uint64_t seed, int fov);

/// The two candidate causes of scrib apoptosis, as the world plants them: the extra hazard
/// (per hour) each adds at full activation, 0 where it is not planted (mechanical: compression;
/// contact: WT contact; both: each, weaker; neutral: neither, a constant hazard instead).
struct CauseAmplitudes {
  double compression_per_h = 0;
  double wt_contact_per_h = 0;
};
CauseAmplitudes cause_amplitudes(const SimConfig& cfg);

/// Logistic activations in [0, 1] of compression and of WT contact for a cell, whether planted
/// or not (0 for WT cells, which die at a constant rate).
struct CauseActivation {
  double compression = 0;  ///< σ((compression − mech_compression_half) / mech_compression_width)
  double wt_contact = 0;   ///< σ((WT neighbours − contact_wt_half) / contact_wt_width)
};
CauseActivation cause_activation(const SimConfig& cfg, CellType type, double compression, double wt_neighbours);

/// Apoptosis hazard (per hour) of a cell given its type and its recent (exponential average over
/// hazard_memory_frames) compression and number of WT neighbours in contact: the planted mechanism,
/// scrib base + Σ amplitude × activation over the causes (neutral: a constant).
double apoptosis_hazard(const SimConfig& cfg, CellType type, double compression, double wt_neighbours);

/// What a world plants, as data for scoring verdicts against the truth. direction: the sign of
/// the effect of more of the cause on scrib apoptosis (+1: more compression, i.e. a smaller
/// nucleus, or more WT contact -> more apoptosis), 0 where not planted.
struct PlantedCause {
  bool planted = false;
  int direction = 0;
};
struct PlantedCauses {
  PlantedCause compression;  ///< compression, which the images show as a smaller nucleus
  PlantedCause wt_contact;   ///< number of WT neighbours in contact
  /// Fraction by which full compression activation slows the scrib cycle (SimConfig::mech_arrest
  /// where compression is planted, else 0): the fate then also shifts through fewer mitoses.
  double arrest = 0;
};
PlantedCauses planted_causes(const SimConfig& cfg);
/// The same with the default parameters of `world` (one of kSimWorlds; else ConfigError).
PlantedCauses planted_causes(const std::string& world);

}  // namespace taupe
