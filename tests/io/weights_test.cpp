// Language-neutral weight files: named float32 arrays with shapes round-trip exactly.
#include <gtest/gtest.h>

#include "io_test_util.h"
#include "taupe/io/weights.h"

namespace taupe::io {
namespace {

TEST(Weights, RoundTripNamesShapesValues) {
  testing::TempDir dir("weights");
  std::vector<NamedArray> in;
  in.push_back({"encoder", "blocks.0.conv.weight", {8, 2, 3, 3}, std::vector<float>(8 * 2 * 9, 0.25f), "float32"});
  in.push_back({"encoder", "blocks.0.bn.num_batches_tracked", {}, {12.f}, "int64"});
  in.push_back({"temporal/fold_00", "head_w1", {3, 2}, {1, 2, 3, 4, 5, 6}, "float32"});
  in.push_back({"pca", "mean", {2}, {0.5f, -1.5f}, "float64"});
  write_weights_h5(dir / "w.h5", in);
  const auto out = read_weights_h5(dir / "w.h5");
  ASSERT_EQ(out.size(), in.size());
  for (const auto& want : in) {
    auto it = std::find_if(out.begin(), out.end(), [&](const NamedArray& a) { return a.group == want.group && a.name == want.name; });
    ASSERT_NE(it, out.end()) << want.group << "/" << want.name;
    EXPECT_EQ(it->shape, want.shape);
    EXPECT_EQ(it->values, want.values);
    EXPECT_EQ(it->dtype, want.dtype);
  }
  testing::expect_error<DataError>(
      [&] { write_weights_h5(dir / "bad.h5", {{"encoder", "x", {2, 2}, {1, 2, 3}, "float32"}}); },
      (dir / "bad.h5").string() + ": tensor 'encoder/x': 3 values do not fill its shape");
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.h5"));
}

TEST(Weights, GroupRecordsRoundTripAndNeedTheirGroup) {
  testing::TempDir dir("weights_meta");
  const std::vector<NamedArray> in{{"temporal/fold_00", "head_b2", {3}, {1, 2, 3}, "float32"},
                                   {"pca", "mean", {1}, {0.5f}, "float64"}};
  write_weights_h5(dir / "w.h5", in, {{"temporal/fold_00", R"({"max_len":128})"}});
  const auto meta = read_weights_meta(dir / "w.h5");
  ASSERT_EQ(meta.size(), 1u);
  EXPECT_EQ(meta[0].group, "temporal/fold_00");
  EXPECT_EQ(meta[0].json, R"({"max_len":128})");
  testing::expect_error<DataError>([&] { write_weights_h5(dir / "bad.h5", in, {{"temporal/fold_01", "{}"}}); },
                                   (dir / "bad.h5").string() + ": record for group 'temporal/fold_01': the group holds no tensor");
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.h5"));
}

}  // namespace
}  // namespace taupe::io
