//===- ImageFolder.cpp - Keras image folders as data sets -----------------===//
//
// The folder walk of image_dataset_from_directory: the class subfolders
// sorted (or mapped to the training folder's classes), each class's image
// files listed recursively in Keras's order, then the images decoded and
// resized into one pixel buffer on several threads, the first failing file
// in that order being the one reported.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/ImageFolder.h"

#include "runtime/data/ImageDecode.h"
#include "runtime/data/ImageResize.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

namespace gradc {
namespace {

namespace fs = std::filesystem;

bool isHidden(const fs::path &p) {
  std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

/// 'i' for a PNG or JPEG name, 'u' for BMP and GIF (Keras's other
/// formats), 0 otherwise.
char imageKind(const fs::path &p) {
  std::string ext = absl::AsciiStrToLower(p.extension().string());
  if (ext == ".png" || ext == ".jpg" || ext == ".jpeg")
    return 'i';
  if (ext == ".bmp" || ext == ".gif")
    return 'u';
  return 0;
}

struct ImageFile {
  std::string path;
  int32_t label;
};

/// Appends the images of the class folder `folder` (label `label`) to
/// `files` in Keras's order.
absl::Status listClass(const fs::path &folder, int32_t label,
                       std::vector<ImageFile> &files) {
  // (folder relative to the class folder, file name): Keras sorts the
  // walk by folder path, then the file names within a folder.
  std::vector<std::pair<std::string, std::string>> found;
  std::error_code ec;
  fs::recursive_directory_iterator it(folder, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry &entry = *it;
    std::error_code typeEc;
    if (isHidden(entry.path())) {
      if (entry.is_directory(typeEc))
        it.disable_recursion_pending();
      continue;
    }
    if (entry.is_directory(typeEc))
      continue;
    char kind = imageKind(entry.path());
    if (kind == 'u')
      return absl::InvalidArgumentError(absl::StrCat(
          entry.path().string(),
          ": error: BMP and GIF images are not supported (Keras would load "
          "this file; convert it to PNG, or move it out of the folder)"));
    if (kind == 'i')
      found.emplace_back(entry.path()
                             .parent_path()
                             .lexically_relative(folder)
                             .generic_string(),
                         entry.path().filename().string());
  }
  if (ec)
    return absl::UnavailableError(absl::StrCat(
        folder.string(), ": error: cannot list the folder: ", ec.message()));
  if (found.empty())
    return absl::InvalidArgumentError(absl::StrCat(
        folder.string(), ": error: class folder holds no PNG or JPEG images"));
  for (auto &f : found)
    if (f.first == ".")
      f.first.clear();
  std::sort(found.begin(), found.end());
  for (const auto &[dir, name] : found)
    files.push_back(
        {(dir.empty() ? folder : folder / dir).string() + "/" + name, label});
  return absl::OkStatus();
}

std::string listClasses(const std::vector<std::string> &names) {
  constexpr size_t kShown = 12;
  if (names.size() <= kShown)
    return absl::StrJoin(names, ", ");
  std::vector<std::string> shown(names.begin(), names.begin() + kShown);
  return absl::StrCat(absl::StrJoin(shown, ", "), ", ... (",
                      names.size() - kShown, " more)");
}

/// Decodes one image into `out` (the model input's size).
absl::Status loadExample(const ImageFile &file,
                         const ImageFolderOptions &options, uint8_t *out) {
  absl::StatusOr<DecodedImage> image = decodeImage(file.path);
  if (!image.ok())
    return image.status();
  if (image->channels != options.channels)
    return absl::InvalidArgumentError(
        absl::StrCat(file.path, ": error: image has ", image->channels,
                     image->channels == 1 ? " channel (" : " channels (",
                     channelsName(image->channels), "), the model input has ",
                     options.channels));
  if (image->height != options.height || image->width != options.width) {
    if (!options.resize)
      return absl::InvalidArgumentError(absl::StrCat(
          file.path, ": error: image is ",
          imageSizeString(image->height, image->width), ", the model input is ",
          imageSizeString(options.height, options.width),
          " (resizing is off)"));
    absl::StatusOr<DecodedImage> resized =
        resizeBilinear(*image, options.height, options.width);
    if (!resized.ok())
      return absl::InvalidArgumentError(
          absl::StrCat(file.path, ": ", resized.status().message()));
    image = std::move(resized);
  }
  std::memcpy(out, image->pixels.data(), image->pixels.size());
  return absl::OkStatus();
}

} // namespace

absl::StatusOr<Dataset> loadImageFolder(const std::string &dir,
                                        const ImageFolderOptions &options,
                                        std::vector<std::string> *classNames) {
  if (options.height < 1 || options.height > kMaxImageSide ||
      options.width < 1 || options.width > kMaxImageSide ||
      (options.channels != 1 && options.channels != 3))
    return absl::InvalidArgumentError(absl::StrCat(
        dir, ": error: the model input ", options.height, "x", options.width,
        "x", options.channels,
        " is not an image size an image folder can fill (height and width 1 "
        "to ",
        kMaxImageSide, ", 1 or 3 channels)"));

  std::error_code ec;
  fs::file_status status = fs::status(dir, ec);
  if (ec || !fs::exists(status))
    return absl::NotFoundError(
        absl::StrCat(dir, ": error: no such image folder"));
  if (!fs::is_directory(status))
    return absl::InvalidArgumentError(absl::StrCat(
        dir, ": error: is not a directory (an image folder holds one "
             "subfolder of images per class)"));

  std::vector<std::string> folders;
  bool looseImages = false;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (isHidden(it->path()))
      continue;
    std::error_code typeEc;
    if (it->is_directory(typeEc))
      folders.push_back(it->path().filename().string());
    else if (imageKind(it->path()))
      looseImages = true;
  }
  if (ec)
    return absl::UnavailableError(absl::StrCat(
        dir, ": error: cannot list the image folder: ", ec.message()));
  if (folders.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(dir,
                     ": error: no class subfolders (an image folder holds one "
                     "subfolder of images per class",
                     looseImages ? "; move its images into them)" : ")"));
  std::sort(folders.begin(), folders.end());

