// File records and verification (artifacts.h); SHA-256 from OpenSSL's EVP interface.
#include "taupe/core/artifacts.h"

#include <openssl/evp.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace taupe {
namespace {

struct Sha256 {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
  Sha256() {
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) throw Error("OpenSSL: cannot start SHA-256");
  }
  void update(const void* p, std::size_t n) { EVP_DigestUpdate(ctx.get(), p, n); }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    std::string out;
    char b[3];
    for (unsigned int i = 0; i < len; ++i) {
      std::snprintf(b, sizeof b, "%02x", md[i]);
      out += b;
    }
    return out;
  }
};

}  // namespace

std::string sha256_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw IoError("cannot read " + file.string() + " to hash it");
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw IoError("error while reading " + file.string() + " to hash it");
  return h.hex();
}

std::string sha256_hex(const std::string& data) {
  Sha256 h;
  h.update(data.data(), data.size());
  return h.hex();
}

json record_files(const fs::path& root, const std::vector<fs::path>& paths) {
  json out = json::object();
  const fs::path base = fs::absolute(root).lexically_normal();
  auto add = [&](const fs::path& f) {
    if (is_temporary_name(f.filename().string())) return;
    std::error_code ec;
    const auto size = fs::file_size(f, ec);
    if (ec) throw IoError("cannot read " + f.string() + ": " + ec.message());
    out[fs::absolute(f).lexically_normal().lexically_relative(base).generic_string()] = json{{"size", size}, {"sha256", sha256_file(f)}};
  };
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) {
      add(p);
    } else if (fs::is_directory(p, ec)) {
      for (fs::recursive_directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec) && !it->is_symlink(ec)) add(it->path());
    }
  }
  return out;
}

std::vector<std::string> verify_files(const fs::path& root, const json& records) {
  std::vector<std::string> problems;
  if (!records.is_object()) return problems;
  for (const auto& [rel, rec] : records.items()) {
    const fs::path f = root / rel;
    std::error_code ec;
    if (!fs::is_regular_file(f, ec)) {
      problems.push_back(rel + ": missing");
      continue;
    }
    const auto size = fs::file_size(f, ec);
    const auto want = rec.value("size", static_cast<std::uintmax_t>(0));
    if (ec || size != want) {
      problems.push_back(rel + ": size " + std::to_string(size) + " bytes, recorded " + std::to_string(want));
      continue;
    }
    std::string hash;
    try {
      hash = sha256_file(f);
    } catch (const IoError& e) {
      problems.push_back(rel + ": unreadable");
      continue;
    }
    if (hash != rec.value("sha256", "")) problems.push_back(rel + ": content changed (SHA-256 differs)");
  }
  return problems;
}

}  // namespace taupe
