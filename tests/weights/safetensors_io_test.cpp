// Writer + reader round trips, the reference weights file, and the writer's atomicity.

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> folder_listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& item : std::filesystem::directory_iterator(dir)) {
    names.push_back(item.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

::testing::AssertionResult bytes_equal(const at::Tensor& actual, const at::Tensor& expected) {
  if (actual.scalar_type() != expected.scalar_type()) {
    return ::testing::AssertionFailure()
           << "dtype " << actual.scalar_type() << " != " << expected.scalar_type();
  }
  if (actual.sizes() != expected.sizes()) {
    return ::testing::AssertionFailure()
           << "shape " << actual.sizes() << " != " << expected.sizes();
  }
  at::Tensor a = actual.contiguous();
  at::Tensor e = expected.contiguous();
  if (a.nbytes() != e.nbytes() ||
      (a.nbytes() > 0 && std::memcmp(a.data_ptr(), e.data_ptr(), a.nbytes()) != 0)) {
    return ::testing::AssertionFailure() << "bytes differ";
  }
  return ::testing::AssertionSuccess();
}

TEST(SafetensorsRoundTrip, EveryDtypeAndMetadataIsByteExact) {
  at::manual_seed(7);
  std::vector<std::pair<std::string, at::Tensor>> tensors = {
      {"f32", at::randn({3, 5})},
      {"f16", at::randn({4}).to(at::kHalf)},
      // Three bytes, so every tensor after it starts at an unaligned file offset.
      {"odd_u8", at::tensor({1, 2, 3}, at::kByte)},
      {"bf16", at::randn({2, 3}).to(at::kBFloat16)},
      {"f8_e4m3", at::randn({7}).to(at::kFloat8_e4m3fn)},
      {"i64", at::tensor({int64_t{1} << 60, int64_t{-5}, int64_t{0}, int64_t{42}}).view({2, 2})},
      {"i32", at::tensor({-7, 0, 2147483647}, at::kInt)},
      {"u8", at::arange(256, at::kByte).view({16, 16})},
      {"bool", at::rand({3, 3}) > 0.5},
      {"empty", at::empty({0, 4})},
      {"scalar", at::scalar_tensor(3.5, at::kFloat)},
      {"transposed", at::randn({3, 4}).t()},
  };
  std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "caf\xc3\xa9"}};
  std::filesystem::path path = test::scratch_dir("round_trip") / "all.safetensors";
  write_safetensors(path, tensors, metadata);

  auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file->metadata(), metadata);
  ASSERT_EQ(file->tensors().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, expected] = tensors[i];
    SCOPED_TRACE(name);
    EXPECT_EQ(file->tensors()[i].name, name);  // written in the order given
    ASSERT_TRUE(file->contains(name));
    at::Tensor loaded = file->load(name);
    EXPECT_TRUE(loaded.is_contiguous());
    EXPECT_TRUE(bytes_equal(loaded, expected));
  }
  EXPECT_EQ(file->find("absent"), nullptr);
}

TEST(SafetensorsRoundTrip, HeaderIsPaddedWithSpacesToEightBytes) {
  std::filesystem::path path = test::scratch_dir("padding") / "padded.safetensors";
  write_safetensors(path, {{"x", at::ones({3}, at::kByte)}});
  std::string bytes = read_bytes(path);
  ASSERT_GE(bytes.size(), 8u);
  uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | static_cast<uint8_t>(bytes[i]);
  EXPECT_EQ((8 + header_bytes) % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + header_bytes + 3);
  std::string header = bytes.substr(8, header_bytes);
  EXPECT_EQ(header.front(), '{');
  EXPECT_EQ(header.substr(header.find_last_of('}') + 1).find_first_not_of(' '), std::string::npos);
}

TEST(SafetensorsRoundTrip, EmptyFileHoldsOnlyMetadata) {
  std::filesystem::path path = test::scratch_dir("empty") / "empty.safetensors";
  write_safetensors(path, {}, {{"k", "v"}});
  auto file = SafetensorsFile::open(path);
  EXPECT_TRUE(file->tensors().empty());
  EXPECT_EQ(file->metadata().at("k"), "v");
}

TEST(SafetensorsReference, WanDitTinyMatchesItsHeader) {
  std::filesystem::path path = test::testvector("wan/wan_dit_tiny.weights.safetensors");
  auto file = SafetensorsFile::open(path);

  // An independent reading of the header with plain nlohmann-json.
  std::string bytes = read_bytes(path);
  uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | static_cast<uint8_t>(bytes[i]);
  auto header = nlohmann::json::parse(bytes.substr(8, header_bytes));
  header.erase("__metadata__");
  ASSERT_EQ(file->tensors().size(), header.size());
  for (const TensorEntry& entry : file->tensors()) {
    SCOPED_TRACE(entry.name);
    ASSERT_TRUE(header.contains(entry.name));
    const auto& json_entry = header[entry.name];
    EXPECT_EQ(json_entry["dtype"].get<std::string>(), weight_dtype_name(entry.dtype));
    EXPECT_EQ(json_entry["shape"].get<std::vector<int64_t>>(), entry.shape);
    EXPECT_EQ(json_entry["data_offsets"][0].get<uint64_t>(), entry.data_begin);
    EXPECT_EQ(json_entry["data_offsets"][1].get<uint64_t>(), entry.data_end);
  }

  const std::string name = "blocks.0.cross_attn.k.weight";
  at::Tensor weight = file->load(name);
  EXPECT_EQ(weight.scalar_type(), at::kFloat);
  EXPECT_EQ(weight.sizes().vec(), header[name]["shape"].get<std::vector<int64_t>>());
  uint64_t begin = 8 + header_bytes + header[name]["data_offsets"][0].get<uint64_t>();
  ASSERT_EQ(std::memcmp(weight.data_ptr(), bytes.data() + begin, weight.nbytes()), 0);
}

