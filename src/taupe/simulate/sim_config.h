#pragma once
// Configuration of the cell-competition simulator (`[simulate]` in configs/*.toml).
// Units: lengths in µm unless the name says _px, times in hours unless _frames/_min.
// Real-world equivalents of the defaults are in docs/simulator.md (MDCK monolayer, H2B-GFP /
// H2B-RFP nuclei, 20x objective on 6.5 µm camera pixels = 0.325 µm/px, a frame every 4 min).
#include <cstdint>
#include <string>
#include <vector>

#include "taupe/core/config.h"

namespace taupe {

/// The simulated worlds, i.e. the planted causes of scrib apoptosis (docs/simulator.md):
/// what `simulate.world`, `run.world` and `--world` accept.
inline const std::vector<std::string> kSimWorlds = {"mechanical", "contact", "neutral", "both"};
/// "mechanical | contact | neutral | both", for help texts.
inline const std::string kSimWorldChoices = [] {
  std::string s;
  for (const std::string& w : kSimWorlds) s += (s.empty() ? "" : " | ") + w;
  return s;
}();

struct SimConfig {
  static constexpr const char* kSection = "simulate";
  // ---- world and size ------------------------------------------------------------------
  std::string world = "mechanical";  ///< planted cause of scrib apoptosis: one of kSimWorlds
  int fovs = 4;                      ///< fields of view (independent periodic monolayers)
  int fov_width_px = 1024;
  int fov_height_px = 1024;
  double pixel_size_um = 0.325;      ///< 20x objective, 6.5 µm camera pixels, no binning
  int frames = 360;                  ///< recorded frames per field of view
  double frame_interval_min = 4.0;
  int burn_in_frames = 120;          ///< unrecorded frames simulated first (confluent, mixed start)
  int substeps = 2;                  ///< mechanics sub-steps per frame
  double initial_density_per_mm2 = 4200;
  double scrib_fraction = 0.5;       ///< seeding fraction of scrib cells (1 = pure scrib culture)
  // ---- cells -------------------------------------------------------------------------------
  double cell_diameter_um = 15.0;    ///< free (uncompressed) cell diameter at birth
  double nuclear_diameter_um = 10.0; ///< free nuclear diameter at mid-cycle
  double cycle_hours = 18.0;         ///< mean cell-cycle length without compression
  double cycle_cv = 0.15;
  double nuclear_size_cv = 0.03;     ///< cell-to-cell variability of nuclear size at a given cell area (docs/simulator.md)
  double growth = 0.15;               ///< target area grows by this fraction through the cycle
  double wt_stiffness = 1.4;         ///< WT stiffness relative to scrib (WT crowd scrib; docs/simulator.md "Why compression_reference = typical")
  double wt_stall_compression = 0.55;    ///< contact inhibition: WT cycle stops at this compression
  double scrib_stall_compression = 0.95; ///< scrib cycle stops at this compression
  double motility_um = 4.0;          ///< motility noise, RMS displacement per sqrt(hour) per axis
  double mobility = 2.0;             ///< µm/h per unit overlap force (overdamped)
  double migration_speed_um_h = 8;   ///< persistent migration, RMS speed per axis (µm/h)
  double persistence_h = 1.0;        ///< persistence time of migration (h)
  double daughter_speed_um_h = 8;    ///< daughters start crawling apart along the division axis at this speed
  // ---- fates (hazards per hour) ---------------------------------------------------------
  double wt_apoptosis_per_h = 0.002;
  double scrib_base_apoptosis_per_h = 0.004;
  double mech_hazard_max_per_h = 0.60;   ///< mechanical: max extra hazard at high compression
  double mech_compression_half = 0.49;   ///< mechanical, both: compression at half max
  double mech_compression_width = 0.03;  ///< mechanical, both: logistic width
  double contact_hazard_max_per_h = 0.50;  ///< contact: max extra hazard with many WT neighbours
  double contact_wt_half = 3.5;            ///< contact, both: WT neighbours in contact at half max
  double contact_wt_width = 0.4;           ///< contact, both: logistic width (neighbours)
  double neutral_apoptosis_per_h = 0.035;  ///< neutral: constant scrib hazard
  /// both: compression and WT contact each add their own logistic term (the mechanical and the
  /// contact world's, same half points and widths) with these amplitudes, each half its own
  /// world's, so that neither alone kills as fast as in its own world (docs/simulator.md).
  double both_mech_hazard_max_per_h = 0.30;
  double both_contact_hazard_max_per_h = 0.25;
  /// Wherever compression is a planted cause (mechanical, both), it also arrests the scrib cell
  /// cycle, as p53 does in compacted losers: the cycle speed is multiplied by 1 - mech_arrest * a,
  /// where a in [0, 1] is the compression's logistic activation. 0 = compression only kills.
  /// Without arrest, compressed cells often finish their cycle first, which blurs how far the
  /// fate can be predicted from the frames before it. Not applied where compression is not
  /// planted: there it would make compression a cause of the fate (docs/decisions.md).
  double mech_arrest = 1.0;
  /// What the planted cause measures compression against: "typical" = the free area of a typical
  /// cell at the same cycle phase (so that how squeezed a cell is shows in its area, which the
  /// nuclear area reports), or "cell" = the cell's own target area, which also carries its
  /// individual birth size, hidden from the images (the session-5 default; WT contact then
  /// tells the τ-VAE about compression beyond the glimpse; docs/simulator.md "Why typical").
  /// Contact inhibition always reads the cell's own target area.
  std::string compression_reference = "typical";
  double apoptosis_min_phase = 0.3;  ///< apoptosis competence starts at this cell-cycle phase
  double hazard_memory_frames = 16;  ///< hazards read an exponential average of the cause over this many frames
  int mitosis_frames = 8;            ///< visible condensation → metaphase before the daughters appear
  int apoptosis_frames = 10;         ///< visible pyknosis / fragmentation before the nucleus disappears
  // ---- imaging --------------------------------------------------------------------------
  double gfp_brightness = 900;       ///< mean photo-electrons at a GFP nucleus centre
  double rfp_brightness = 450;       ///< mean photo-electrons at an RFP nucleus centre (dimmer)
  double expression_cv = 0.25;       ///< cell-to-cell H2B expression variability
  /// Brightness of a nucleus scales as (free nuclear area / its area)^compaction_brightness:
  /// 1 = the nucleus holds a fixed amount of fluorescent H2B, so squeezing it to half its area
  /// doubles its brightness (as compacted loser nuclei look); 0 = brightness ignores the area.
  /// The factor is clipped to [1/3, 3].
  double compaction_brightness = 1.0;
  double texture = 0.25;             ///< chromatin texture amplitude (relative)
  double eccentricity_max = 0.75;    ///< nuclear eccentricity drawn in [0, max]
  double psf_sigma_px = 2.2;         ///< Gaussian PSF (0.7 µm at 0.325 µm/px)
  double background = 100;           ///< camera offset (ADU)
  double autofluorescence = 20;      ///< diffuse signal (photo-electrons)
  double gain = 1.0;                 ///< ADU per photo-electron
  double read_noise = 3.0;           ///< ADU RMS
  double bleach_half_life_frames = 1500;
  int bit_depth = 16;                ///< 16 or 8 (saturating)
  int mask_erode_px = 0;             ///< mask degradation: >0 erode, <0 dilate by |n| px
  double mask_min_area_um2 = 0;      ///< mask degradation: nuclei smaller than this are missed
  // ---- outputs --------------------------------------------------------------------------
  bool movies = false;               ///< write full-frame movie + masks per field of view
  bool pictures = true;              ///< write PNG pictures (frame, montage, ground-truth plots)
  bool ground_truth = true;          ///< write the per-cell per-frame ground-truth table
  int threads = 0;                   ///< fields of view simulated in parallel (0 = cores)

