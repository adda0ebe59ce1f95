// Hostile and broken files: every one must be refused with a WeightsError that names the file and,
// where there is one, the tensor.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <initializer_list>

#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

// [u64 little-endian length][header][data_bytes zero bytes]
std::string make_file(std::string_view header, size_t data_bytes, uint64_t claimed_length) {
  std::string out;
  for (int i = 0; i < 8; ++i) out += static_cast<char>((claimed_length >> (8 * i)) & 0xFF);
  out += header;
  out.append(data_bytes, '\0');
  return out;
}

std::string make_file(std::string_view header, size_t data_bytes = 0) {
  return make_file(header, data_bytes, header.size());
}

class MalformedSafetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::scratch_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  std::filesystem::path write(const std::string& file_name, std::string_view bytes) {
    std::filesystem::path path = dir_ / file_name;
    std::ofstream(path, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  // Opens `bytes` saved as `file_name`; succeeds when that throws a WeightsError whose message
  // holds the file name and every fragment.
  ::testing::AssertionResult rejected(const std::string& file_name, std::string_view bytes,
                                      std::initializer_list<std::string_view> fragments) {
    return rejected_path(write(file_name, bytes), fragments);
  }

  ::testing::AssertionResult rejected_path(const std::filesystem::path& path,
                                           std::initializer_list<std::string_view> fragments) {
    try {
      SafetensorsFile::open(path);
    } catch (const WeightsError& e) {
      std::string message = e.what();
      if (message.find(path.filename().string()) == std::string::npos) {
        return ::testing::AssertionFailure() << "no file name in: " << message;
      }
      for (std::string_view fragment : fragments) {
        if (message.find(fragment) == std::string::npos) {
          return ::testing::AssertionFailure() << "no '" << fragment << "' in: " << message;
        }
      }
      return ::testing::AssertionSuccess() << message;
    }
    return ::testing::AssertionFailure() << "the file was accepted";
  }

  std::filesystem::path dir_;
};

constexpr const char* kCorrupt = "truncated or corrupt: download or copy it again";

TEST_F(MalformedSafetensors, FileShorterThanTheLengthField) {
  EXPECT_TRUE(rejected("empty.safetensors", "", {"0 bytes", kCorrupt}));
  EXPECT_TRUE(rejected("tiny.safetensors", "abc", {"3 bytes", kCorrupt}));
}

TEST_F(MalformedSafetensors, HeaderLongerThanTheFile) {
  EXPECT_TRUE(
      rejected("long.safetensors", make_file("{}", 0, 1000), {"claims 1000 bytes", kCorrupt}));
  EXPECT_TRUE(rejected("huge.safetensors", make_file("{}", 0, ~uint64_t{0}), {"claims", kCorrupt}));
  // Another kind of file: an MP4's first bytes read as a length of 8 EB.
  const std::string mp4("\0\0\0\x20" "ftypisom\0\0\x02\0isomiso2avc1mp41", 32);
  EXPECT_TRUE(rejected("video.safetensors", mp4, {"not a safetensors file", "check that this is the file meant"}));
}

TEST_F(MalformedSafetensors, AbsurdHeaderLengthInALargeFile) {
  // A sparse 200 MB file whose header claims 150 MB: within the file, above the limit.
  std::filesystem::path path = write("absurd.safetensors", make_file("", 0, 150'000'000));
  std::filesystem::resize_file(path, 200'000'000);
  EXPECT_TRUE(rejected_path(path, {"100000000-byte limit"}));
  std::filesystem::remove(path);  // scratch folders outlive the test
}

TEST_F(MalformedSafetensors, TruncatedFile) {
  std::filesystem::path good = dir_ / "good.safetensors";
  write_safetensors(good, {{"first", at::zeros({4})}, {"last", at::zeros({8})}});
  auto size = std::filesystem::file_size(good);

  std::filesystem::path cut_data = dir_ / "cut_data.safetensors";
  std::filesystem::copy_file(good, cut_data);
  std::filesystem::resize_file(cut_data, size - 10);
  EXPECT_TRUE(rejected_path(cut_data, {"'last'", "past the end of the data section", kCorrupt}));

  std::filesystem::path cut_header = dir_ / "cut_header.safetensors";
  std::filesystem::copy_file(good, cut_header);
  std::filesystem::resize_file(cut_header, 20);
  EXPECT_TRUE(rejected_path(cut_header, {"claims", kCorrupt}));
}

TEST_F(MalformedSafetensors, OffsetsOutOfRange) {
  EXPECT_TRUE(rejected("range.safetensors",
                       make_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4),
                       {"'w'", "[0, 8]", "past the end", "4 bytes", kCorrupt}));
  EXPECT_TRUE(rejected(
      "far.safetensors",
      make_file(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}})", 4),
      {"'w'", "too large"}));
}

