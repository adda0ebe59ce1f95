// The generation library keeps each run as a complete folder, lists them newest first, skips what is
// not an entry, reads videos back and deletes only its own entries.

#include "core/library/generation_library.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/media/media_error.h"
#include "core/media/mp4_writer.h"
#include "core/media/video_reader.h"
#include "core/user_error.h"
#include "tests/support/png_reader.h"
#include "tests/support/scoped_env.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

Video gradient_clip(int frames, int height, int width) {
  Video v;
  v.frames = frames;
  v.height = height;
  v.width = width;
  v.rgb.resize(size_t(frames) * height * width * 3);
  for (size_t i = 0; i < v.rgb.size(); ++i) v.rgb[i] = uint8_t((i * 7) % 251);
  return v;
}

// What a thumbnail should hold, from the clip's pixels: its middle frame with each factor×factor
// block averaged and rounded to nearest; columns and rows past the last whole block are left out.
test::PngImage shrunk_middle_frame(const Video& clip, int factor) {
  const uint8_t* frame = clip.frame(clip.frames / 2);
  test::PngImage out;
  out.width = clip.width / factor;
  out.height = clip.height / factor;
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        double sum = 0;
        for (int by = 0; by < factor; ++by) {
          for (int bx = 0; bx < factor; ++bx) {
            sum += frame[(size_t(y * factor + by) * clip.width + x * factor + bx) * 3 + c];
          }
        }
        out.rgb.push_back(uint8_t(std::lround(sum / (factor * factor))));
      }
    }
  }
  return out;
}

void expect_same_image(const test::PngImage& actual, const test::PngImage& expected) {
  ASSERT_EQ(actual.width, expected.width);
  ASSERT_EQ(actual.height, expected.height);
  const auto [a, e] = std::mismatch(actual.rgb.begin(), actual.rgb.end(), expected.rgb.begin());
  EXPECT_TRUE(a == actual.rgb.end()) << "byte " << (a - actual.rgb.begin()) << " is " << int(*a) << ", expected "
                                     << int(*e);
}

nlohmann::json record(const std::string& created, uint64_t seed, const std::string& prompt) {
  return {{"created", created},
          {"request", {{"prompt", prompt}, {"seed", seed}, {"steps", 3}, {"attention", {{"mode", "svgear"}}}}},
          {"model", {{"name", "shapes-s"}}}};
}

