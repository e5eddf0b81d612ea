// `taupe extract`: glimpse trajectories and encoder patches from movie + masks + tracks,
// whatever produced them (simulated or real data). Rules in src/taupe/dataset/extract.h.
#include <iostream>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "taupe/core/errors.h"
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
  sub->add_option("-o,--out", *out, "output directory (glimpses.h5, patches.h5)")->required();
  sub->add_option("--seed", *seed, "patch sampling seed (default: run.seed)");
  bind_config_flags(sub, ExtractConfig{}, *opts);
  set_action(sub, [=] {
    const auto lock = lock_output(*out);
    RunConfig cfg = resolve_run_config(*opts);
    std::vector<MovieWithTracks> inputs;
    if (!in->empty()) inputs = find_movies_with_tracks(*in);
    if (movies->size() != tracks->size())
      throw ConfigError("extract: " + std::to_string(movies->size()) + " --movie but " + std::to_string(tracks->size()) +
                        " --tracks: give them in pairs");
    for (std::size_t i = 0; i < movies->size(); ++i)
      inputs.push_back({(*movies)[i], (*tracks)[i], std::filesystem::path((*movies)[i]).stem().string()});
    if (inputs.empty()) throw ConfigError("extract: give --in DIR or --movie/--tracks pairs");
    const std::uint64_t s = static_cast<std::uint64_t>(*seed >= 0 ? *seed : cfg.run.seed);
    const ExtractCounts total = extract_dataset(inputs, cfg.extract, s, *out);
    std::cout << total.trajectories << " trajectories (mitosis " << total.mitosis << ", apoptosis " << total.apoptosis
              << "), " << total.patches << " patches -> " << *out << std::endl;
  });
}

}  // namespace taupe::cli