TEST_F(MalformedSafetensors, OverlappingOffsets) {
  EXPECT_TRUE(rejected("overlap.safetensors",
                       make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                 R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                 12),
                       {"'b'", "overlaps tensor 'a'", kCorrupt}));
  // One tensor inside another, found even though a third lies between them in offset order.
  EXPECT_TRUE(rejected("nested.safetensors",
                       make_file(R"({"a":{"dtype":"U8","shape":[10],"data_offsets":[0,10]},)"
                                 R"("b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]},)"
                                 R"("c":{"dtype":"U8","shape":[1],"data_offsets":[8,9]}})",
                                 10),
                       {"overlaps tensor 'a'"}));
}

// The format requires every data byte to belong to a tensor. A header length one byte short (the
// space padding absorbs it) shifts each tensor by a byte, which would load the weights as noise.
TEST_F(MalformedSafetensors, DataBytesThatBelongToNoTensor) {
  EXPECT_TRUE(rejected("gap.safetensors",
                       make_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                                 R"("b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}})",
                                 8),
                       {"bytes from 4 to 6 belong to no tensor", kCorrupt}));
  EXPECT_TRUE(rejected("tail.safetensors",
                       make_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", 5),
                       {"bytes from 4 to 5 belong to no tensor"}));
  EXPECT_TRUE(rejected("lead.safetensors",
                       make_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[1,5]}})", 5),
                       {"bytes from 0 to 1 belong to no tensor"}));
  const std::string header = R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}   )";
  EXPECT_TRUE(rejected("short_length.safetensors", make_file(header, 4, header.size() - 1),
                       {"bytes from 4 to 5 belong to no tensor"}));
  EXPECT_NO_THROW(SafetensorsFile::open(write("whole.safetensors", make_file(header, 4))));
}

TEST_F(MalformedSafetensors, EmptyTensorsShareNoBytes) {
  std::filesystem::path path =
      write("empty_inside.safetensors",
            make_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                      R"("b":{"dtype":"F32","shape":[0,3],"data_offsets":[2,2]}})",
                      4));
  auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file->load("b").sizes(), (std::vector<int64_t>{0, 3}));
}

TEST_F(MalformedSafetensors, BeginAfterEnd) {
  EXPECT_TRUE(rejected("reversed.safetensors",
                       make_file(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}})", 8),
                       {"'w'", "[8, 0]", "end before they begin"}));
}

TEST_F(MalformedSafetensors, UnknownDtype) {
  EXPECT_TRUE(rejected(
      "f64.safetensors", make_file(R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", 8),
      {"'w'", "unsupported dtype 'F64'", "F32, F16, BF16, F8_E4M3, I64, I32, U8, BOOL"}));
}

TEST_F(MalformedSafetensors, ShapeDisagreesWithByteCount) {
  EXPECT_TRUE(rejected("mismatch.safetensors",
                       make_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
                       {"'w'", "[3]", "needs 12 bytes", "hold 8", kCorrupt}));
}

TEST_F(MalformedSafetensors, NegativeOrFractionalDimension) {
  EXPECT_TRUE(rejected("negative.safetensors",
                       make_file(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,0]}})"),
                       {"'w'", "dimension -2 is negative"}));
  EXPECT_TRUE(rejected("fraction.safetensors",
                       make_file(R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,6]}})", 6),
                       {"'w'", "dimension 1.5 is not an integer"}));
}

