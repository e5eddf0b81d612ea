#include "taupe/io/npz.h"

#include <zip.h>

#include <cstdio>
#include <memory>
#include <set>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"

namespace taupe::io {
namespace {

[[noreturn]] void fail(const std::string& where, const std::string& rule) {
  throw DataError(where + ": " + rule);
}

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

constexpr time_t kFixedMtime = 315576000;   // 1980-01-02: reproducible archives

}  // namespace

NpzArrays parse_npz(const std::uint8_t* data, std::size_t n, const std::string& where,
                    const NpzReadOptions& opts) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(data, n, 0, &err);
  if (!src) {
    zip_error_fini(&err);
    fail(where, "cannot read as a zip archive");
  }
  zip_t* raw = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (!raw) {
    zip_source_free(src);
    const std::string why = zip_error_strerror(&err);
    zip_error_fini(&err);
    fail(where, "not a valid .npz (zip) archive: " + why);
  }
  zip_error_fini(&err);
  std::unique_ptr<zip_t, ZipCloser> za(raw);

  const zip_int64_t count = zip_get_num_entries(za.get(), 0);
  if (count < 0) fail(where, "cannot list the zip archive");
  if (static_cast<std::size_t>(count) > opts.max_members)
    fail(where, "archive has " + std::to_string(count) + " members (limit " + std::to_string(opts.max_members) + ")");
  NpzArrays out;
  std::size_t total = 0;
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME))
      fail(where, "member #" + std::to_string(i) + ": unreadable zip directory entry");
    const std::string name = st.name;
    const std::string mwhere = where + ": member '" + name + "'";
    if (name.size() < 5 || name.compare(name.size() - 4, 4, ".npy") != 0)
      fail(mwhere, "not a .npy member (expected '<key>.npy')");
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
      fail(mwhere, "encrypted members are not supported");
    if (!(st.valid & ZIP_STAT_COMP_METHOD) ||
        (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE))
      fail(mwhere, "compression method " + std::to_string(st.comp_method) + " is not supported (stored or deflate only)");
    if (!(st.valid & ZIP_STAT_SIZE)) fail(mwhere, "unknown uncompressed size");
    if (st.size > opts.max_total_bytes || total + st.size > opts.max_total_bytes)
      fail(mwhere, "uncompressed size exceeds the limit of " + std::to_string(opts.max_total_bytes) + " bytes");
    total += static_cast<std::size_t>(st.size);
    const std::string key = name.substr(0, name.size() - 4);
    if (out.count(key)) fail(mwhere, "duplicate member name");

    std::unique_ptr<zip_file_t, ZipFileCloser> f(zip_fopen_index(za.get(), static_cast<zip_uint64_t>(i), 0));
    if (!f) fail(mwhere, std::string("cannot open: ") + zip_strerror(za.get()));
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(st.size));
    std::size_t got = 0;
    while (got < buf.size()) {
      const zip_int64_t r = zip_fread(f.get(), buf.data() + got, buf.size() - got);
      if (r < 0) fail(mwhere, std::string("corrupt member data: ") + zip_file_strerror(f.get()));
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    if (got != buf.size())
      fail(mwhere, "member data shorter than its directory entry (" + std::to_string(got) + " of " +
                       std::to_string(buf.size()) + " bytes)");
    std::uint8_t extra = 0;
    if (zip_fread(f.get(), &extra, 1) != 0) fail(mwhere, "member data longer than its directory entry");
    out.emplace(key, parse_npy(buf.data(), buf.size(), mwhere, opts.npy));
  }
  return out;
}

NpzArrays read_npz(const std::filesystem::path& path, const NpzReadOptions& opts) {
  const std::string bytes = read_text_file(path);
  return parse_npz(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), path.string(), opts);
}

std::string serialize_npz(const NpzArrays& arrays, bool compress) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* buf = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (!buf) throw IoError("npz writer: cannot create an in-memory zip buffer");
  zip_t* za = zip_open_from_source(buf, ZIP_TRUNCATE, &err);
  if (!za) {
    zip_source_free(buf);
    const std::string why = zip_error_strerror(&err);
    zip_error_fini(&err);
    throw IoError("npz writer: cannot create archive: " + why);
  }
  zip_error_fini(&err);
  zip_source_keep(buf);
  std::vector<std::string> payloads;   // must outlive zip_close
  payloads.reserve(arrays.size());
  auto abort_with = [&](const std::string& msg) {
    zip_discard(za);
    zip_source_free(buf);
    throw IoError("npz writer: " + msg);
  };
  for (const auto& [key, arr] : arrays) {
    payloads.push_back(serialize_npy(arr));
    const std::string name = key + ".npy";
    zip_source_t* s = zip_source_buffer(za, payloads.back().data(), payloads.back().size(), 0);
    if (!s) abort_with("cannot add member '" + name + "'");
    const zip_int64_t idx = zip_file_add(za, name.c_str(), s, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(s);
      abort_with("cannot add member '" + name + "': " + zip_strerror(za));
    }
    const auto u = static_cast<zip_uint64_t>(idx);
    if (zip_set_file_compression(za, u, compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, compress ? 6 : 0) != 0 ||
        zip_file_set_mtime(za, u, kFixedMtime, 0) != 0)
      abort_with("cannot set attributes of member '" + name + "'");
  }
  if (zip_close(za) != 0) {
    const std::string why = zip_strerror(za);
    zip_discard(za);
    zip_source_free(buf);
    throw IoError("npz writer: cannot finish archive: " + why);
  }
  std::string out;
  if (zip_source_open(buf) != 0) {
    zip_source_free(buf);
    throw IoError("npz writer: cannot read back the in-memory archive");
  }
  char chunk[65536];
  zip_int64_t r;
  while ((r = zip_source_read(buf, chunk, sizeof chunk)) > 0) out.append(chunk, static_cast<std::size_t>(r));
  zip_source_close(buf);
  zip_source_free(buf);
  if (r < 0) throw IoError("npz writer: cannot read back the in-memory archive");
  return out;
}

void write_npz(const std::filesystem::path& path, const NpzArrays& arrays, bool compress) {
  write_text_atomic(path, serialize_npz(arrays, compress));
}

const NpyArray& npz_member(const NpzArrays& arrays, const std::string& key, const std::string& where) {
  auto it = arrays.find(key);
  if (it == arrays.end()) fail(where, "member '" + key + ".npy': missing (required field)");
  return it->second;
}

}  // namespace taupe::io
