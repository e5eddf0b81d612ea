// Verified artifacts: SHA-256 against the FIPS 180-2 test vectors; RunDir records the files under
// each finished stage's artifacts, and a flipped byte, a truncation or a deletion is reported by
// verify_stage / verify_run_dir.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "taupe/core/artifacts.h"
#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/run_dir.h"

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace taupe {
namespace {

TEST(Sha256, MatchesTheStandardTestVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  test::TempDir tmp;
  // 1,000,000 x 'a' spans several read buffers of the file hash.
  EXPECT_EQ(sha256_file(tmp.write("a.txt", std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_THROW(sha256_file(tmp / "missing"), IoError);
}

void flip_byte(const fs::path& f, std::streamoff at) {
  std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
  io.seekg(at);
  char c = 0;
  io.get(c);
  io.seekp(at);
  io.put(static_cast<char>(c ^ 0x01));
}

RunDirOptions quiet_options() {
  RunDirOptions o;
  o.log_to_file = false;
  o.resume = true;
  return o;
}

TEST(RunDirFiles, EachStageRecordsItsArtifactsAndVerifiesThem) {
  test::TempDir tmp;
  const fs::path dir = tmp / "run";
  {
    RunDir rd(dir, quiet_options());
    rd.stage_begin("a");
    write_text_atomic(dir / "a.txt", "alpha");
    write_text_atomic(dir / "other.txt", "not an artifact of a");
    rd.stage_end("a", StageStatus::kDone, {dir / "a.txt", dir / "absent.txt"});
    rd.stage_begin("b");
    write_text_atomic(dir / "sub" / "b.bin", std::string(100, 'b'));
    write_text_atomic(dir / "sub" / "deep" / "c.json", "{}");
    write_text_atomic(dir / "sub" / "gone.tmp.99999999", "temporary");  // temporaries are never recorded
    rd.stage_end("b", StageStatus::kDone, {dir / "sub"});
    rd.stage_begin("c");
    rd.stage_end("c", StageStatus::kFailed, {dir / "other.txt"});
    rd.finish(false);
    const json m = rd.manifest();
    const json& fa = m["stages"][0]["files"];
    const json& fb = m["stages"][1]["files"];
    EXPECT_EQ(fa.size(), 1u);
    EXPECT_EQ(fa["a.txt"]["size"], 5);
    EXPECT_EQ(fa["a.txt"]["sha256"], sha256_hex("alpha"));
    EXPECT_EQ(fb.size(), 2u);
    EXPECT_EQ(fb["sub/b.bin"]["size"], 100);
    EXPECT_TRUE(fb.contains("sub/deep/c.json"));
    EXPECT_FALSE(m["stages"][2].contains("files"));  // only finished stages are recorded
    EXPECT_TRUE(rd.verify_stage("a").empty());
    EXPECT_TRUE(rd.verify_stage("b").empty());
  }
  // Reopened (as `taupe run` does): the records are read back and checked against the files.
  flip_byte(dir / "sub" / "b.bin", 50);
  RunDir rd(dir, quiet_options());
  EXPECT_TRUE(rd.verify_stage("a").empty());
  EXPECT_THAT(rd.verify_stage("b"), ElementsAre("sub/b.bin: content changed (SHA-256 differs)"));
  write_text_atomic(dir / "a.txt", "alph");
  EXPECT_THAT(rd.verify_stage("a"), ElementsAre("a.txt: size 4 bytes, recorded 5"));
  fs::remove(dir / "a.txt");
  EXPECT_THAT(rd.verify_stage("a"), ElementsAre("a.txt: missing"));
  EXPECT_THAT(rd.verify_stage("never"), ElementsAre(HasSubstr("no file records")));
}

TEST(RunDirFiles, RelativeRunDirectoryRecordsPathsRelativeToIt) {
  test::TempDir tmp;
  const fs::path cwd = fs::current_path();
  fs::current_path(tmp.path());
  {
    RunDir rd("rel/run", quiet_options());
    rd.stage_begin("a");
    write_text_atomic(fs::path("rel/run/model/x.pt"), "weights");
    rd.stage_end("a", StageStatus::kDone, {fs::path("rel/run/model")});
    EXPECT_TRUE(rd.manifest()["stages"][0]["files"].contains("model/x.pt"));
    EXPECT_TRUE(rd.verify_stage("a").empty());
    rd.finish(true);
  }
  fs::current_path(cwd);
}

TEST(RunDirFiles, VerifyRunDirListsEveryStage) {
  test::TempDir tmp;
  const fs::path dir = tmp / "run";
  {
    RunDir rd(dir, quiet_options());
    rd.stage_begin("a");
    write_text_atomic(dir / "a.txt", "alpha");
    rd.stage_end("a", StageStatus::kDone, {dir / "a.txt"});
    rd.stage_begin("b");
    rd.finish(false);
  }
  auto r = verify_run_dir(dir);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r["a"].empty());
  EXPECT_THAT(r["b"], ElementsAre(HasSubstr("not finished (status failed)")));
  flip_byte(dir / "a.txt", 0);
  r = verify_run_dir(dir);
  EXPECT_THAT(r["a"], ElementsAre("a.txt: content changed (SHA-256 differs)"));
}

}  // namespace
}  // namespace taupe
