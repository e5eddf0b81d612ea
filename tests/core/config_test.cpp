// Config reflection, TOML load/save, --set overrides and validation messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fixtures.h"
#include "taupe/core/config.h"
#include "taupe/core/config_io.h"

using ::testing::HasSubstr;
using ::testing::Not;

namespace taupe {
namespace {

struct DemoConfig {
  int frames = 200;
  std::int64_t seed = 1;
  double learning_rate = 0.001;
  bool augment = true;
  std::string world = "mechanical";
  std::vector<double> weights{0.5, 1.5};
  std::vector<int> dilations{1, 2, 4};

  template <class V>
  void visit(V& v) {
    v("frames", frames, "number of frames");
    v("seed", seed, "random seed");
    v("learning_rate", learning_rate, "Adam learning rate");
    v("augment", augment, "random flips");
    v("world", world, "planted world");
    v("weights", weights, "class weights");
    v("dilations", dilations, "TCN dilations");
  }
  void validate() const {
    check_gt("demo.frames", frames, 0);
    check_range("demo.learning_rate", learning_rate, 0.0, 1.0);
    check_one_of("demo.world", world, {"mechanical", "contact", "neutral"});
  }
};

struct OtherConfig {
  int epochs = 10;
  template <class V>
  void visit(V& v) {
    v("epochs", epochs, "training epochs");
  }
  void validate() const { check_gt("other.epochs", epochs, 0); }
};

struct Both {
  DemoConfig demo;
  OtherConfig other;
  ConfigSections sections() { return {make_section("demo", demo), make_section("other", other)}; }
};

/// Message of the ConfigError thrown by `f` ("" when none is thrown).
template <class F>
std::string config_error(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return std::string(e.what()) + (e.hint().empty() ? "" : " | hint: " + e.hint());
  }
  return "";
}

TEST(ConfigFields, FieldsInDeclarationOrderWithHelp) {
  DemoConfig c;
  const auto fields = fields_of(c);
  ASSERT_EQ(fields.size(), 7u);
  EXPECT_EQ(fields[0].name, "frames");
  EXPECT_EQ(fields[2].help, "Adam learning rate");
  EXPECT_EQ(fields[6].name, "dilations");
}

TEST(ConfigFields, ValueStringsAreToml) {
  DemoConfig c;
  const auto f = fields_of(c);
  EXPECT_EQ(field_value_string(f[0]), "200");
  EXPECT_EQ(field_value_string(f[2]), "0.001");
  EXPECT_EQ(field_value_string(f[3]), "true");
  EXPECT_EQ(field_value_string(f[4]), "\"mechanical\"");
  EXPECT_EQ(field_value_string(f[5]), "[0.5, 1.5]");
  EXPECT_EQ(field_value_string(f[6]), "[1, 2, 4]");
  c.learning_rate = 3.0;
  EXPECT_EQ(field_value_string(f[2]), "3.0");  // stays a TOML float
  c.learning_rate = 640;
  EXPECT_EQ(field_value_string(f[2]), "640.0");
  c.learning_rate = 1e20;
  EXPECT_EQ(field_value_string(f[2]), "1e+20");
  c.world = "a \"q\" \\ b";
  EXPECT_EQ(field_value_string(f[4]), "\"a \\\"q\\\" \\\\ b\"");
}

TEST(ConfigFields, TypeNames) {
  DemoConfig c;
  const auto f = fields_of(c);
  EXPECT_EQ(field_type_name(f[0]), "integer");
  EXPECT_EQ(field_type_name(f[1]), "integer");
  EXPECT_EQ(field_type_name(f[2]), "float");
  EXPECT_EQ(field_type_name(f[3]), "boolean");
  EXPECT_EQ(field_type_name(f[4]), "string");
  EXPECT_EQ(field_type_name(f[5]), "array of floats");
  EXPECT_EQ(field_type_name(f[6]), "array of integers");
}

TEST(ConfigFields, SetFromStringParsesEveryType) {
  DemoConfig c;
  const auto f = fields_of(c);
  field_set_from_string(f[0], "demo.frames", "12");
  field_set_from_string(f[1], "demo.seed", "9000000000");
  field_set_from_string(f[2], "demo.learning_rate", "2.5e-4");
  field_set_from_string(f[3], "demo.augment", "false");
  field_set_from_string(f[4], "demo.world", "contact");
  field_set_from_string(f[5], "demo.weights", "[1, 2.5]");
  field_set_from_string(f[6], "demo.dilations", "1,3");
  EXPECT_EQ(c.frames, 12);
  EXPECT_EQ(c.seed, 9000000000LL);
  EXPECT_DOUBLE_EQ(c.learning_rate, 2.5e-4);
  EXPECT_FALSE(c.augment);
  EXPECT_EQ(c.world, "contact");
  EXPECT_EQ(c.weights, (std::vector<double>{1.0, 2.5}));
  EXPECT_EQ(c.dilations, (std::vector<int>{1, 3}));
  field_set_from_string(f[4], "demo.world", "\"neutral\"");
  EXPECT_EQ(c.world, "neutral");
  field_set_from_string(f[6], "demo.dilations", "[]");
  EXPECT_TRUE(c.dilations.empty());
}

TEST(ConfigFields, SetFromStringRejectsWrongTypeNamingTheKey) {
  DemoConfig c;
  const auto f = fields_of(c);
  EXPECT_THAT(config_error([&] { field_set_from_string(f[0], "demo.frames", "ten"); }),
              HasSubstr("demo.frames = ten: expected integer"));
  EXPECT_THAT(config_error([&] { field_set_from_string(f[0], "demo.frames", "1.5"); }), HasSubstr("demo.frames"));
  EXPECT_THAT(config_error([&] { field_set_from_string(f[0], "demo.frames", "99999999999"); }),
              HasSubstr("32-bit"));
  EXPECT_THAT(config_error([&] { field_set_from_string(f[2], "demo.learning_rate", "fast"); }),
              HasSubstr("demo.learning_rate = fast: expected float"));
  EXPECT_THAT(config_error([&] { field_set_from_string(f[3], "demo.augment", "maybe"); }),
              HasSubstr("expected boolean"));
  EXPECT_THAT(config_error([&] { field_set_from_string(f[6], "demo.dilations", "[1, x]"); }),
              HasSubstr("array of integers"));
  EXPECT_EQ(c.frames, 200);  // untouched on failure
}

TEST(ConfigValidate, RangeHelpersNameKeyValueAndRule) {
  EXPECT_EQ(config_error([] { check_gt("a.b", 0, 0); }), "a.b = 0: must be > 0");
  EXPECT_EQ(config_error([] { check_ge("a.b", -1, 0); }), "a.b = -1: must be >= 0");
  EXPECT_EQ(config_error([] { check_le("a.b", 5, 4); }), "a.b = 5: must be <= 4");
  EXPECT_EQ(config_error([] { check_range("a.b", 1.5, 0.0, 1.0); }), "a.b = 1.5: must be in [0, 1]");
  EXPECT_EQ(config_error([] { check_one_of("a.w", "x", {"p", "q"}); }), "a.w = \"x\": must be one of \"p\", \"q\"");
  EXPECT_EQ(config_error([] { check_range("a.b", 0.5, 0.0, 1.0); }), "");
}

TEST(ConfigToml, AppliesValuesOfEverySection) {
  Both b;
  auto secs = b.sections();
  apply_toml(secs,
             "[demo]\nframes = 50\nlearning_rate = 1\nworld = 'contact'\nweights = [1, 2]\ndilations = [2]\n"
             "[other]\nepochs = 3\n",
             "test.toml");
  EXPECT_EQ(b.demo.frames, 50);
  EXPECT_DOUBLE_EQ(b.demo.learning_rate, 1.0);  // integer accepted for a float
  EXPECT_EQ(b.demo.world, "contact");
  EXPECT_EQ(b.demo.weights, (std::vector<double>{1.0, 2.0}));
  EXPECT_EQ(b.demo.dilations, (std::vector<int>{2}));
  EXPECT_EQ(b.other.epochs, 3);
  EXPECT_EQ(b.demo.seed, 1);  // not mentioned: default kept
}

TEST(ConfigToml, UnknownKeyIsRefusedWithDidYouMean) {
  Both b;
  auto secs = b.sections();
  const std::string msg = config_error([&] { apply_toml(secs, "[demo]\nframse = 5\n", "my.toml"); });
  EXPECT_THAT(msg, HasSubstr("my.toml:2"));
  EXPECT_THAT(msg, HasSubstr("unknown config key demo.framse"));
  EXPECT_THAT(msg, HasSubstr("did you mean 'frames'?"));
}

TEST(ConfigToml, UnknownKeyFarFromAnyHasNoSuggestionButListsKeys) {
  Both b;
  auto secs = b.sections();
  const std::string msg = config_error([&] { apply_toml(secs, "[demo]\nzzzzzz = 5\n", "my.toml"); });
  EXPECT_THAT(msg, HasSubstr("unknown config key demo.zzzzzz"));
  EXPECT_THAT(msg, Not(HasSubstr("did you mean")));
  EXPECT_THAT(msg, HasSubstr("keys of [demo]: frames, seed"));
}

TEST(ConfigToml, UnknownSectionIsRefusedWithDidYouMean) {
  Both b;
  auto secs = b.sections();
  const std::string msg = config_error([&] { apply_toml(secs, "[othr]\nepochs = 5\n", "my.toml"); });
  EXPECT_THAT(msg, HasSubstr("unknown config section [othr]"));
  EXPECT_THAT(msg, HasSubstr("did you mean 'other'?"));
}

TEST(ConfigToml, TopLevelKeyPointsToItsSection) {
  Both b;
  auto secs = b.sections();
  const std::string msg = config_error([&] { apply_toml(secs, "epochs = 5\n", "my.toml"); });
  EXPECT_THAT(msg, HasSubstr("'epochs' is outside any [section]"));
  EXPECT_THAT(msg, HasSubstr("put it under [other]"));
}

TEST(ConfigToml, WrongTypeIsRefusedNamingKeyAndTypes) {
  Both b;
  auto secs = b.sections();
  EXPECT_THAT(config_error([&] { apply_toml(secs, "[demo]\nframes = \"many\"\n", "f.toml"); }),
              HasSubstr("f.toml:2: demo.frames: expected integer, got string"));
  EXPECT_THAT(config_error([&] { apply_toml(secs, "[demo]\nframes = 2.5\n", "f.toml"); }),
              HasSubstr("demo.frames: expected integer, got float"));
  EXPECT_THAT(config_error([&] { apply_toml(secs, "[demo]\naugment = 1\n", "f.toml"); }),
              HasSubstr("demo.augment: expected boolean, got integer"));
  EXPECT_THAT(config_error([&] { apply_toml(secs, "[demo]\nweights = [1, 'a']\n", "f.toml"); }),
              HasSubstr("demo.weights: expected array of floats"));
  EXPECT_THAT(config_error([&] { apply_toml(secs, "[demo]\nframes = 3000000000\n", "f.toml"); }),
              HasSubstr("demo.frames = 3000000000: out of range"));
}

TEST(ConfigToml, OutOfRangeIsRefusedByValidateNamingKey) {
  Both b;
  auto secs = b.sections();
  apply_toml(secs, "[demo]\nframes = -3\n", "f.toml");
  EXPECT_EQ(config_error([&] { validate_all(secs); }), "demo.frames = -3: must be > 0");
  b.demo.frames = 1;
  apply_toml(secs, "[other]\nepochs = 0\n", "f.toml");
  EXPECT_EQ(config_error([&] { validate_all(secs); }), "other.epochs = 0: must be > 0");
}

TEST(ConfigToml, InvalidTomlSyntaxNamesFileAndLine) {
  Both b;
  auto secs = b.sections();
  const std::string msg = config_error([&] { apply_toml(secs, "[demo]\nframes = = 3\n", "bad.toml"); });
  EXPECT_THAT(msg, HasSubstr("bad.toml:2:"));
  EXPECT_THAT(msg, HasSubstr("invalid TOML"));
}

TEST(ConfigToml, MissingFileIsAnIoError) {
  Both b;
  auto secs = b.sections();
  EXPECT_THROW(apply_toml_file(secs, "/nonexistent/dir/x.toml"), IoError);
}

TEST(ConfigToml, RoundTripThroughTomlRestoresEveryValue) {
  Both a;
  a.demo.frames = 7;
  a.demo.seed = 123456789012345LL;
  a.demo.learning_rate = 0.1 + 0.2;  // needs 17 significant digits
  a.demo.augment = false;
  a.demo.world = "with \"quotes\"\nand newline";
  a.demo.weights = {1e-300, -2.5, 1e20};
  a.demo.dilations = {};
  a.other.epochs = 99;
  const std::string text = to_toml(a.sections());
  EXPECT_THAT(text, HasSubstr("[demo]\n# number of frames\nframes = 7\n"));

  Both b;
  auto secs = b.sections();
  apply_toml(secs, text, "roundtrip");
  EXPECT_EQ(b.demo.frames, a.demo.frames);
  EXPECT_EQ(b.demo.seed, a.demo.seed);
  EXPECT_EQ(b.demo.learning_rate, a.demo.learning_rate);  // bit-exact
  EXPECT_EQ(b.demo.augment, a.demo.augment);
  EXPECT_EQ(b.demo.world, a.demo.world);
  EXPECT_EQ(b.demo.weights, a.demo.weights);
  EXPECT_EQ(b.demo.dilations, a.demo.dilations);
  EXPECT_EQ(b.other.epochs, a.other.epochs);
  EXPECT_EQ(to_toml(b.sections()), text);
  EXPECT_EQ(to_toml(b.sections(), false).find('#'), std::string::npos);
}

TEST(ConfigToml, FileRoundTrip) {
  test::TempDir dir;
  Both a;
  a.demo.frames = 31;
  const auto file = dir.write("c.toml", to_toml(a.sections()));
  Both b;
  auto secs = b.sections();
  apply_toml_file(secs, file);
  EXPECT_EQ(b.demo.frames, 31);
}

TEST(ConfigSet, OverridesApplyInOrderAndLast) {
  Both b;
  auto secs = b.sections();
  apply_toml(secs, "[demo]\nframes = 50\n", "f.toml");
  apply_sets(secs, {"demo.frames=60", "other.epochs = 4", "demo.world=neutral", "demo.frames=70",
                    "demo.weights=[3,4]"});
  EXPECT_EQ(b.demo.frames, 70);
  EXPECT_EQ(b.other.epochs, 4);
  EXPECT_EQ(b.demo.world, "neutral");
  EXPECT_EQ(b.demo.weights, (std::vector<double>{3.0, 4.0}));
}

TEST(ConfigSet, BadOverridesAreRefusedNamingTheKey) {
  Both b;
  auto secs = b.sections();
  EXPECT_THAT(config_error([&] { apply_set(secs, "demo.frame=3"); }),
              HasSubstr("unknown config key demo.frame (did you mean 'frames'?)"));
  EXPECT_THAT(config_error([&] { apply_set(secs, "dmeo.frames=3"); }), HasSubstr("did you mean 'demo'?"));
  EXPECT_THAT(config_error([&] { apply_set(secs, "demo.frames=abc"); }),
              HasSubstr("demo.frames = abc: expected integer"));
  EXPECT_THAT(config_error([&] { apply_set(secs, "frames=3"); }), HasSubstr("expected section.key=value"));
  EXPECT_THAT(config_error([&] { apply_set(secs, "demo.frames"); }), HasSubstr("expected section.key=value"));
  EXPECT_THAT(config_error([&] { apply_set(secs, "demo.epochs=3"); }), HasSubstr("'epochs' is a key of [other]"));
}

TEST(ConfigSuggest, EditDistanceAndClosestMatch) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("framse", "frames"), 1u);  // adjacent swap
  EXPECT_EQ(closest_match("learing_rate", {"learning_rate", "batch_size"}), "learning_rate");
  EXPECT_EQ(closest_match("epoch", {"epochs", "seed"}), "epochs");
  EXPECT_EQ(closest_match("xyz", {"epochs", "seed"}), "");
  EXPECT_EQ(closest_match("lat", {"latent_dims"}), "latent_dims");  // prefix
}