TEST(SafetensorsFileErrors, OpenAndLoadFailuresNameTheFile) {
  std::filesystem::path dir = test::scratch_dir("open_errors");
  try {
    SafetensorsFile::open(dir / "missing.safetensors");
    FAIL() << "opened a missing file";
  } catch (const WeightsError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos) << e.what();
  }

  std::filesystem::create_directory(dir / "folder.safetensors");
  try {
    SafetensorsFile::open(dir / "folder.safetensors");
    FAIL() << "opened a folder";
  } catch (const WeightsError& e) {
    EXPECT_NE(std::string(e.what()).find("folder.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("folder"), std::string::npos) << e.what();
  }

  ASSERT_EQ(::mkfifo((dir / "pipe.safetensors").c_str(), 0600), 0);
  try {
    SafetensorsFile::open(dir / "pipe.safetensors");
    FAIL() << "opened a FIFO";
  } catch (const WeightsError& e) {
    EXPECT_NE(std::string(e.what()).find("pipe.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }

  write_safetensors(dir / "ok.safetensors", {{"x", at::zeros({2})}});
  auto file = SafetensorsFile::open(dir / "ok.safetensors");
  try {
    file->load("no.such.tensor");
    FAIL() << "loaded an absent tensor";
  } catch (const WeightsError& e) {
    EXPECT_NE(std::string(e.what()).find("ok.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no.such.tensor"), std::string::npos) << e.what();
  }
}

// A model file replaced or cut short during a long load (cp or curl -o over it): reading a mapping
// past the new end raised SIGBUS and ended the process (the studio with it); a rewrite in place
// would have mixed two files' tensors. Both are refused at the next load, naming the file.
TEST(SafetensorsFileErrors, AFileChangedDuringTheLoadIsRefused) {
  const std::filesystem::path dir = test::scratch_dir("changed_during_load");
  const at::Tensor a = at::arange(1 << 16, at::kFloat), b = at::arange(1 << 16, at::kFloat) * 2;
  for (const bool truncate : {true, false}) {
    const std::filesystem::path path = dir / (truncate ? "cut.safetensors" : "rewritten.safetensors");
    write_safetensors(path, {{"a", a}, {"b", b}});
    auto file = SafetensorsFile::open(path);
    EXPECT_TRUE(at::equal(file->load("a"), a));
    if (truncate) {
      std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
    } else {  // the same size, new content and a new modification time
      std::filesystem::last_write_time(path, std::filesystem::last_write_time(path) + std::chrono::seconds(5));
    }
    try {
      file->load("b");
      ADD_FAILURE() << "loaded from a changed file";
    } catch (const WeightsError& e) {
      EXPECT_NE(std::string(e.what()).find(path.filename().string()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("Do not replace model files during a load"), std::string::npos) << e.what();
    }
  }
}

TEST(SafetensorsFileErrors, UnreadableFileNamesTheFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files whatever their permissions";
  std::filesystem::path path = test::scratch_dir("unreadable") / "locked.safetensors";
  write_safetensors(path, {{"x", at::zeros({2})}});
  std::filesystem::permissions(path, std::filesystem::perms::none);
  try {
    SafetensorsFile::open(path);
    FAIL() << "opened an unreadable file";
  } catch (const WeightsError& e) {
    EXPECT_NE(std::string(e.what()).find("locked.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("permission denied"), std::string::npos) << e.what();
  }
}

TEST(SafetensorsWriter, RejectedWriteLeavesNoFileBehind) {
  std::filesystem::path dir = test::scratch_dir("writer_reject");
  try {
    write_safetensors(dir / "new.safetensors",
                      {{"ok", at::zeros({2})}, {"d", at::zeros({2}, at::kDouble)}});
    FAIL() << "wrote a float64 tensor";
  } catch (const WeightsError& e) {
    EXPECT_NE(std::string(e.what()).find("new.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'d'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Double"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(folder_listing(dir).empty());

  try {
    write_safetensors(dir / "dup.safetensors", {{"w", at::zeros({2})}, {"w", at::ones({2})}});
    FAIL() << "wrote two tensors named w";
  } catch (const WeightsError& e) {
    EXPECT_NE(std::string(e.what()).find("'w' appears twice"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(folder_listing(dir).empty());
}

TEST(SafetensorsWriter, FailedWriteKeepsTheExistingFile) {
  std::filesystem::path dir = test::scratch_dir("writer_keep");
  std::filesystem::path path = dir / "model.safetensors";
  write_safetensors(path, {{"x", at::arange(4, at::kFloat)}});
  std::string before = read_bytes(path);

  EXPECT_THROW(write_safetensors(path, {{"x", at::zeros({2}, at::kComplexFloat)}}), WeightsError);
  // A tensor without data fails only while the bytes are written, after the temp file exists.
  EXPECT_ANY_THROW(
      write_safetensors(path, {{"x", at::zeros({2})}, {"m", at::empty({3}, at::kMeta)}}));

  EXPECT_EQ(folder_listing(dir), std::vector<std::string>{"model.safetensors"});
  EXPECT_EQ(read_bytes(path), before);
}

}  // namespace
}  // namespace svgear