  // (label, folder), in label order.
  std::vector<std::pair<int32_t, std::string>> classes;
  if (classNames && !classNames->empty()) {
    for (const std::string &folder : folders) {
      auto found = std::find(classNames->begin(), classNames->end(), folder);
      if (found == classNames->end())
        return absl::InvalidArgumentError(
            absl::StrCat(dir, ": error: class folder '", folder,
                         "' is not one of the training folder's classes (",
                         listClasses(*classNames), ")"));
      classes.emplace_back(int32_t(found - classNames->begin()), folder);
    }
    std::sort(classes.begin(), classes.end());
  } else {
    if (folders.size() > size_t(INT32_MAX))
      return absl::InvalidArgumentError(
          absl::StrCat(dir, ": error: too many class folders"));
    for (size_t i = 0; i < folders.size(); ++i)
      classes.emplace_back(int32_t(i), folders[i]);
    if (classNames)
      *classNames = folders;
  }

  std::vector<ImageFile> files;
  for (const auto &[label, folder] : classes) {
    if (absl::Status status = listClass(fs::path(dir) / folder, label, files);
        !status.ok())
      return status;
    if (int64_t(files.size()) > kMaxImageFolderExamples)
      return absl::InvalidArgumentError(absl::StrCat(dir, ": error: more than ",
                                                     kMaxImageFolderExamples,
                                                     " images; refused"));
  }

  Dataset data;
  data.height = options.height;
  data.width = options.width;
  data.channels = options.channels;
  const int64_t exampleBytes = data.exampleSize();
  const int64_t count = int64_t(files.size());
  if (count > kMaxImageFolderBytes / exampleBytes)
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": error: ", count, " images of ", options.height,
                     "x", options.width, "x", options.channels, " are ",
                     uint64_t(count) * uint64_t(exampleBytes),
                     " bytes of pixels, more than the limit of ",
                     kMaxImageFolderBytes >> 30, " GiB"));
  data.pixels.resize(size_t(count) * size_t(exampleBytes));
  data.labels.reserve(files.size());
  for (const ImageFile &file : files)
    data.labels.push_back(file.label);

  // Workers take files in order; the error kept is the first failing
  // file's, and once a file has failed no later file is started.
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> firstFailure{count};
  std::mutex mutex;
  absl::Status failure;
  auto work = [&] {
    for (;;) {
      int64_t i = next.fetch_add(1);
      if (i >= count || i > firstFailure.load())
        return;
      absl::Status status =
          loadExample(files[i], options, data.pixels.data() + i * exampleBytes);
      if (!status.ok()) {
        std::lock_guard<std::mutex> lock(mutex);
        if (i < firstFailure.load()) {
          firstFailure = i;
          failure = std::move(status);
        }
      }
    }
  };
  int64_t threads = std::min<int64_t>(
      {int64_t(std::max(1u, std::thread::hardware_concurrency())), 8, count});
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t)
    pool.emplace_back(work);
  work();
  for (std::thread &thread : pool)
    thread.join();
  if (!failure.ok())
    return failure;
  return data;
}

} // namespace gradc