TEST_F(MalformedSafetensors, HugeShapeOverflows) {
  EXPECT_TRUE(rejected(
      "overflow.safetensors",
      make_file(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})"),
      {"'w'", "too many elements"}));
  // Fits int64 as an element count, overflows as a byte count.
  EXPECT_TRUE(rejected(
      "bytes.safetensors",
      make_file(R"({"w":{"dtype":"I64","shape":[4611686018427387904],"data_offsets":[0,0]}})"),
      {"'w'", "2^64 bytes"}));
  // Larger than uint64: nlohmann reads it as a float.
  EXPECT_TRUE(rejected(
      "beyond.safetensors",
      make_file(R"({"w":{"dtype":"U8","shape":[99999999999999999999999],"data_offsets":[0,0]}})"),
      {"'w'", "is too large"}));
  EXPECT_TRUE(rejected("offset.safetensors",
                       make_file(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551621,1]}})"),
                       {"'w'", "is too large"}));
  EXPECT_TRUE(rejected("below.safetensors",
                       make_file(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[-1e30,1]}})"),
                       {"'w'", "-1e+30 is negative"}));
  // A zero dimension does not hide an overflow of the others.
  EXPECT_TRUE(rejected(
      "zero.safetensors",
      make_file(R"({"w":{"dtype":"U8","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}})"),
      {"'w'", "too many elements"}));
}

TEST_F(MalformedSafetensors, DuplicateNames) {
  EXPECT_TRUE(rejected("dup.safetensors",
                       make_file(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                 R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                 2),
                       {"'w'", "appears twice"}));
  EXPECT_TRUE(rejected(
      "dup_field.safetensors",
      make_file(R"({"w":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}})", 1),
      {"'w'", "field 'dtype' appears twice"}));
  EXPECT_TRUE(rejected("dup_meta.safetensors", make_file(R"({"__metadata__":{"a":"1","a":"2"}})"),
                       {"metadata 'a' appears twice"}));
  // The metadata object is read apart from the tensors; a second one is refused all the same.
  for (const char* second : {R"({})", R"({"b":"2"})", R"("x")"}) {
    EXPECT_TRUE(rejected("dup_meta_object.safetensors",
                         make_file(std::string(R"({"__metadata__":{"a":"1"},"__metadata__":)") + second + "}"),
                         {"'__metadata__'", "appears twice in the header"}))
        << second;
  }
  EXPECT_TRUE(rejected("dup_meta_string.safetensors", make_file(R"({"__metadata__":"x","__metadata__":{}})"),
                       {"'__metadata__'", "appears twice in the header"}));
}

TEST_F(MalformedSafetensors, NonUtf8Json) {
  std::string header = "{\"w\xff\xfe\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}";
  EXPECT_TRUE(rejected("latin1.safetensors", make_file(header), {"not valid UTF-8", kCorrupt}));
  // The offending bytes must not leak into the message, which has to stay valid UTF-8.
  try {
    SafetensorsFile::open(dir_ / "latin1.safetensors");
  } catch (const WeightsError& e) {
    for (char c : std::string(e.what())) EXPECT_LT(static_cast<unsigned char>(c), 0x80);
  }
}

TEST_F(MalformedSafetensors, InvalidJson) {
  EXPECT_TRUE(
      rejected("cut.safetensors", make_file(R"({"w": {"dtype": )"), {"not valid JSON", kCorrupt}));
  EXPECT_TRUE(rejected("blank.safetensors", make_file(""), {"not valid JSON"}));
  EXPECT_TRUE(rejected("trailing.safetensors", make_file("{} x"), {"not valid JSON"}));
}

