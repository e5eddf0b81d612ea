// Cluster (dist/cluster.h): ranks as threads of one process over 127.0.0.1 — the same TCPStore
// and Gloo code paths as separate processes, without a launcher.
#include "taupe/dist/cluster.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include <torch/torch.h>

#include "taupe/core/errors.h"
#include "taupe/dist/launcher.h"

namespace taupe {
namespace {

using namespace std::chrono_literals;

LaunchEnv env_of(int rank, int world, int port, const std::string& addr = "127.0.0.1") {
  LaunchEnv e;
  e.launcher = "torchrun";
  e.rank = rank;
  e.world_size = world;
  e.local_rank = rank;
  e.master_addr = addr;
  e.master_port = port;
  return e;
}

ClusterOptions quick_options() {
  ClusterOptions o;
  o.timeout = 10s;
  o.heartbeat_stale = 3s;
  return o;
}

/// Runs `body(cluster)` as ranks 0..world-1 on threads; returns the futures' results.
template <class F>
auto run_ranks(int world, F body, ClusterOptions opts = quick_options()) {
  const int port = free_local_port();
  using R = decltype(body(std::declval<Cluster&>()));
  std::vector<std::future<R>> fs;
  for (int r = 0; r < world; ++r)
    fs.push_back(std::async(std::launch::async, [=] {
      auto c = Cluster::connect(env_of(r, world, port), opts);
      return body(*c);
    }));
  std::vector<R> out;
  for (auto& f : fs) out.push_back(f.get());
  return out;
}

TEST(Cluster, AllReduceBroadcastGatherAndBarrierAgreeAcrossRanks) {
  const auto out = run_ranks(3, [](Cluster& c) {
    std::vector<at::Tensor> t{torch::full({4}, static_cast<double>(c.rank() + 1)), torch::arange(3).to(torch::kFloat64)};
    c.all_reduce_sum(t);  // 1 + 2 + 3 = 6; 3 x arange
    std::vector<at::Tensor> b{torch::full({2}, static_cast<float>(10 * c.rank()))};
    c.broadcast(b, 2);
    const auto g = c.all_gather(torch::full({1}, static_cast<int>(c.rank() * c.rank()), torch::kInt64));
    c.barrier("after");
    if (c.leader()) c.publish("answer", "42");
    const std::string v = c.await("answer");
    c.finish();
    return std::vector<double>{t[0].sum().item<double>(), t[1][2].item<double>(), b[0][1].item<double>(),
                               static_cast<double>(g[0].item<std::int64_t>() + 10 * g[1].item<std::int64_t>() +
                                                   100 * g[2].item<std::int64_t>()),
                               std::stod(v)};
  });
  for (const auto& o : out) EXPECT_EQ(o, (std::vector<double>{24.0, 6.0, 20.0, 0 + 10 * 1 + 100 * 4, 42.0}));
}

TEST(Cluster, PublishedFailureEndsTheOthersWaitNamingTheRank) {
  const auto out = run_ranks(2, [](Cluster& c) -> std::string {
    if (c.rank() == 1) {
      c.publish_failure("encoder: loss is NaN");
      return "";
    }
    try {
      c.await("never-published");
    } catch (const DistributedError& e) {
      return e.what();
    }
    return "no error";
  });
  EXPECT_EQ(out[0], "rank 1 failed: encoder: loss is NaN");
}

TEST(Cluster, ARankWhoseHeartbeatStopsIsNamedWithinTheStaleTime) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto out = run_ranks(2, [](Cluster& c) -> std::string {
    if (c.rank() == 1) return "";  // leaves: its destructor stops its heartbeat, it never arrives
    try {
      c.barrier("rank 1 never comes");
    } catch (const DistributedError& e) {
      return e.what();
    }
    return "no error";
  });
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(out[0].find("rank 1 stopped responding"), std::string::npos) << out[0];
  EXPECT_LT(s, 15.0);
}

TEST(Cluster, ACollectiveWithADepartedRankFailsNamingIt) {
  const auto out = run_ranks(2, [](Cluster& c) -> std::string {
    if (c.rank() == 1) return "";  // destroyed: its Gloo connections close
    std::this_thread::sleep_for(300ms);
    try {
      std::vector<at::Tensor> t{torch::ones({8})};
      c.all_reduce_sum(t);
    } catch (const DistributedError& e) {
      return e.what();
    }
    return "no error";
  });
  EXPECT_NE(out[0].find("rank 1"), std::string::npos) << out[0];
}

TEST(Cluster, AnUnreachableRendezvousFailsWithinItsTimeout) {
  ClusterOptions o;
  o.timeout = 2s;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    (void)Cluster::connect(env_of(1, 2, free_local_port()), o);  // nobody hosts this port
    FAIL() << "connected to nothing";
  } catch (const DistributedError& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("rank 1 could not reach the rendezvous at 127.0.0.1:"), std::string::npos) << w;
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 20.0);
}

TEST(Cluster, ARendezvousMissingARankNamesItAfterTheTimeout) {
  ClusterOptions o;
  o.timeout = 1500ms;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    (void)Cluster::connect(env_of(0, 3, free_local_port()), o);
    FAIL() << "rendezvous completed without ranks 1 and 2";
  } catch (const DistributedError& e) {
    EXPECT_NE(std::string(e.what()).find("rank(s) 1, 2 did not join within 1.5 s"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10.0);
}

TEST(Cluster, OwnershipIsRoundRobin) {
  EXPECT_TRUE(rank_owns(5, 0, 1));
  EXPECT_TRUE(rank_owns(4, 0, 2));
  EXPECT_FALSE(rank_owns(4, 1, 2));
  EXPECT_TRUE(rank_owns(7, 1, 3));
}

}  // namespace
}  // namespace taupe
