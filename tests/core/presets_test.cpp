// Embedded presets match configs/*.toml byte for byte.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fixtures.h"
#include "taupe/core/errors.h"
#include "taupe/core/presets.h"

using ::testing::HasSubstr;

namespace taupe {
namespace {

TEST(Presets, TheThreeShippedPresetsAreEmbedded) {
  const auto names = preset_names();
  for (const char* n : {"tiny", "quick", "paper"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(Presets, EmbeddedTextEqualsTheFile) {
  for (const auto& p : presets())
    EXPECT_EQ(p.toml, test::slurp(test::source_dir() / "configs" / (p.name + ".toml"))) << p.name;
}

TEST(Presets, DescriptionIsTheFirstCommentLine) {
  EXPECT_THAT(preset_description("tiny"), HasSubstr("tiny"));
  EXPECT_FALSE(preset_description("paper").empty());
}

TEST(Presets, UnknownPresetSuggestsTheClosest) {
  try {
    preset_text("tinny");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown preset 'tinny' (did you mean 'tiny'?)"));
    EXPECT_THAT(e.hint(), HasSubstr("paper"));
  }
}

}  // namespace
}  // namespace taupe