  template <class V>
  void visit(V& v) {
    static const std::string world_help = "planted cause of scrib apoptosis: " + kSimWorldChoices;
    v("world", world, world_help.c_str(), one_of(kSimWorlds));
    v("fovs", fovs, "fields of view simulated (independent periodic monolayers)", above(0));
    v("fov_width_px", fov_width_px, "field width in pixels", at_least(96));
    v("fov_height_px", fov_height_px, "field height in pixels", at_least(96));
    v("pixel_size_um", pixel_size_um, "µm per pixel (0.325 = 20x objective, 6.5 µm camera pixels)", above(0.0));
    v("frames", frames, "recorded frames per field of view", above(0));
    v("frame_interval_min", frame_interval_min, "minutes between frames", above(0.0));
    v("burn_in_frames", burn_in_frames, "unrecorded frames simulated before frame 0", at_least(0));
    v("substeps", substeps, "mechanics sub-steps per frame", in_range(1, 64));
    v("initial_density_per_mm2", initial_density_per_mm2, "seeding density, cells per mm^2", above(0.0));
    v("scrib_fraction", scrib_fraction, "seeding fraction of scrib cells (1 = pure scrib culture)", in_range(0.0, 1.0));
    v("cell_diameter_um", cell_diameter_um, "free cell diameter at birth (µm)", above(0.0));
    v("nuclear_diameter_um", nuclear_diameter_um, "free nuclear diameter (µm)", above(0.0));
    v("cycle_hours", cycle_hours, "mean cell-cycle length without compression (h)", above(0.0));
    v("cycle_cv", cycle_cv, "coefficient of variation of the cycle length", in_range(0.0, 0.5));
    v("nuclear_size_cv", nuclear_size_cv, "cell-to-cell variability of the nuclear / cell area ratio", in_range(0.0, 0.5));
    v("growth", growth, "fractional growth of the target area through the cycle", in_range(0.0, 2.0));
    v("wt_stiffness", wt_stiffness, "WT stiffness relative to scrib", above(0.0));
    v("wt_stall_compression", wt_stall_compression, "compression at which the WT cycle stops", in_range(0.01, 0.99));
    v("scrib_stall_compression", scrib_stall_compression, "compression at which the scrib cycle stops", in_range(0.01, 0.99));
    v("motility_um", motility_um, "motility noise, µm per sqrt(h) per axis", at_least(0.0));
    v("mobility", mobility, "µm/h per µm of overlap (overdamped mechanics)", above(0.0));
    v("migration_speed_um_h", migration_speed_um_h, "persistent migration, RMS speed per axis (µm/h)", at_least(0.0));
    v("persistence_h", persistence_h, "persistence time of migration (h)", at_least(0.0));
    v("daughter_speed_um_h", daughter_speed_um_h, "daughters start crawling apart along the division axis at this speed (µm/h)", at_least(0.0));
    v("wt_apoptosis_per_h", wt_apoptosis_per_h, "WT apoptosis hazard (per hour), all worlds", at_least(0.0));
    v("scrib_base_apoptosis_per_h", scrib_base_apoptosis_per_h, "scrib baseline hazard (mechanical, contact, both)", at_least(0.0));
    v("mech_hazard_max_per_h", mech_hazard_max_per_h, "mechanical world: max extra scrib hazard", at_least(0.0));
    v("mech_compression_half", mech_compression_half, "mechanical and both worlds: compression at half max");
    v("mech_compression_width", mech_compression_width, "mechanical and both worlds: logistic width (compression)", above(0.0));
    v("contact_hazard_max_per_h", contact_hazard_max_per_h, "contact world: max extra scrib hazard", at_least(0.0));
    v("contact_wt_half", contact_wt_half, "contact and both worlds: WT neighbours in contact at half max");
    v("contact_wt_width", contact_wt_width, "contact and both worlds: logistic width (neighbours)", above(0.0));
    v("neutral_apoptosis_per_h", neutral_apoptosis_per_h, "neutral world: constant scrib hazard", at_least(0.0));
    v("both_mech_hazard_max_per_h", both_mech_hazard_max_per_h,
      "both world: max extra scrib hazard from compression (logistic of the mechanical world)", at_least(0.0));
    v("both_contact_hazard_max_per_h", both_contact_hazard_max_per_h,
      "both world: max extra scrib hazard from WT contact (logistic of the contact world)", at_least(0.0));
    v("mech_arrest", mech_arrest,
      "where compression kills (mechanical, both) it also slows the scrib cycle, speed x (1 - mech_arrest x "
      "activation); 0 = it only kills", in_range(0.0, 1.0));
    v("compression_reference", compression_reference,
      "compression = 1 - area / reference: typical (typical cell at the same phase) | cell (own target area)", one_of({"typical", "cell"}));
    v("apoptosis_min_phase", apoptosis_min_phase, "cell-cycle phase from which cells can commit apoptosis", in_range(0.0, 0.95));
    v("hazard_memory_frames", hazard_memory_frames, "time constant (frames) of the average of the cause the hazard reads", in_range(1.0, 1000.0));
    v("mitosis_frames", mitosis_frames, "frames of visible mitotic morphology before division", in_range(2, 100));
    v("apoptosis_frames", apoptosis_frames, "frames of visible pyknosis before disappearance", in_range(2, 100));
    v("gfp_brightness", gfp_brightness, "GFP nucleus brightness (photo-electrons)", above(0.0));
    v("rfp_brightness", rfp_brightness, "RFP nucleus brightness (photo-electrons)", above(0.0));
    v("expression_cv", expression_cv, "cell-to-cell expression variability", in_range(0.0, 1.0));
    v("compaction_brightness", compaction_brightness,
      "nuclear brightness x (free nuclear area / area)^this (1 = fixed H2B content, 0 = off)", in_range(0.0, 2.0));
    v("texture", texture, "chromatin texture amplitude", in_range(0.0, 1.0));
    v("eccentricity_max", eccentricity_max, "maximum nuclear eccentricity", in_range(0.0, 0.95));
    v("psf_sigma_px", psf_sigma_px, "Gaussian PSF sigma in pixels", in_range(0.0, 5.0));
    v("background", background, "camera offset (ADU)", at_least(0.0));
    v("autofluorescence", autofluorescence, "diffuse background signal (photo-electrons)", at_least(0.0));
    v("gain", gain, "ADU per photo-electron", above(0.0));
    v("read_noise", read_noise, "read noise (ADU RMS)", at_least(0.0));
    v("bleach_half_life_frames", bleach_half_life_frames, "photobleaching half-life (frames)", above(0.0));
    v("bit_depth", bit_depth, "image bit depth: 8 or 16");
    v("mask_erode_px", mask_erode_px, "mask degradation: >0 erode, <0 dilate (px)", in_range(-3, 3));
    v("mask_min_area_um2", mask_min_area_um2, "mask degradation: smaller nuclei are missed", at_least(0.0));
    v("movies", movies, "write full-frame movies and masks (large)");
    v("pictures", pictures, "write PNG pictures");
    v("ground_truth", ground_truth, "write the per-cell per-frame ground-truth table");
    v("threads", threads, "fields of view simulated in parallel (0 = cores available)", at_least(0), speed_only);
  }

  void validate() const {
    check_fields(*this);
    check_le("simulate.nuclear_diameter_um", nuclear_diameter_um, cell_diameter_um);
    if (bit_depth != 8 && bit_depth != 16)
      throw ConfigError("simulate.bit_depth = " + std::to_string(bit_depth) + ": must be 8 or 16");
  }
};

}  // namespace taupe