TEST(GenerationLibrary, KeepsListsAndDeletesEntries) {
  const auto root = test::scratch_dir("library") / "lib";
  GenerationLibrary library(root);
  EXPECT_TRUE(library.entries().empty());  // no folder yet: an empty library

  const Video clip = gradient_clip(5, 16, 24);
  const LibraryEntry first = library.add(clip, record("2026-11-29T07:45:01Z", 42, "a red circle"));
  const LibraryEntry same_second = library.add(clip, record("2026-11-29T07:45:01Z", 42, "a blue star"));
  const LibraryEntry later = library.add(clip, record("2026-11-29T08:00:00Z", 7, "a green ring"));
  EXPECT_EQ(first.folder.filename(), "20261129-074501-seed42");
  EXPECT_EQ(same_second.folder.filename(), "20261129-074501-seed42-2");
  EXPECT_TRUE(std::filesystem::exists(first.thumbnail));
  expect_same_image(test::read_png(first.thumbnail), shrunk_middle_frame(clip, 1));  // small: kept as it is
  EXPECT_EQ(first.prompt, "a red circle");
  EXPECT_EQ(first.attention, "svgear");
  EXPECT_EQ(first.model, "shapes-s");
  EXPECT_EQ(first.seed, 42u);
  EXPECT_EQ(first.steps, 3);
  EXPECT_EQ(first.record["request"]["steps"], 3);

  const Video back = read_video(first.video);
  EXPECT_EQ(back.frames, 5);
  EXPECT_EQ(back.height, 16);
  EXPECT_EQ(back.width, 24);

  // Not entries: a user's folder, a damaged record, a staging folder left by a crash.
  std::filesystem::create_directories(root / "notes");
  std::filesystem::create_directories(root / "broken");
  std::ofstream(root / "broken" / "record.json") << "{ not json";
  // Valid JSON with fields of the wrong type (hand-edited, or another version's), beside a video.
  int mistyped = 0;
  // Numbers out of their range are refused, not converted into others (1e300 listed as -2147483648,
  // a seed of -1 as 18446744073709551615, 3.7 steps as 3).
  for (const char* field : {R"({"model": "wan"})", R"({"created": null})", R"({"request": {"seed": "42"}})",
                            R"({"request": {"width": "64"}})", R"({"request": {"width": 1e300}})",
                            R"({"request": {"height": 4294967303}})", R"({"request": {"seed": -1}})",
                            R"({"request": {"seed": 1.9}})", R"({"request": {"steps": 3.7}})"}) {
    const auto folder = root / ("mistyped-" + std::to_string(mistyped++));
    std::filesystem::create_directories(folder);
    std::ofstream(folder / "record.json") << field;
    std::filesystem::copy_file(first.video, folder / first.video.filename());
    EXPECT_THROW(read_library_entry(folder), UserError) << field;
  }
  // A record far larger than any run's is refused unread.
  std::filesystem::create_directories(root / "huge-record");
  std::ofstream(root / "huge-record" / "record.json") << R"({"notes": ")" << std::string(2 << 20, 'x') << R"("})";
  std::filesystem::copy_file(first.video, root / "huge-record" / first.video.filename());
  try {
    (void)read_library_entry(root / "huge-record");
    ADD_FAILURE() << "a 2 MB record was read";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("is larger than any run record (1 MB)"), std::string::npos) << e.what();
  }
  // A folder named as the video is no video: the entry is listed with its clip gone, as one whose
  // files were deleted by hand, and its record still reloads the settings.
  std::filesystem::create_directories(root / "folder-video" / "video.mp4");
  std::filesystem::create_directories(root / "folder-video" / "video.y4m");
  std::filesystem::copy_file(first.folder / "record.json", root / "folder-video" / "record.json");
  EXPECT_TRUE(read_library_entry(root / "folder-video").clip_gone());
  EXPECT_EQ(read_library_entry(root / "folder-video").prompt, first.prompt);
  try {
    (void)read_library_video(read_library_entry(root / "folder-video"), nullptr, size_t(1) << 30);
    ADD_FAILURE() << "a folder was read as a video";
  } catch (const MediaError& e) {
    EXPECT_NE(std::string(e.what()).find("folder-video holds neither its video nor its frames"), std::string::npos)
        << e.what();
  }
  // Beside the video this build writes, another kind's file is not taken for it.
  std::filesystem::copy(first.folder, root.parent_path() / "two-videos");
  const std::string other_kind = first.video.extension() == ".mp4" ? "video.y4m" : "video.mp4";
  std::ofstream(root.parent_path() / "two-videos" / other_kind) << "not a video";
  EXPECT_EQ(read_library_entry(root.parent_path() / "two-videos").video.filename(), first.video.filename());
  std::filesystem::create_directories(root / ".staging-1-0000000000000000");
  // A FIFO as the record (opening it would block the studio's listing until someone writes).
  std::filesystem::create_directories(root / "fifo");
  ASSERT_EQ(::mkfifo((root / "fifo" / "record.json").c_str(), 0600), 0);
  EXPECT_THROW(read_library_entry(root / "fifo"), UserError);
  // Links that loop (a folder linked to itself, a video linked to itself): skipped, not the end of
  // the listing (the studio lists at start-up).
  std::filesystem::create_directory_symlink(root / "loop", root / "loop");
  std::filesystem::create_directories(root / "looped-video");
  std::filesystem::copy_file(first.folder / "record.json", root / "looped-video" / "record.json");
  std::filesystem::create_symlink(root / "looped-video" / "video.mp4", root / "looped-video" / "video.mp4");
  EXPECT_TRUE(read_library_entry(root / "looped-video").clip_gone());
  std::vector<LibraryEntry> gone = library.entries();
  gone.erase(std::remove_if(gone.begin(), gone.end(), [](const LibraryEntry& e) { return !e.clip_gone(); }),
             gone.end());
  ASSERT_EQ(gone.size(), 2u);
  EXPECT_EQ(gone[0].folder.filename(), "looped-video");
  EXPECT_EQ(gone[1].folder.filename(), "folder-video");
  std::filesystem::remove_all(root / "folder-video");
  std::filesystem::remove_all(root / "looped-video");
  const std::vector<LibraryEntry> listed = library.entries();
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].prompt, "a green ring");  // newest first
  EXPECT_EQ(listed[1].folder, same_second.folder);
  EXPECT_EQ(listed[2].folder, first.folder);
  for (const auto& item : std::filesystem::directory_iterator(root)) {
    const std::string name = item.path().filename().string();
    if (name != ".staging-1-0000000000000000") {
      EXPECT_NE(name.rfind(".staging-", 0), 0u) << "left behind: " << name;
    }
  }

  // detach() takes the entry out at once under a hidden name; purge_detached() deletes its files.
  const std::filesystem::path detached = library.detach(listed[1]);
  EXPECT_EQ(detached.parent_path(), std::filesystem::weakly_canonical(root));
  EXPECT_EQ(detached.filename().string().rfind(".deleting-", 0), 0u) << detached;
  EXPECT_TRUE(std::filesystem::exists(detached / "record.json"));
  EXPECT_EQ(library.entries().size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(same_second.folder));
  GenerationLibrary::purge_detached(detached);
  EXPECT_FALSE(std::filesystem::exists(detached));
  GenerationLibrary::purge_detached({});  // a link's detach(): nothing to purge
  for (const auto& item : std::filesystem::directory_iterator(root)) {
    EXPECT_NE(item.path().filename().string().rfind(".deleting-", 0), 0u) << "left behind: " << item.path();
  }
  LibraryEntry outside = first;
  outside.folder = root.parent_path();
  EXPECT_THROW(library.remove(outside), UserError);
  EXPECT_TRUE(std::filesystem::exists(root));
  // A whole entry outside the library (its record and video there) is refused all the same.
  std::filesystem::create_directories(root.parent_path() / "elsewhere");
  std::filesystem::copy_file(first.folder / "record.json", root.parent_path() / "elsewhere" / "record.json");
  outside.folder = root.parent_path() / "elsewhere";
  EXPECT_THROW(library.remove(outside), UserError);
  EXPECT_TRUE(std::filesystem::exists(outside.folder / "record.json"));
  // "<root>/.." and "<root>/." name no entry, whatever their folders hold.
  std::filesystem::copy_file(first.folder / "record.json", root.parent_path() / "record.json");
  std::filesystem::copy_file(first.folder / "record.json", root / "record.json");
  for (const char* name : {"..", "."}) {
    outside.folder = root / name;
    try {
      (void)library.detach(outside);
      ADD_FAILURE() << "detached " << outside.folder;
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("is not an entry of the library"), std::string::npos) << e.what();
    }
  }
  std::filesystem::remove(root / "record.json");
  EXPECT_TRUE(std::filesystem::exists(root.parent_path() / "record.json"));
  // A link in the library to an entry lists as one; deleting it removes the link, not the entry.
  std::filesystem::create_directory_symlink(first.folder, root / "alias");
  LibraryEntry alias = first;
  alias.folder = root / "alias";
  ASSERT_EQ(library.entries().size(), 3u);
  library.remove(alias);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(root / "alias")));
  EXPECT_TRUE(std::filesystem::exists(first.folder / "record.json"));
  EXPECT_EQ(library.entries().size(), 2u);
  EXPECT_THROW(read_library_entry(root / "broken"), UserError);

  // The next entry clears the staging folder of a studio that died writing one, not a live one's.
  const std::string alive = ".staging-" + std::to_string(::getpid()) + "-0000000000000099";
  std::filesystem::create_directories(root / ".staging-999999999-0000000000000003" / "partial");
  std::filesystem::create_directories(root / alive);
  // Untouched for over an hour:
  for (const char* name : {".staging-999999999-0000000000000003", ".staging-1-0000000000000000"}) {
    std::filesystem::last_write_time(root / name, std::filesystem::file_time_type::clock::now() - std::chrono::hours(2));
  }
  std::filesystem::last_write_time(root / alive, std::filesystem::file_time_type::clock::now() - std::chrono::hours(2));
  library.add(clip, record("2026-11-29T09:00:00Z", 8, "a red ring"));
  EXPECT_FALSE(std::filesystem::exists(root / ".staging-999999999-0000000000000003"));
  EXPECT_TRUE(std::filesystem::exists(root / alive));
  EXPECT_TRUE(std::filesystem::exists(root / ".staging-1-0000000000000000"));  // pid 1 runs
}

