// `taupe extract`: glimpse trajectories and encoder patches from movie + masks + tracks,
// whatever produced them (simulated or real data). Rules in src/taupe/dataset/extract.h.
#include <iostream>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/core/rng.h"
#include "taupe/dataset/extract.h"
#include "taupe/pipeline/run_config.h"

namespace taupe::cli {

void register_extract(CLI::App& app) {
  auto* sub = app.add_subcommand("extract", "cut glimpse trajectories and encoder patches from movies + tracks");
  auto opts = std::make_shared<ConfigOptions>();
  auto in = std::make_shared<std::string>();
  auto movies = std::make_shared<std::vector<std::string>>();
  auto tracks = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>();
  auto seed = std::make_shared<std::int64_t>(-1);
  add_config_options(sub, *opts, "quick");
  sub->add_option("--in", *in, "directory holding fov_*/movie.h5 + fov_*/tracks.h5 (e.g. `taupe simulate --movies`)");
  sub->add_option("--movie", *movies, "movie file (repeatable; pairs with --tracks)");
  sub->add_option("--tracks", *tracks, "tracks file (repeatable; pairs with --movie)");
  sub->add_option("--out", *out, "output directory (glimpses.h5, patches.h5)")->required();
  sub->add_option("--seed", *seed, "patch sampling seed (default: run.seed)");
  bind_config_flags(sub, "extract", ExtractConfig{}, *opts, "extract.");
  set_action(sub, [=] {
    namespace fs = std::filesystem;
    const auto lock = lock_output(*out);
    RunConfig cfg = resolve_run_config(*opts);
    std::vector<std::pair<fs::path, fs::path>> pairs;
    std::vector<std::string> names;
    if (!in->empty()) {
      if (!fs::is_directory(*in)) throw IoError(*in + ": not a directory");
      std::vector<fs::path> dirs;
      for (const auto& e : fs::directory_iterator(*in))
        if (e.is_directory() && fs::exists(e.path() / "movie.h5") && fs::exists(e.path() / "tracks.h5")) dirs.push_back(e.path());
      std::sort(dirs.begin(), dirs.end());
      for (const auto& d : dirs) { pairs.emplace_back(d / "movie.h5", d / "tracks.h5"); names.push_back(d.filename().string()); }
      if (pairs.empty())
        throw IoError(*in + ": no <dir>/movie.h5 + <dir>/tracks.h5 pairs found", "write movies with `taupe simulate --movies`");
    }
    if (movies->size() != tracks->size())
      throw ConfigError("extract: " + std::to_string(movies->size()) + " --movie but " + std::to_string(tracks->size()) +
                        " --tracks: give them in pairs");
    for (std::size_t i = 0; i < movies->size(); ++i) {
      pairs.emplace_back((*movies)[i], (*tracks)[i]);
      names.push_back(fs::path((*movies)[i]).stem().string());
    }
    if (pairs.empty()) throw ConfigError("extract: give --in DIR or --movie/--tracks pairs");
    const std::uint64_t s = static_cast<std::uint64_t>(*seed >= 0 ? *seed : cfg.run.seed);
    fs::create_directories(*out);
    GlimpseFileInfo info;
    info.source = "taupe extract";
    GlimpseWriter gw(fs::path(*out) / "glimpses.h5", info);
    PatchWriter pw(fs::path(*out) / "patches.h5");
    std::int64_t next = 1;
    ExtractCounts total;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const ExtractCounts n = extract_movie(pairs[i].first, pairs[i].second, cfg.extract,
                                            derive_seed(s, 0x9A7C0000ull + i), names[i], &gw, &pw, next);
      log_info("extract: " + names[i] + ": " + std::to_string(n.trajectories) + " trajectories, " +
               std::to_string(n.patches) + " patches");
      total.trajectories += n.trajectories;
      total.patches += n.patches;
      total.mitosis += n.mitosis;
      total.apoptosis += n.apoptosis;
    }
    gw.close();
    pw.close();
    std::cout << total.trajectories << " trajectories (mitosis " << total.mitosis << ", apoptosis " << total.apoptosis
              << "), " << total.patches << " patches -> " << *out << std::endl;
  });
}

}  // namespace taupe::cli
