// Cluster (dist/cluster.h): ranks as threads of one process over 127.0.0.1 — the same TCPStore
// and Gloo code paths as separate processes, without a launcher.
#include "taupe/dist/cluster.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <future>
#include <thread>

#include <torch/torch.h>

#include "taupe/core/errors.h"
#include "taupe/dist/gradient_reducer.h"
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

TEST(Cluster, AStartedAllReduceFinishesOnWait) {
  const auto out = run_ranks(2, [](Cluster& c) {
    const at::Tensor a = torch::full({5}, static_cast<float>(c.rank() + 1));
    const at::Tensor b = torch::arange(4).to(torch::kFloat32) * (c.rank() + 1);
    PendingCollective pa = c.start_all_reduce_sum(a), pb = c.start_all_reduce_sum(b);
    EXPECT_TRUE(pa.pending());
    pb.wait();
    pa.wait();
    pa.wait();  // a second wait returns
    c.finish();
    return std::vector<double>{a.sum().item<double>(), b[3].item<double>()};
  });
  for (const auto& o : out) EXPECT_EQ(o, (std::vector<double>{15.0, 9.0}));
}

/// A three-layer model whose gradients the reducer sums: (weights after the step's gradient
/// sum through the reducer, the same through all_reduce_sum, buckets, buckets started early).
struct ReducerOutcome {
  std::vector<double> reduced, reference;
  std::size_t buckets = 0, early = 0;
};

ReducerOutcome reduce_three_layers(Cluster& c, std::int64_t bucket_bytes) {
  torch::manual_seed(7);  // the same weights on every rank
  torch::nn::Sequential net(torch::nn::Linear(6, 32), torch::nn::Tanh(), torch::nn::Linear(32, 16), torch::nn::Tanh(),
                            torch::nn::Linear(16, 2));
  const std::vector<at::Tensor> params = net->parameters();
  const at::Tensor x = torch::linspace(-1, 1, 24).reshape({4, 6}) * (c.rank() + 1);  // (4, 6) this rank's shard
  auto grads = [&] {
    std::vector<double> v;
    for (const auto& p : params) {
      const at::Tensor g = p.grad().reshape({-1});
      for (std::int64_t i = 0; i < g.numel(); ++i) v.push_back(g[i].item<double>());
    }
    return v;
  };
  ReducerOutcome r;
  {
    GradientReducer reducer(c, params, bucket_bytes);
    for (auto& p : params) p.mutable_grad() = at::Tensor();
    reducer.arm();
    net->forward(x).pow(2).sum().backward();
    reducer.finish();
    r.reduced = grads();
    r.buckets = reducer.buckets();
    r.early = reducer.started_early();
  }
  for (auto& p : params) p.mutable_grad() = at::Tensor();
  net->forward(x).pow(2).sum().backward();
  std::vector<at::Tensor> g;
  for (auto& p : params) g.push_back(p.mutable_grad());
  c.all_reduce_sum(g);
  r.reference = grads();
  c.finish();
  return r;
}

TEST(GradientReducer, SumsTheRanksGradientsInBucketsStartedDuringTheBackwardPass) {
  const auto out = run_ranks(2, [](Cluster& c) { return reduce_three_layers(c, 256); });  // 64 floats a bucket
  for (const auto& r : out) {
    ASSERT_EQ(r.reduced.size(), r.reference.size());
    for (std::size_t i = 0; i < r.reduced.size(); ++i)
      EXPECT_NEAR(r.reduced[i], r.reference[i], 1e-5 * (1 + std::abs(r.reference[i])));
    EXPECT_GE(r.buckets, 4u);
    EXPECT_GE(r.early, r.buckets - 1);  // only the first layer's bucket may wait for finish()
  }
  EXPECT_EQ(out[0].reduced, out[1].reduced);
}

TEST(GradientReducer, OneLargeBucketStartsAtTheEndAndGivesTheSameSum) {
  const auto out = run_ranks(2, [](Cluster& c) { return reduce_three_layers(c, 1 << 20); });
  for (const auto& r : out) {
    EXPECT_EQ(r.buckets, 1u);
    for (std::size_t i = 0; i < r.reduced.size(); ++i)
      EXPECT_NEAR(r.reduced[i], r.reference[i], 1e-5 * (1 + std::abs(r.reference[i])));
  }
}

TEST(GradientReducer, AParameterWithoutAGradientCountsAsZeroAndASecondBackwardPassIsReported) {
  const auto out = run_ranks(2, [](Cluster& c) -> std::string {
    torch::nn::Linear used(3, 3), unused(3, 3);
    std::vector<at::Tensor> params = used->parameters();
    for (const auto& p : unused->parameters()) params.push_back(p);
    GradientReducer reducer(c, params, 1 << 20);
    reducer.arm();
    used->forward(torch::ones({2, 3})).sum().backward();
    reducer.finish();
    const bool zero = unused->weight.grad().defined() && unused->weight.grad().abs().sum().item<double>() == 0.0;
    reducer.arm();
    used->forward(used->forward(torch::ones({2, 3}))).sum().backward();  // used twice: one summed gradient
    std::string message;
    try {
      used->forward(torch::ones({2, 3})).sum().backward();  // a second backward pass in the same step
    } catch (const std::exception& e) {
      message = e.what();
    }
    c.finish();
    return std::string(zero ? "zero" : "not zero") + " | " + message;
  });
  for (const auto& o : out) {
    EXPECT_EQ(o.rfind("zero |", 0), 0u) << o;
    EXPECT_NE(o.find("two gradients"), std::string::npos) << o;
  }
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