// An `rm -rf` of an entry that the studio detaches meanwhile goes on inside the renamed folder and
// fails at its end (its last rmdir is by the old name); purge_detached's own pass fails on the files
// the rm took. Without a later pass an empty hidden folder was left (10 of 10 trials).
TEST(GenerationLibrary, APurgeRacingAnRmOfTheSameFolderLeavesNothing) {
  const std::filesystem::path root = test::scratch_dir("library-purge-race");
  const std::filesystem::path entry = root / "20261205-170000-seed1";
  std::filesystem::create_directories(entry);
  for (int i = 0; i < 20000; ++i) std::ofstream(entry / ("frame-" + std::to_string(i) + ".png")) << "x";
  pid_t rm = -1;
  const std::string folder = entry.string();
  char* const argv[] = {const_cast<char*>("rm"), const_cast<char*>("-rf"), const_cast<char*>(folder.c_str()), nullptr};
  ASSERT_EQ(::posix_spawnp(&rm, "rm", nullptr, nullptr, argv, environ), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the rm has the folder open
  const std::filesystem::path detached = root / ".deleting-race";
  // What detach() does. Unchecked: on a machine so slow that the rm had not begun, or so fast that
  // it had ended, there is no race, and nothing may be left all the same.
  std::error_code ec;
  std::filesystem::rename(entry, detached, ec);
  GenerationLibrary::purge_detached(detached);
  int status = 0;
  ASSERT_EQ(::waitpid(rm, &status, 0), rm);
  EXPECT_FALSE(std::filesystem::exists(detached));
  EXPECT_FALSE(std::filesystem::exists(entry));
}

// Thumbnails are the middle frame shrunk by a whole factor to at most kThumbnailMaxSide a side (the
// studio lists entries at 96 px); pixel models' small frames keep their size. Box averages of whole
// pixels rounded once: exact.
TEST(GenerationLibrary, ThumbnailsAreSmall) {
  GenerationLibrary library(test::scratch_dir("library_thumbnails") / "lib");
  const Video wan_sized = gradient_clip(3, 480, 832);
  const LibraryEntry wan_entry = library.add(wan_sized, record("2026-11-29T07:45:01Z", 1, "a"));
  expect_same_image(test::read_png(wan_entry.thumbnail), shrunk_middle_frame(wan_sized, 4));  // 208×120
  const Video odd = gradient_clip(2, 300, 520);
  const LibraryEntry odd_entry = library.add(odd, record("2026-11-29T07:45:02Z", 2, "b"));
  expect_same_image(test::read_png(odd_entry.thumbnail), shrunk_middle_frame(odd, 3));  // ⌈520 / 256⌉ = 3: 173×100
  const Video small = gradient_clip(2, 64, 256);
  const LibraryEntry small_entry = library.add(small, record("2026-11-29T07:45:03Z", 3, "c"));
  expect_same_image(test::read_png(small_entry.thumbnail), shrunk_middle_frame(small, 1));  // 256×64
}

// A small clip reopens as generated: H.264's 4:2:0 colour had put a 64×64 shapes clip ~30 dB from
// itself. A damaged copy of the frames falls back to the video; a clip past kExactFramesMaxBytes
// keeps only its video.
TEST(GenerationLibrary, ASmallClipReopensExactly) {
  GenerationLibrary library(test::scratch_dir("library_exact") / "lib");
  Video clip = gradient_clip(5, 30, 42);
  clip.fps = 12.0;
  // The record's size, as a run's: frames of another size are not taken as the clip.
  const auto sized = [](nlohmann::json r, const Video& v) {
    r["request"]["frames"] = v.frames;
    r["request"]["height"] = v.height;
    r["request"]["width"] = v.width;
    return r;
  };
  const LibraryEntry entry = library.add(clip, sized(record("2026-11-29T07:45:01Z", 1, "a"), clip));
  ASSERT_EQ(entry.exact_frames, entry.folder / "frames.frames");
  std::string note = "stale";
  const Video back = read_library_video(entry, nullptr, size_t(1) << 30, &note);
  EXPECT_EQ(note, "");
  EXPECT_EQ(back.frames, 5);
  EXPECT_EQ(back.height, 30);
  EXPECT_EQ(back.width, 42);
  EXPECT_DOUBLE_EQ(back.fps, 12.0);
  EXPECT_TRUE(back.rgb == clip.rgb);
  const Video decoded = read_video(entry.video);
  if (mp4_supported()) {
    EXPECT_FALSE(decoded.rgb == clip.rgb) << "the MP4 is exact too: the frames are not needed";
  }

  // Another clip's frames in its place (a folder edited by hand) are not shown as this one.
  const Video other_clip = gradient_clip(5, 30, 40);
  const LibraryEntry other = library.add(other_clip, sized(record("2026-11-29T07:45:03Z", 3, "c"), other_clip));
  std::filesystem::copy_file(other.exact_frames, entry.exact_frames, std::filesystem::copy_options::overwrite_existing);
  const Video not_its_own = read_library_video(read_library_entry(entry.folder), nullptr, size_t(1) << 30, &note);
  EXPECT_NE(note.find("they are 5 frames of 40x30, not this run's): shown from video."), std::string::npos) << note;
  EXPECT_EQ(not_its_own.width, 42);
  EXPECT_TRUE(not_its_own.rgb == decoded.rgb);

  std::filesystem::resize_file(entry.exact_frames, 40);
  const Video fallback = read_library_video(read_library_entry(entry.folder), nullptr, size_t(1) << 30, &note);
  EXPECT_EQ(note.rfind("the exact frames in " + entry.exact_frames.string() + " could not be used (", 0), 0u) << note;
  EXPECT_EQ(fallback.frames, 5);
  EXPECT_EQ(fallback.height, 30);
  EXPECT_EQ(fallback.width, 42);
  EXPECT_TRUE(fallback.rgb == decoded.rgb);

  // Its video damaged too: the error names what is wrong with both (the frames' had been lost).
  std::filesystem::resize_file(entry.video, std::filesystem::file_size(entry.video) / 3);
  try {
    (void)read_library_video(read_library_entry(entry.folder), nullptr, size_t(1) << 30, &note);
    ADD_FAILURE() << "a damaged video was shown";
  } catch (const MediaError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("the exact frames in " + entry.exact_frames.string() + " could not be used (", 0), 0u) << what;
    EXPECT_NE(what.find("), and "), std::string::npos) << what;
  }

  // Its video deleted by hand: the frames alone still show the clip; damaged, they are reported.
  std::filesystem::remove(other.video);
  const LibraryEntry frames_only = read_library_entry(other.folder);
  EXPECT_TRUE(frames_only.video.empty());
  EXPECT_FALSE(frames_only.clip_gone());
  EXPECT_EQ(read_library_video(frames_only, nullptr, size_t(1) << 30, &note).width, 40);
  EXPECT_EQ(note, "");
  std::filesystem::remove(entry.video);
  try {
    (void)read_library_video(read_library_entry(entry.folder), nullptr, size_t(1) << 30, &note);
    ADD_FAILURE() << "damaged frames were shown";
  } catch (const MediaError& e) {
    EXPECT_NE(std::string(e.what()).find(") and the video is gone"), std::string::npos) << e.what();
  }

  const int frames = int(kExactFramesMaxBytes / (3 * 128 * 128)) + 1;
  const Video large_clip = gradient_clip(frames, 128, 128);
  const LibraryEntry large = library.add(large_clip, sized(record("2026-11-29T07:45:02Z", 2, "b"), large_clip));
  EXPECT_TRUE(large.exact_frames.empty());
  EXPECT_FALSE(std::filesystem::exists(large.folder / "frames.frames"));
  EXPECT_EQ(read_library_video(large, nullptr, size_t(1) << 30).frames, frames);
}