TEST_F(MalformedSafetensors, MetadataMustBeStrings) {
  EXPECT_TRUE(rejected("meta_number.safetensors", make_file(R"({"__metadata__":{"epoch":3}})"),
                       {"metadata 'epoch' is a number, not a string"}));
  EXPECT_TRUE(rejected("meta_array.safetensors", make_file(R"({"__metadata__":["a"]})"),
                       {"\"__metadata__\" is an array, not an object"}));
  EXPECT_TRUE(rejected("meta_string.safetensors", make_file(R"({"__metadata__":"a"})"),
                       {"\"__metadata__\" is a string, not an object"}));
  EXPECT_TRUE(rejected("meta_value_array.safetensors", make_file(R"({"__metadata__":{"a":"1","tags":["x"]}})"),
                       {"metadata 'tags' is an array, not a string"}));
  EXPECT_TRUE(rejected("meta_value_bool.safetensors", make_file(R"({"__metadata__":{"ok":true}})"),
                       {"metadata 'ok' is a boolean, not a string"}));
}

// The metadata's string members are read apart from the tensors; one that is no string is refused
// as before, after what the parse itself refuses and in the order of the names.
TEST_F(MalformedSafetensors, MetadataErrorsComeInTheirOrder) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"__metadata__":{"a":1,"a":"x"}})", "metadata 'a' appears twice"},
      {R"({"__metadata__":{"a":"x","a":1}})", "metadata 'a' appears twice"},
      {R"({"__metadata__":{"a":[[1]]}})", "nests deeper than a safetensors header does"},
      {R"({"__metadata__":{"a":{"x":1,"x":2}}})", "tensor '__metadata__': field 'x' appears twice"},
      {R"({"__metadata__":{"a":1},"t":{},"t":{}})", "tensor 't': the name appears twice in the header"},
      {R"({"A":5,"__metadata__":{"a":1}})", "tensor 'A': the entry is a number, not an object"},
      {R"({"__metadata__":{"c":"x","b":1,"a":true}})", "metadata 'a' is a boolean, not a string"},
      {R"({"__metadata__":{"a":null}})", "metadata 'a' is a null, not a string"},
      {R"({"__metadata__":{"a":1}} x)", "not valid JSON"},
      {R"({"__metadata__":{"a":"x"}} x)", "not valid JSON"},
  };
  for (const auto& [header, message] : cases) {
    EXPECT_TRUE(rejected("meta_order.safetensors", make_file(header), {message})) << header;
  }
}

// The open reads the length field and the byte after it, then the rest of the header: files of 8,
// 9 and 10 bytes with headers of 0, 1 and 2 bytes.
TEST_F(MalformedSafetensors, TheSmallestFilesAreReadWhole) {
  EXPECT_TRUE(rejected("len0.safetensors", make_file(""), {"not valid JSON"}));
  EXPECT_TRUE(rejected("len1.safetensors", make_file("{"), {"not valid JSON"}));
  EXPECT_TRUE(rejected("len0_data1.safetensors", make_file("", 1), {"not valid JSON"}));
  EXPECT_TRUE(rejected("len1_data1.safetensors", make_file("{", 1), {"not valid JSON"}));
  const auto empty = SafetensorsFile::open(write("len2.safetensors", make_file("{}")));
  EXPECT_TRUE(empty->tensors().empty());
  EXPECT_TRUE(rejected("len2_data1.safetensors", make_file("{}", 1), {"belong to no tensor"}));
  const std::string one_byte = R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  const auto one = SafetensorsFile::open(write("one.safetensors", make_file(one_byte, 1)));
  ASSERT_EQ(one->tensors().size(), 1u);
  EXPECT_EQ(one->tensors()[0].name, "w");
}

// Metadata sits beside the tensors wherever it comes in the header, and many keys are all kept.
TEST_F(MalformedSafetensors, MetadataIsReadBesideTheTensors) {
  std::string many = R"({"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"__metadata__":{)";
  for (int i = 0; i < 200000; ++i) {
    many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":\"v" + std::to_string(i) + "\"";
  }
  many += R"(},"x":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}})";
  const auto file = SafetensorsFile::open(write("many_meta.safetensors", make_file(many, 3)));
  ASSERT_EQ(file->metadata().size(), 200000u);
  EXPECT_EQ(file->metadata().at("k0"), "v0");
  EXPECT_EQ(file->metadata().at("k199999"), "v199999");
  ASSERT_EQ(file->tensors().size(), 2u);
  EXPECT_EQ(file->tensors()[0].name, "w");
  EXPECT_EQ(file->tensors()[1].name, "x");
}