TEST(ConfigPeek, ReadsAStringWithoutApplying) {
  EXPECT_EQ(peek_toml_string("[run]\npreset = 'tiny'\n", "f", "run", "preset"), "tiny");
  EXPECT_EQ(peek_toml_string("[run]\nseed = 2\n", "f", "run", "preset"), "");
}

// A key declared once: its rule is checked, shown in help and in the key reference.
struct Declared {
  static constexpr const char* kSection = "decl";
  int frames = 10;
  double rate = 0.5;
  std::string mode = "a";
  int threads = 0;
  std::vector<int> sizes = {1, 2};
  template <class V>
  void visit(V& v) {
    v("frames", frames, "frames", above(0));
    v("rate", rate, "rate", in_range(0.0, 1.0));
    v("mode", mode, "mode", one_of({"a", "b"}));
    v("threads", threads, "worker threads", at_least(0), speed_only);
    v("sizes", sizes, "sizes", at_least(1));
  }
  void validate() const { check_fields(*this); }
};

TEST(ConfigDeclaration, RulesAreCheckedNamingTheKey) {
  Declared d;
  EXPECT_NO_THROW(d.validate());
  d.frames = 0;
  EXPECT_EQ(config_error([&] { d.validate(); }), "decl.frames = 0: must be > 0");
  d = Declared{};
  d.rate = 1.5;
  EXPECT_EQ(config_error([&] { d.validate(); }), "decl.rate = 1.5: must be in [0, 1]");
  d = Declared{};
  d.mode = "c";
  EXPECT_EQ(config_error([&] { d.validate(); }), "decl.mode = \"c\": must be one of \"a\", \"b\"");
  d = Declared{};
  d.sizes = {1, 0};
  EXPECT_EQ(config_error([&] { d.validate(); }), "decl.sizes = 0: must be >= 1");
}

TEST(ConfigDeclaration, HelpAndReferenceShowRuleAndSpeedOnly) {
  Declared d;
  const auto fields = fields_of(d);
  ASSERT_EQ(fields.size(), 5u);
  EXPECT_EQ(field_help(fields[1]), "rate [in [0, 1]]");
  EXPECT_FALSE(fields[0].speed_only);
  EXPECT_TRUE(fields[3].speed_only);
  EXPECT_THAT(field_help(fields[3]), HasSubstr("(speed only"));
  const std::string md = config_keys_markdown({make_section(d)});
  EXPECT_THAT(md, HasSubstr("| `decl.mode` | `\"a\"` | one of: a \\| b | results | mode |"));
  EXPECT_THAT(md, HasSubstr("| `decl.threads` | `0` | >= 0 | speed | worker threads |"));
}

}  // namespace
}  // namespace taupe
