#pragma once
// K-fold cross-validation of the TCN. Torch-free interface.
//
// Folds: stratified by fate (mitosis / apoptosis), split by trajectory id (every encoding that
// shares a glimpse id — e.g. the rotated copies — lands in the same fold). Fold k's TCN trains on
// the other K-1 folds (a per-class validation subset carved from them for monitoring) and is
// tested on fold k plus synthetic test trajectories (deterministic per fold).
//
// Model directory (docs/models.md "Temporal models"):
//   <model_dir>/temporal/manifest.json     format "taupe.temporal" v1, configs, dims, fold list
//   <model_dir>/temporal/fold_XX.pt        weights of fold XX's TCN (+ the PCA it was trained with)
//   <model_dir>/temporal/folds.csv         trajectory_id,fold,fate  (which model tested which trajectory)
//   <model_dir>/temporal/probabilities.csv trajectory_id,fold,true_class,p_mitosis,p_apoptosis,p_synthetic
//   <model_dir>/temporal/curves.csv        fold,epoch,step,train_loss,train_accuracy,val_loss,val_accuracy
//   <model_dir>/temporal/confusion.csv     fold (or mean/sd),true_class,pred_class,count,fraction
//   <model_dir>/temporal/cv_summary.json   per-fold and aggregated recall / confusion
//   <model_dir>/temporal/checkpoints/      per-fold training state (removed when the fold is done)
// Every file is written atomically; a SIGKILLed run resumes from the last epoch checkpoint.
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "taupe/dataset/encodings.h"
#include "taupe/projector/pca.h"
#include "taupe/temporal/temporal_config.h"

namespace taupe {

class Cluster;

inline constexpr int kTemporalFormatVersion = 1;

/// Fold of every trajectory (index into set.trajectories); -1 = fate without a class (not used).
/// Deterministic in seed. Throws DataError if a class has fewer groups than folds.
/// Without `group_key`, each trajectory id (its rotated copies) is a group, dealt round-robin per
/// class after a shuffle. With `group_key` (one key per set.trajectories entry, e.g. the lineage
/// or the field of view), every group lands whole in one fold: groups are shuffled, taken largest
/// first and each put in the fold where it keeps the class counts most even (stratified group
/// K-fold).
std::vector<int> assign_folds(const EncodingSet& set, int folds, std::uint64_t seed,
                              const std::vector<std::string>& group_key = {});

/// The group key of every encoding under cv.group_by ("auto" resolved as documented there) from
/// the glimpse file's movie (field of view) and lineage; empty for "trajectory" or when the
/// glimpse file is unavailable. `resolved` (optional) receives the grouping used.
std::vector<std::string> fold_groups(const EncodingSet& set, const std::filesystem::path& glimpses, int folds,
                                     const std::string& group_by, std::string* resolved = nullptr);

/// 3x3 confusion matrix, rows = true class, columns = predicted (mitosis, apoptosis, synthetic).
struct Confusion {
  std::array<std::array<std::int64_t, 3>, 3> counts{};
  void add(int truth, int predicted) { counts[truth][predicted] += 1; }
  /// Row-normalised (each row sums to 1; an empty row stays 0).
  std::array<std::array<double, 3>, 3> normalised() const;
  double recall(int c) const { return normalised()[c][c]; }
};

struct FoldResult {
  int fold = 0;
  std::int64_t train_trajectories = 0, validation_trajectories = 0, test_trajectories = 0;
  std::int64_t steps = 0;           ///< optimiser steps done
  Confusion confusion;              ///< on the held-out fold + its synthetic test set (typicality gate applied)
  Confusion raw_confusion;          ///< the same inputs, the TCN alone (no typicality gate)
  bool gate_enabled = false;        ///< the fold's model has a typicality gate
  std::array<std::int64_t, 2> gate_rejected{};  ///< inputs the gate turned synthetic: real, synthetic
  double final_train_loss = 0, final_val_accuracy = 0;
};

struct CvResult {
  std::vector<FoldResult> folds;
  std::array<std::array<double, 3>, 3> mean{}, sd{};  ///< of the row-normalised matrices over folds
  std::array<std::array<double, 3>, 3> mean_raw{};    ///< the same without the typicality gate
  std::int64_t total_steps = 0;
  double wall_seconds = 0;
  std::string brief() const;        ///< terminal view: recall mean ± sd per class
  std::string full() const;         ///< all matrices
};

struct CvProgressEvent {
  int fold = 0, epoch = 0, epochs = 0;
  double train_loss = 0, train_accuracy = 0, val_loss = 0, val_accuracy = 0;
  bool resumed = false;             ///< the fold continued from a checkpoint
};
using CvProgress = std::function<void(const CvProgressEvent&)>;

struct CvOptions {
  int only_fold = -1;               ///< >= 0: train/test only this fold (others must exist or are skipped)
  /// Glimpse file with each trajectory's field of view and lineage (cv.group_by); empty = the
  /// encodings' provenance (set.glimpse_file), when that file exists.
  std::filesystem::path glimpses;
  std::int64_t stop_after_steps = -1;  ///< testing aid: throw after this many steps of this run
  /// A multi-process run (dist/cluster.h): every rank calls run_cross_validation; rank r trains
  /// the folds k with k % world == r (each fold's files are its own), and rank 0 alone writes the
  /// shared files (folds.csv first, the tables and summaries once every fold has finished). The
  /// other ranks return an empty result. nullptr: one process trains every fold.
  Cluster* cluster = nullptr;
};

/// Runs (or resumes) the cross-validation and writes the model directory's temporal/ part.
/// Folds already finished (weights + results present and matching the configuration) are reused.
CvResult run_cross_validation(const EncodingSet& set, const Pca& pca, const TemporalConfig& cfg,
                              const CvConfig& cv, const std::filesystem::path& model_dir,
                              const CvProgress& progress = {}, const CvOptions& options = {});

class TcnImpl;
/// Writes a model set of one TCN trained elsewhere (imported weights), loadable by ModelSet:
/// temporal/fold_00.pt (with `pca` and `provenance` in its record, no typicality gate), a
/// folds.csv without rows (no trajectory was held out by it) and the manifest's "temporal"
/// section (1 fold, complete, `cfg` as the configuration).
void write_single_model_set(const std::filesystem::path& model_dir, TcnImpl& tcn, const Pca& pca,
                            const TemporalConfig& cfg, const nlohmann::json& provenance);

}  // namespace taupe