// Deep nesting and absurd ranks are refused as they are read, before nlohmann builds them (a 100 MB
// header of "[[[[…" took GBs) or at::empty meets them.
TEST_F(MalformedSafetensors, NestingAndRankBeyondAHeadersAreRefused) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_TRUE(rejected("deep.safetensors", make_file(R"({"w":{"dtype":"U8","shape":)" + deep + R"(,"data_offsets":[0,0]}})"),
                       {"nests deeper than a safetensors header does"}));
  EXPECT_TRUE(rejected("deep_meta.safetensors", make_file(R"({"__metadata__":{"a":{"b":{"c":"d"}}}})"),
                       {"nests deeper than a safetensors header does"}));
  std::string dims = "[0";
  for (int i = 0; i < 20; ++i) dims += ",1";
  EXPECT_TRUE(rejected("rank.safetensors", make_file(R"({"w":{"dtype":"U8","shape":)" + dims + R"(],"data_offsets":[0,0]}})"),
                       {"'w'", "21 dimensions"}));
}

TEST_F(MalformedSafetensors, MissingFields) {
  EXPECT_TRUE(rejected("no_dtype.safetensors",
                       make_file(R"({"w":{"shape":[0],"data_offsets":[0,0]}})"),
                       {"'w'", "missing \"dtype\""}));
  EXPECT_TRUE(rejected("no_shape.safetensors",
                       make_file(R"({"w":{"dtype":"U8","data_offsets":[0,0]}})"),
                       {"'w'", "missing \"shape\""}));
  EXPECT_TRUE(rejected("no_offsets.safetensors", make_file(R"({"w":{"dtype":"U8","shape":[0]}})"),
                       {"'w'", "missing \"data_offsets\""}));
}

TEST_F(MalformedSafetensors, WrongTypes) {
  EXPECT_TRUE(rejected("entry.safetensors", make_file(R"({"w":3})"),
                       {"'w'", "is a number, not an object"}));
  EXPECT_TRUE(rejected("dtype.safetensors",
                       make_file(R"({"w":{"dtype":5,"shape":[0],"data_offsets":[0,0]}})"),
                       {"'w'", "\"dtype\" is not a string"}));
  EXPECT_TRUE(rejected("shape.safetensors",
                       make_file(R"({"w":{"dtype":"U8","shape":"1","data_offsets":[0,0]}})"),
                       {"'w'", "\"shape\" is not an array"}));
  EXPECT_TRUE(rejected("offsets.safetensors",
                       make_file(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[0]}})"),
                       {"'w'", "\"data_offsets\" is not an array [begin, end]"}));
  EXPECT_TRUE(rejected("offset_type.safetensors",
                       make_file(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":["0",0]}})"),
                       {"'w'", "data offset is a string, not an integer"}));
}

TEST_F(MalformedSafetensors, HeaderNotAnObject) {
  EXPECT_TRUE(rejected("array.safetensors", make_file("[1, 2]"),
                       {"the header is an array, not an object"}));
  EXPECT_TRUE(rejected("string.safetensors", make_file(R"("w")"),
                       {"the header is a string, not an object"}));
}

TEST_F(MalformedSafetensors, LongNamesAreShortenedInMessages) {
  std::string name(5000, 'n');
  std::string header = R"({")" + name + R"(":{"dtype":"X","shape":[0],"data_offsets":[0,0]}})";
  try {
    parse_safetensors_header(reinterpret_cast<const uint8_t*>(make_file(header).data()),
                             make_file(header).size(), "long_name.safetensors");
    FAIL() << "accepted dtype X";
  } catch (const WeightsError& e) {
    EXPECT_LT(std::string(e.what()).size(), 600u) << e.what();
    EXPECT_NE(std::string(e.what()).find("long_name.safetensors"), std::string::npos);
  }
}

}  // namespace
}  // namespace svgear
