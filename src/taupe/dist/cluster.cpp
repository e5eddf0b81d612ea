// Cluster (cluster.h): TCPStore coordination with heartbeats and published failures, and the
// Gloo process group for tensor collectives.
#include "taupe/dist/cluster.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
// Gloo's headers come from libgloo-dev (Debian) or the LibTorch distribution; LibTorch itself
// carries the compiled ProcessGroupGloo.
#if __has_include(<gloo/config.h>)
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#define TAUPE_HAVE_GLOO 1
#endif

// NCCL for CUDA tensors: only in a CUDA LibTorch built with it (its CMake package then defines
// USE_C10D_NCCL for the code that links it) and with NCCL's own header found (src/CMakeLists.txt
// looks for it; LibTorch's include path does not carry it). Never compiled by the Debian CPU build.
#if defined(USE_C10D_NCCL) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>) && \
    __has_include(<nccl.h>)
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define TAUPE_HAVE_NCCL 1
#endif
// A build that must have NCCL (scripts/torch2_check.py --cuda, or a multi-GPU build configured
// with -DCMAKE_CXX_FLAGS=-DTAUPE_REQUIRE_NCCL) fails here instead of falling back to Gloo.
#if defined(TAUPE_REQUIRE_NCCL) && !defined(TAUPE_HAVE_NCCL)
#error "TAUPE_REQUIRE_NCCL is set, but the NCCL process group cannot be compiled (USE_C10D_NCCL, ProcessGroupNCCL.hpp or nccl.h missing)"
#endif

#include "taupe/core/errors.h"
#include "taupe/core/log.h"

namespace taupe {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const std::string kPrefix = "taupe/";
constexpr milliseconds kHeartbeatPeriod{1000};

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<std::uint8_t>& b) { return {b.begin(), b.end()}; }

std::string seconds_text(milliseconds d) {
  std::ostringstream o;
  o << static_cast<double>(d.count()) / 1000.0 << " s";
  return o.str();
}

bool loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

c10::intrusive_ptr<c10d::TCPStore> open_store(const LaunchEnv& env, bool server, milliseconds timeout) {
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(env.master_port);
  so.isServer = server;
  so.numWorkers = static_cast<std::size_t>(env.world_size);
  so.waitWorkers = false;
  so.timeout = timeout;
  return c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
}

#ifdef TAUPE_HAVE_GLOO
/// The Gloo transport device: GLOO_SOCKET_IFNAME (PyTorch's variable) when set, the loopback
/// address for a job on 127.0.0.1, otherwise the address this host's name resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device(const LaunchEnv& env) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (loopback(env.master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
using Group = c10d::ProcessGroupGloo;
#else
struct Group {};  // built without Gloo's headers: coordination works, collectives refuse
#endif

}  // namespace

struct Cluster::Impl {
  LaunchEnv env;
  ClusterOptions opts;
  c10::intrusive_ptr<c10d::TCPStore> store;  ///< used by the calling thread only
  c10::intrusive_ptr<Group> group;
#ifdef TAUPE_HAVE_NCCL
  /// CUDA tensors go through NCCL. Created by the first CUDA collective, which every rank reaches
  /// in the same order; NCCL itself creates its communicators on first use.
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
  std::thread heartbeat;
  std::mutex hb_mutex;
  std::condition_variable hb_cv;
  bool hb_stop = false;
  std::map<int, std::pair<std::int64_t, Clock::time_point>> seen;  ///< rank -> last heartbeat value, when it changed
  Clock::time_point last_check{};

  ~Impl() { stop_heartbeat(); }

  std::string where() const { return env.master_addr + ":" + std::to_string(env.master_port); }
  std::string me() const { return "rank " + std::to_string(env.rank); }

