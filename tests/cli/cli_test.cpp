// The `taupe` binary: help shows struct defaults, version, exit codes, config show/--set,
// presets in sync with the config structs, and `taupe info` (OpenBLAS, threads = cores).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sched.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "taupe/core/config.h"
#include "taupe/core/version.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using taupe::test::run_taupe;

namespace {

TEST(Cli, VersionPrintsTaupeVersion) {
  const auto r = run_taupe({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out + r.err, HasSubstr(std::string("taupe ") + taupe::kVersion));
}

TEST(Cli, TopLevelHelpListsGlobalOptionsAndSubcommands) {
  const auto r = run_taupe({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("--threads"));
  EXPECT_THAT(r.out, HasSubstr("--quiet"));
  EXPECT_THAT(r.out, HasSubstr("--verbose"));
  EXPECT_THAT(r.out, HasSubstr("info"));
  EXPECT_THAT(r.out, HasSubstr("config"));
  // --threads shows its default (0 = cores), taken from the option's storage.
  EXPECT_THAT(r.out, HasSubstr("--threads INT:INT in [0 - 1024]=0"));
}

TEST(Cli, ConfigShowHelpShowsStructDefaults) {
  const auto r = run_taupe({"config", "show", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("--preset"));
  EXPECT_THAT(r.out, HasSubstr("--set"));
  EXPECT_THAT(r.out, HasSubstr("--config"));
  // Defaults come from the structs, e.g. RunSection{}.seed = 1 and .world = mechanical.
  EXPECT_THAT(r.out, HasSubstr("--run.seed INT=1 "));
  EXPECT_THAT(r.out, HasSubstr("--run.world TEXT=mechanical "));
  EXPECT_THAT(r.out, HasSubstr("master seed of the run"));
  EXPECT_THAT(r.out, HasSubstr("[simulate] options"));
}

TEST(Cli, NoSubcommandOrUnknownOptionIsAUsageError) {
  EXPECT_EQ(run_taupe({}).exit_code, 2);
  const auto r = run_taupe({"info", "--no-such-option"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--no-such-option"));
  EXPECT_EQ(run_taupe({"frobnicate"}).exit_code, 2);
}

TEST(Cli, ConfigShowPrintsResolvedTomlWithOverrides) {
  const auto r = run_taupe({"config", "show", "--set", "run.seed=7", "--run.world", "contact"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("[run]\n"));
  EXPECT_THAT(r.out, HasSubstr("\nseed = 7\n"));
  EXPECT_THAT(r.out, HasSubstr("\nworld = \"contact\"\n"));
  EXPECT_THAT(r.out, HasSubstr("# master seed of the run"));
}

TEST(Cli, ConfigShowOutputIsAValidConfigFile) {
  taupe::test::TempDir dir;
  const auto first = run_taupe({"config", "show", "--preset", "quick", "--set", "run.seed=11"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto file = dir.write("resolved.toml", first.out);
  const auto second = run_taupe({"config", "show", "--config", file.string()});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);  // round trip through TOML is exact
}

TEST(Cli, EveryShippedPresetLoadsAndValidates) {
  for (const char* p : {"tiny", "quick", "paper"}) {
    const auto r = run_taupe({"config", "show", "--preset", p});
    EXPECT_EQ(r.exit_code, 0) << p << ": " << r.err;
    EXPECT_THAT(r.out, HasSubstr(std::string("preset = \"") + p + "\"")) << p;
  }
  const auto list = run_taupe({"config", "presets"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_THAT(list.out, HasSubstr("tiny"));
  EXPECT_THAT(list.out, HasSubstr("paper"));
}

TEST(Cli, UnknownKeyIsRefusedWithDidYouMeanAndExitCode3) {
  const auto r = run_taupe({"config", "show", "--set", "run.sede=3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("error: unknown config key run.sede (did you mean 'seed'?)"));
  EXPECT_THAT(r.err, HasSubstr("hint: "));
  EXPECT_EQ(r.out, "");
}

TEST(Cli, WrongTypeAndOutOfRangeAreRefusedNamingTheKey) {
  taupe::test::TempDir dir;
  const auto typed = run_taupe({"config", "show", "--config", dir.write("a.toml", "[run]\nseed = \"x\"\n").string()});
  EXPECT_EQ(typed.exit_code, 3);
  EXPECT_THAT(typed.err, HasSubstr("a.toml:2: run.seed: expected integer, got string"));
  const auto range = run_taupe({"config", "show", "--set", "run.threads=-2"});
  EXPECT_EQ(range.exit_code, 3);
  EXPECT_THAT(range.err, HasSubstr("run.threads = -2: must be in [0, 1024]"));
  const auto choice = run_taupe({"config", "show", "--set", "run.world=magic"});
  EXPECT_EQ(choice.exit_code, 3);
  EXPECT_THAT(choice.err, HasSubstr("run.world = \"magic\""));
  const auto unknown_file = run_taupe({"config", "show", "--config", dir.write("b.toml", "[rnu]\n").string()});
  EXPECT_EQ(unknown_file.exit_code, 3);
  EXPECT_THAT(unknown_file.err, HasSubstr("did you mean 'run'?"));
}

TEST(Cli, UnknownPresetIsAConfigError) {
  const auto r = run_taupe({"config", "show", "--preset", "papr"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("did you mean 'paper'?"));
}

TEST(Cli, ConfigFileNamesItsBasePreset) {
  taupe::test::TempDir dir;
  const auto f = dir.write("c.toml", "[run]\npreset = \"tiny\"\nseed = 5\n");
  const auto r = run_taupe({"config", "show", "--config", f.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("preset = \"tiny\""));
  EXPECT_THAT(r.out, HasSubstr("\nseed = 5\n"));
}

int cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  return CPU_COUNT(&set);
}

TEST(Cli, InfoReportsVersionsThreadsAndBlas) {
  const auto r = run_taupe({"info"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(std::string("taupe      ") + taupe::kVersion));
  EXPECT_THAT(r.out, HasSubstr("LibTorch   "));
  EXPECT_THAT(r.out, HasSubstr("threads    " + std::to_string(cores()) + " "));
  EXPECT_THAT(r.out, HasSubstr("oneDNN     "));
  EXPECT_THAT(r.out, HasSubstr("CUDA       "));
}

TEST(Cli, InfoJsonThreadsEqualCoresAndBlasIsTheActiveAlternative) {
  const auto r = run_taupe({"info", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["threads"], cores());
  EXPECT_EQ(j["cores_available"], cores());
  const fs::path blas = "/usr/lib/x86_64-linux-gnu/libblas.so.3";
  if (fs::exists(blas) && fs::canonical(blas).string().find("openblas") != std::string::npos) {
    EXPECT_EQ(j["blas"]["name"], "OpenBLAS");
    EXPECT_TRUE(j["blas"]["single_threaded"].get<bool>());
  }
  EXPECT_NE(j["blas"]["name"], "none loaded");  // LibTorch links a BLAS
}

TEST(Cli, DeviceIsAutoOrCpuAndAMissingCudaDeviceIsAConfigErrorNamingTheSetting) {
  const int cuda = nlohmann::json::parse(run_taupe({"info", "--json"}).out)["cuda_devices"].get<int>();
  const auto cpu = run_taupe({"--device", "cpu", "info", "--json"});
  ASSERT_EQ(cpu.exit_code, 0) << cpu.err;
  EXPECT_EQ(nlohmann::json::parse(cpu.out)["device"], "cpu");
  const auto automatic = run_taupe({"info", "--json"});
  EXPECT_EQ(nlohmann::json::parse(automatic.out)["device"], cuda > 0 ? "cuda:0" : "cpu");
  const auto bad = run_taupe({"--device", "gpu", "info"});
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_THAT(bad.err, HasSubstr("--device = \"gpu\": expected auto, cpu, cuda or cuda:N"));
  const auto beyond = run_taupe({"config", "show", "--preset", "tiny", "--set", "run.device=cuda:" + std::to_string(cuda)});
  EXPECT_EQ(beyond.exit_code, 3);
  EXPECT_THAT(beyond.err, HasSubstr("run.device = \"cuda:" + std::to_string(cuda) + "\": "));
}

TEST(Cli, PrecisionIsFp32OrBf16AndNamedWhereItIsWrong) {
  EXPECT_EQ(nlohmann::json::parse(run_taupe({"info", "--json"}).out)["precision"], "fp32");
  const auto bf16 = run_taupe({"--precision", "bf16", "info", "--json"});
  ASSERT_EQ(bf16.exit_code, 0) << bf16.err;
  EXPECT_EQ(nlohmann::json::parse(bf16.out)["precision"], "bf16");
  EXPECT_NE(run_taupe({"--precision", "fp16", "info"}).exit_code, 0);
  const auto bad = run_taupe({"config", "show", "--preset", "tiny", "--set", "run.precision=half"});
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_THAT(bad.err, HasSubstr("run.precision"));
}

TEST(Cli, ThreadsOptionOverrides) {
  const auto r = run_taupe({"--threads", "1", "info", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["threads"], 1);
  const auto after = run_taupe({"info", "--json", "--threads", "1"});  // after the subcommand too
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(nlohmann::json::parse(after.out)["threads"], 1);
}

}  // namespace

namespace {

// Unreadable inputs: every format's reader says which failure it is, with exit code 4.
TEST(Cli, UnreadableInputsSayWhichAndExitWithTheIoCode) {
  taupe::test::TempDir dir("taupe-cli-unreadable");
  const fs::path empty = dir.path() / "empty.h5", text = dir.path() / "text.tif", csv = dir.path() / "tracks.csv";
  { std::ofstream(empty.string()); }
  { std::ofstream(text.string()) << "just text\n"; }
  { std::ofstream(csv.string()) << "ID,t,y,x\n1,0,5,5\n"; }
  const fs::path out = dir.path() / "out";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"import", "btrack", empty.string(), "--out", out.string()}, empty.string() + ": empty file (0 bytes)"},
      {{"import", "btrack", dir.path().string(), "--out", out.string()}, ": is a directory, not a file"},
      {{"import", "btrack", csv.string(), "--out", out.string()},
       csv.string() + ": not an HDF5 file: a text file (it starts \"ID,t,y,x\")"},
      {{"import", "csv", csv.string(), "--movie", text.string(), "--out", out.string()},
       text.string() + ": not a TIFF file: a text file (it starts \"just text\")"},
      {{"import", "csv", csv.string(), "--movie", empty.string(), "--out", out.string()},
       empty.string() + ": empty file (0 bytes)"},
  };
  for (const Case& c : cases) {
    const auto r = run_taupe(c.args);
    EXPECT_EQ(r.exit_code, 4) << c.args[1] << " " << c.args[2] << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message));
  }
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
// docs/cli.md's convention, checked on every subcommand's flags (from the generated reference).
TEST(Cli, EveryFlagFollowsTheConvention) {
  const auto r = run_taupe({"cli-reference"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::regex row(R"(^\| `([^`]*)` \|)");
  const std::regex flag(R"(^(-[a-z], )?--[a-z][a-z0-9]*(-[a-z0-9]+)*$)");
  std::istringstream in(r.out);
  std::string line;
  int flags = 0;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, row)) continue;
    const std::string names = m[1];
    if (names.empty() || names[0] != '-' || names == "option") continue;  // positional argument / header
    ++flags;
    EXPECT_TRUE(std::regex_match(names, flag)) << names << ": not --lower-case-with-dashes";
    if (names.rfind("-o, ", 0) == 0) {
      EXPECT_EQ(names, "-o, --out");
    }
    if (names.rfind("-m, ", 0) == 0) {
      EXPECT_EQ(names, "-m, --model-dir");
    }
    EXPECT_NE(names, "--models") << "a model directory is --model-dir";
    EXPECT_NE(names, "--out") << "--out comes with its short form: -o, --out";
    EXPECT_NE(names, "--model-dir") << "--model-dir comes with its short form: -m, --model-dir";
  }
  EXPECT_GT(flags, 20);
}