TEST(GenerationLibrary, FailuresAreUserErrorsAndLeaveNothing) {
  const auto dir = test::scratch_dir("library_errors");
  std::ofstream(dir / "a-file") << "x";
  GenerationLibrary blocked(dir / "a-file" / "lib");  // the root cannot be created under a file
  EXPECT_THROW(blocked.add(gradient_clip(2, 8, 8), record("2026-11-29T07:45:01Z", 1, "p")), UserError);
  GenerationLibrary library(dir / "lib");
  EXPECT_THROW(library.add(Video{}, record("2026-11-29T07:45:01Z", 1, "p")), UserError);
  // A record that is not one: a UserError, as the header says, not a JSON type error.
  for (const nlohmann::json& bad : {nlohmann::json::array({1}), nlohmann::json{{"request", nullptr}},
                                    nlohmann::json{{"request", {{"seed", "x"}}}}}) {
    EXPECT_THROW(library.add(gradient_clip(2, 8, 8), bad), UserError) << bad.dump();
  }
  EXPECT_TRUE(library.entries().empty());
  EXPECT_TRUE(!std::filesystem::exists(dir / "lib") || std::filesystem::is_empty(dir / "lib"));
  // Said before a run: the nearest folder that exists decides (add() makes the rest).
  EXPECT_EQ(blocked.write_problem(), (dir / "a-file").string() + " is not a folder");
  EXPECT_EQ(library.write_problem(), "");
  EXPECT_EQ(GenerationLibrary(dir / "not" / "yet" / "lib").write_problem(), "");
  EXPECT_EQ(GenerationLibrary("relative-library").write_problem(), "");  // the working folder decides
  std::filesystem::create_symlink(dir / "gone", dir / "dangling");
  EXPECT_EQ(GenerationLibrary(dir / "dangling").write_problem(), (dir / "dangling").string() + " is a link to nothing");
  std::filesystem::create_directories(dir / "read-only");
  std::filesystem::permissions(dir / "read-only",
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  if (::geteuid() != 0) {  // root writes whatever the permissions (not on a read-only mount)
    EXPECT_EQ(GenerationLibrary(dir / "read-only" / "lib").write_problem(),
              "cannot write in " + (dir / "read-only").string() + ": Permission denied");
  }
  std::filesystem::permissions(dir / "read-only", std::filesystem::perms::owner_all);
}

// A record the user may not read is said to be unreadable, not missing, in the listing's note.
TEST(GenerationLibrary, AnUnreadableRecordIsNamedUnreadable) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files whatever their permissions";
  const auto root = test::scratch_dir("library_unreadable");
  GenerationLibrary library(root);
  const LibraryEntry entry = library.add(gradient_clip(2, 8, 8), record("2026-11-29T07:45:01Z", 1, "p"));
  std::filesystem::permissions(entry.folder / "record.json", std::filesystem::perms::none);
  std::vector<std::string> damaged;
  EXPECT_TRUE(library.entries({}, &damaged).empty());
  std::filesystem::permissions(entry.folder / "record.json", std::filesystem::perms::owner_all);
  ASSERT_EQ(damaged.size(), 1u);
  EXPECT_NE(damaged[0].find("cannot read " + (entry.folder / "record.json").string() + ": Permission denied"),
            std::string::npos) << damaged[0];
}