  /// Runs a store operation; an unreachable store means rank 0 (its host) is gone.
  template <class F>
  auto guarded(F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const DistributedError&) {
      throw;
    } catch (const std::exception& e) {
      throw DistributedError(me() + " lost the rendezvous store of rank 0 at " + where() +
                                 ": rank 0 has exited or its host is unreachable (" + first_line(e.what()) + ")",
                             "rank 0's own message says why; rerun the same command to resume");
    }
  }
  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

  std::int64_t counter(const std::string& key) {
    return guarded([&] { return store->add(kPrefix + key, 0); });
  }

  void start_heartbeat() {
    heartbeat = std::thread([this] {
      try {
        auto client = open_store(env, false, opts.timeout);  // its own connection
        const std::string key = kPrefix + "heartbeat/" + std::to_string(env.rank);
        std::unique_lock<std::mutex> lock(hb_mutex);
        while (!hb_stop) {
          client->add(key, 1);
          hb_cv.wait_for(lock, kHeartbeatPeriod, [this] { return hb_stop; });
        }
      } catch (const std::exception&) {  // the store is gone: the main thread finds out and says so
      }
    });
  }
  void stop_heartbeat() {
    {
      std::lock_guard<std::mutex> lock(hb_mutex);
      hb_stop = true;
    }
    hb_cv.notify_all();
    if (heartbeat.joinable()) heartbeat.join();
  }

  /// Ranks (other than this one) whose heartbeat has not advanced for `stale`.
  std::vector<int> silent_ranks(milliseconds stale) {
    std::vector<int> out;
    const auto now = Clock::now();
    for (int r = 0; r < env.world_size; ++r) {
      if (r == env.rank) continue;
      const std::int64_t v = counter("heartbeat/" + std::to_string(r));
      auto it = seen.find(r);
      if (it == seen.end() || it->second.first != v) seen[r] = {v, now};
      else if (now - it->second.second > stale) out.push_back(r);
    }
    return out;
  }

  /// The failure published by another rank, as a DistributedError (acknowledged as seen).
  [[noreturn]] void throw_published_failure() {
    std::ostringstream o;
    int first = -1;
    for (int r = 0; r < env.world_size; ++r) {
      const std::string key = kPrefix + "failed/" + std::to_string(r);
      if (!guarded([&] { return store->check({key}); })) continue;
      const std::string what = text(guarded([&] { return store->get(key); }));
      if (first < 0) {
        first = r;
        o << "rank " << r << " failed: " << what;
      } else {
        o << " (rank " << r << " also stopped: " << what << ")";
      }
    }
    guarded([&] { return store->add(kPrefix + "failure_seen", 1); });
    throw DistributedError(first < 0 ? "another rank failed" : o.str(),
                           "fix what that rank reports, then rerun the same command: finished work is resumed");
  }

  /// Between polls: a published failure or a silent rank ends the wait.
  void watch() {
    if (counter("failed") > 0) throw_published_failure();
    const auto now = Clock::now();
    if (now - last_check < kHeartbeatPeriod) return;
    last_check = now;
    const auto silent = silent_ranks(opts.heartbeat_stale);
    if (!silent.empty()) throw silent_error(silent, opts.heartbeat_stale);
  }

  DistributedError silent_error(const std::vector<int>& silent, milliseconds stale) const {
    std::ostringstream o;
    o << "rank";
    if (silent.size() > 1) o << "s";
    for (std::size_t i = 0; i < silent.size(); ++i) o << (i ? ", " : " ") << silent[i];
    o << " stopped responding (no heartbeat for " << seconds_text(stale) << "): killed, or its host was lost";
    return DistributedError(o.str(), "rerun the same command (every rank) to resume from the last checkpoint");
  }

  /// Polls `done` until true, watching the other ranks; `deadline` bounds it when set.
  void poll(const std::function<bool()>& done, const std::function<void()>& on_timeout = {},
            Clock::time_point deadline = Clock::time_point::max()) {
    milliseconds pause{5};
    while (!done()) {
      watch();
      if (Clock::now() > deadline && on_timeout) on_timeout();
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, milliseconds(200));
    }
  }

  /// Why a collective failed: a published failure, a rank that stopped (heartbeats sampled for
  /// a few periods), or the transport's own message.
  [[noreturn]] void diagnose(const std::string& op, const std::exception& e) {
    if (counter("failed") > 0) throw_published_failure();
    seen.clear();
    (void)silent_ranks(milliseconds(0));
    const auto until = Clock::now() + 3 * kHeartbeatPeriod;
    std::vector<int> silent;
    while (Clock::now() < until) {
      std::this_thread::sleep_for(kHeartbeatPeriod / 2);
      if (counter("failed") > 0) throw_published_failure();
      silent = silent_ranks(2 * kHeartbeatPeriod + kHeartbeatPeriod / 2);
      if (!silent.empty()) throw silent_error(silent, 2 * kHeartbeatPeriod);
    }
    throw DistributedError(me() + ": " + op + " failed: " + first_line(e.what()),
                           "every rank is still alive; see the other ranks' messages");
  }

#ifdef TAUPE_HAVE_NCCL
  /// The NCCL group, created on first use. Its waits are made blocking (bounded by the cluster's
  /// timeout, so that a lost rank surfaces as an error this process can name) unless the user
  /// set PyTorch's variables.
  c10d::ProcessGroupNCCL& nccl_group() {
    if (!nccl) {
      ::setenv("TORCH_NCCL_BLOCKING_WAIT", "1", 0);
      ::setenv("NCCL_BLOCKING_WAIT", "1", 0);
      auto o = c10d::ProcessGroupNCCL::Options::create();
      o->timeout = opts.timeout;
      auto scoped = c10::make_intrusive<c10d::PrefixStore>("taupe-nccl", store);
      nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(scoped, env.rank, env.world_size, o);
    }
    return *nccl;
  }
#endif

#ifdef TAUPE_HAVE_GLOO
  /// Runs `op` with the process group for tensors like `sample`: NCCL for CUDA tensors where this
  /// LibTorch has it, Gloo otherwise (in CUDA builds Gloo also takes CUDA tensors).
  template <class Op>
  void with_group(const at::Tensor& sample, Op&& op) {
#ifdef TAUPE_HAVE_NCCL
    if (sample.is_cuda()) return op(nccl_group());
#endif
    (void)sample;
    op(*group);
  }
#endif

  template <class F>
  void collective(const std::string& op, F&& f) {
    try {
      f();
    } catch (const DistributedError&) {
      throw;
    } catch (const std::exception& e) {
      diagnose(op, e);
    }
  }
};

Cluster::Cluster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Cluster::~Cluster() = default;

std::unique_ptr<Cluster> Cluster::connect(const LaunchEnv& env, const ClusterOptions& opts) {
  if (!env.distributed()) throw ConfigError("Cluster::connect: a world size of 1 needs no cluster");
  // Writing to the socket of a rank that died raises SIGPIPE, which would end this process before
  // the error can name the rank (Python, where c10d usually runs, ignores it at start-up). The
  // binary ignores it (core/signals.h); an embedding application that left the default gets the same.
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
  auto impl = std::make_unique<Impl>();
  impl->env = env;
  impl->opts = opts;
  const auto deadline = Clock::now() + opts.timeout;
  const std::string where = impl->where();
  try {
    impl->store = open_store(env, env.rank == 0, opts.timeout);
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(env.rank) + " could not reach the rendezvous at " + where +
                               " within " + seconds_text(opts.timeout) + ": " + Impl::first_line(e.what()),
                           "check MASTER_ADDR / MASTER_PORT (or the Slurm node list): rank 0 must be running there "
                           "and the port open");
  }
  Impl& m = *impl;
  m.guarded([&] { return m.store->set(kPrefix + "joined/" + std::to_string(env.rank), bytes("1")); });
  m.guarded([&] { return m.store->add(kPrefix + "joined", 1); });
  m.start_heartbeat();
  m.poll([&] { return m.counter("joined") >= env.world_size; },
         [&] {
           std::string missing;
           for (int r = 0; r < env.world_size; ++r)
             if (!m.guarded([&] { return m.store->check({kPrefix + "joined/" + std::to_string(r)}); }))
               missing += (missing.empty() ? "" : ", ") + std::to_string(r);
           throw DistributedError("rendezvous at " + where + ": rank(s) " + missing + " did not join within " +
                                      seconds_text(opts.timeout) + " (world size " +
                                      std::to_string(env.world_size) + ")",
                                  "start every rank with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE");
         },
         deadline);
#ifdef TAUPE_HAVE_GLOO
  auto go = Group::Options::create();
  go->devices.push_back(gloo_device(env));
  go->timeout = opts.timeout;
  m.collective("creating the Gloo process group", [&] {
    m.group = c10::make_intrusive<Group>(m.store, env.rank, env.world_size, go);
  });
#endif
  return std::unique_ptr<Cluster>(new Cluster(std::move(impl)));
}

int Cluster::rank() const { return impl_->env.rank; }
int Cluster::world_size() const { return impl_->env.world_size; }
const LaunchEnv& Cluster::env() const { return impl_->env; }
std::string Cluster::describe() const {
  return "rank " + std::to_string(rank()) + " of " + std::to_string(world_size());
}

void Cluster::publish(const std::string& key, const std::string& value) {
  impl_->guarded([&] { return impl_->store->set(kPrefix + "k/" + key, bytes(value)); });
}

std::string Cluster::await(const std::string& key) {
  const std::string k = kPrefix + "k/" + key;
  Impl& m = *impl_;
  m.poll([&] { return m.guarded([&] { return m.store->check({k}); }); });
  return text(m.guarded([&] { return m.store->get(k); }));
}

void Cluster::barrier(const std::string& name) {
  Impl& m = *impl_;
  const std::string k = "barrier/" + name;
  m.guarded([&] { return m.store->add(kPrefix + k, 1); });
  m.poll([&] { return m.counter(k) >= world_size(); });
}

void Cluster::publish_failure(const std::string& what) noexcept {
  try {
    Impl& m = *impl_;
    m.store->set(kPrefix + "failed/" + std::to_string(rank()), bytes(what));
    const std::int64_t failed = m.store->add(kPrefix + "failed", 1);
    if (!leader()) return;
    // The store dies with this process: give the others a moment to read the message.
    const auto until = Clock::now() + std::chrono::seconds(3);
    while (Clock::now() < until && m.store->add(kPrefix + "failure_seen", 0) + failed < world_size())
      std::this_thread::sleep_for(milliseconds(20));
  } catch (...) {
  }
}