// A run whose record.json was deleted by hand, its video and thumbnail left: not listed, but named in
// the listing's note, and Delete (on the row listed before the record went) removes it, where it had
// been refused as no entry. A folder that holds anything else besides, or nothing, or that is not
// named as the library names its entries, stays the user's.
TEST(GenerationLibrary, AnEntryWhoseRecordWentIsNamedAndDeletable) {
  const auto root = test::scratch_dir("library_record_gone");
  GenerationLibrary library(root);
  const LibraryEntry entry = library.add(gradient_clip(2, 8, 8), record("2026-11-29T07:45:01Z", 1, "p"));
  std::filesystem::remove(entry.folder / "record.json");
  std::filesystem::create_directories(root / "empty");
  std::filesystem::create_directories(root / "mine");
  std::filesystem::copy_file(entry.folder / "thumbnail.png", root / "mine" / "thumbnail.png");
  std::ofstream(root / "mine" / "notes.txt") << "my own";
  std::filesystem::create_directories(root / "trip");
  std::filesystem::copy_file(entry.video, root / "trip" / entry.video.filename());
  std::vector<std::string> damaged;
  EXPECT_TRUE(library.entries({}, &damaged).empty());
  ASSERT_EQ(damaged.size(), 1u);
  EXPECT_EQ(damaged[0], entry.folder.string() + " holds a run's files but its record.json is gone");
  library.remove(entry);
  EXPECT_FALSE(std::filesystem::exists(entry.folder));
  for (const char* name : {"empty", "mine", "trip"}) {
    LibraryEntry other = entry;
    other.folder = root / name;
    EXPECT_THROW(library.remove(other), UserError) << name;
    EXPECT_TRUE(std::filesystem::exists(other.folder)) << name;
  }
  EXPECT_TRUE(std::filesystem::exists(root / "mine" / "notes.txt"));
  EXPECT_TRUE(std::filesystem::exists(root / "trip" / entry.video.filename()));
}

using test::ScopedEnv;

TEST(GenerationLibrary, DefaultRootFollowsTheEnvironment) {
  const ScopedEnv library("SVGEAR_LIBRARY"), xdg("XDG_DATA_HOME");
  setenv("SVGEAR_LIBRARY", "/tmp/svgear-lib-test", 1);
  EXPECT_EQ(default_library_root(), "/tmp/svgear-lib-test");
  unsetenv("SVGEAR_LIBRARY");
  setenv("XDG_DATA_HOME", "/tmp/xdg", 1);
  EXPECT_EQ(default_library_root(), std::filesystem::path("/tmp/xdg/svgear/library"));
  unsetenv("XDG_DATA_HOME");
  EXPECT_EQ(default_library_root().filename(), "library");
}

}  // namespace
}  // namespace svgear