void Cluster::finish() {
  Impl& m = *impl_;
  barrier("taupe-end");
  m.stop_heartbeat();
  m.guarded([&] { return m.store->add(kPrefix + "end-ack", 1); });
  if (!leader()) return;
  const auto until = Clock::now() + m.opts.timeout;
  while (Clock::now() < until && m.counter("end-ack") < world_size()) std::this_thread::sleep_for(milliseconds(5));
}

#ifdef TAUPE_HAVE_GLOO
namespace {
/// The tensors in buckets of one device and dtype each: a c10d collective over a vector of
/// tensors treats them as copies of one tensor (one per device), so each bucket is flattened into
/// one, and each bucket goes to the process group of its device.
std::map<std::pair<std::string, c10::ScalarType>, std::vector<std::size_t>> buckets(
    const std::vector<at::Tensor>& tensors) {
  std::map<std::pair<std::string, c10::ScalarType>, std::vector<std::size_t>> out;
  for (std::size_t i = 0; i < tensors.size(); ++i)
    out[{tensors[i].device().str(), tensors[i].scalar_type()}].push_back(i);
  return out;
}

/// Runs `op` on one flat buffer per bucket holding `tensors`, then copies the result back.
template <class Op>
void flat_collective(std::vector<at::Tensor>& tensors, Op&& op) {
  for (const auto& [key, idx] : buckets(tensors)) {
    std::vector<at::Tensor> flat_parts;
    for (std::size_t i : idx) flat_parts.push_back(tensors[i].reshape({-1}));
    std::vector<at::Tensor> buffer{at::cat(flat_parts)};
    op(buffer);
    std::int64_t offset = 0;
    for (std::size_t i : idx) {
      const std::int64_t n = tensors[i].numel();
      tensors[i].copy_(buffer[0].narrow(0, offset, n).view(tensors[i].sizes()));
      offset += n;
    }
  }
}

}  // namespace

void Cluster::all_reduce_sum(std::vector<at::Tensor>& tensors) {
  if (tensors.empty()) return;
  impl_->collective("all-reduce", [&] {
    flat_collective(tensors, [&](std::vector<at::Tensor>& b) {
      impl_->with_group(b[0], [&](auto& g) { g.allreduce(b)->wait(); });
    });
  });
}

PendingCollective Cluster::start_all_reduce_sum(const at::Tensor& flat) {
  if (!flat.is_contiguous())
    throw DataError("Cluster::start_all_reduce_sum: the tensor must be contiguous (one flat buffer)");
  auto tensors = std::make_shared<std::vector<at::Tensor>>(1, flat);
  c10::intrusive_ptr<c10d::Work> work;
  impl_->collective("all-reduce", [&] { impl_->with_group(flat, [&](auto& g) { work = g.allreduce(*tensors); }); });
  Impl* m = impl_.get();
  return PendingCollective([m, work, tensors] { m->collective("all-reduce", [&] { work->wait(); }); });
}

void Cluster::broadcast(std::vector<at::Tensor>& tensors, int root) {
  if (tensors.empty()) return;
  c10d::BroadcastOptions o;
  o.rootRank = root;
  impl_->collective("broadcast", [&] {
    flat_collective(tensors, [&](std::vector<at::Tensor>& b) {
      impl_->with_group(b[0], [&](auto& g) { g.broadcast(b, o)->wait(); });
    });
  });
}

std::vector<at::Tensor> Cluster::all_gather(const at::Tensor& t) {
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < world_size(); ++r) out[0].push_back(at::empty_like(t));
  std::vector<at::Tensor> in{t.contiguous()};
  impl_->collective("all-gather", [&] { impl_->with_group(t, [&](auto& g) { g.allgather(out, in)->wait(); }); });
  return out[0];
}
#else
namespace {
[[noreturn]] void no_gloo() {
  throw ConfigError("this taupe was built without Gloo's headers: tensor collectives are unavailable",
                    "install libgloo-dev (scripts/setup.sh does) and rebuild");
}
}  // namespace
void Cluster::all_reduce_sum(std::vector<at::Tensor>&) { no_gloo(); }
PendingCollective Cluster::start_all_reduce_sum(const at::Tensor&) { no_gloo(); }
void Cluster::broadcast(std::vector<at::Tensor>&, int) { no_gloo(); }
std::vector<at::Tensor> Cluster::all_gather(const at::Tensor&) { no_gloo(); }
#endif

}  // namespace taupe
