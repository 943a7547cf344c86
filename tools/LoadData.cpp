//===- LoadData.cpp - a model's data, whatever its format -----------------===//
//
// Picks the reader from data { ... } or from what --data PATH is, loads the
// parts (the training and test parts on two threads where both exist), and
// applies the test and validation splits and the checks.
//
//===----------------------------------------------------------------------===//

#include "tools/LoadData.h"

#include "runtime/data/Cifar.h"
#include "runtime/data/Csv.h"
#include "runtime/data/IdxDataset.h"
#include "runtime/data/ImageDecode.h"
#include "runtime/data/ImageFolder.h"
#include "runtime/data/ImageResize.h"
#include "runtime/data/Numpy.h"
#include "runtime/data/Text.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include <algorithm>
#include <filesystem>

namespace gradc {

DataSpec dataSpecFor(const ResolvedModel &m) {
  DataSpec spec;
  if (m.regression) {
    spec.targetWidth = m.outputWidth();
  } else {
    spec.numClasses = m.outputWidth() == 1 ? 2 : m.outputWidth();
    spec.labelsPerExample = m.labelsPerExample();
    spec.ignoreIndex = m.ignoreIndex;
  }
  if (m.inputShape().size() == 3) {
    spec.height = m.inputShape()[0];
    spec.width = m.inputShape()[1];
    spec.channels = m.inputShape()[2];
  } else if (m.inputShape().size() == 1) {
    spec.height = spec.width = 1;
    spec.channels = m.inputShape()[0];
  }
  // Integer ids: their width in a batch and the smallest table that reads
  // them.
  if (m.firstInput().integer()) {
    spec.idBytes = m.firstInput().dtype == Input::INT32 ? 4 : 8;
    for (const ResolvedLayer &l : m.layers)
      if (auto it = l.attrs.find("input_dim");
          it != l.attrs.end() &&
          std::find(l.inputs.begin(), l.inputs.end(), -1) != l.inputs.end() &&
          (spec.idLimit == 0 || int64_t(it->second) < spec.idLimit))
        spec.idLimit = int64_t(it->second);
  }
  return spec;
}

namespace {
/// Ids go into batches as the model input's type (int32 or int64).
void setIdBytes(DataSplits &parts, const DataSpec &spec) {
  for (Dataset *d : {&parts.train, &parts.validation, &parts.test})
    if (d->idBytes)
      d->idBytes = spec.idBytes;
}
} // namespace

namespace {

namespace fs = std::filesystem;

/// The kind of data at `path` when the model names none.
absl::StatusOr<Data::KindCase> recognize(const std::string &path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    return absl::NotFoundError(
        absl::StrCat("data path '", path, "' does not exist"));
  if (fs::is_directory(path, ec)) {
    if (findIdxFiles(path, IdxPart::Train).ok())
      return Data::kIdx;
    for (const char *f : {"data_batch_1.bin", "train.bin"})
      if (fs::exists(fs::path(path) / f, ec))
        return Data::kCifar;
    for (const auto &entry : fs::directory_iterator(path, ec))
      if (entry.is_directory(ec) &&
          entry.path().filename().string().front() != '.')
        return Data::kImageFolder;
    return absl::InvalidArgumentError(absl::StrCat(
        "data directory '", path,
        "' holds no IDX files (train-images-idx3-ubyte...), no CIFAR "
        "binaries (data_batch_1.bin, train.bin) and no class folders"));
  }
  std::string lower = path;
  for (char &c : lower)
    c = char(std::tolower(c));
  if (absl::EndsWith(lower, ".npz"))
    return Data::kNumpy;
  if (absl::EndsWith(lower, ".csv"))
    return Data::kCsv;
  if (absl::EndsWith(lower, ".txt"))
    return Data::kText;
  return absl::InvalidArgumentError(absl::StrCat(
      "data file '", path,
      "' is not an .npz, .csv or .txt file; .npy files go in data { numpy { "
      "x: ... y: ... } }, other texts in data { text { file: ... } }"));
}

/// `data` with `path` replacing its kind's path (and its test part, which
/// came with the replaced one).
absl::StatusOr<Data> withPath(Data data, const std::string &path) {
  if (path.empty())
    return data;
  Data::KindCase kind = data.kind_case();
  if (kind == Data::KIND_NOT_SET) {
    auto k = recognize(path);
    if (!k.ok())
      return k.status();
    kind = *k;
  }
  switch (kind) {
  case Data::kIdx:
    data.mutable_idx()->set_dir(path);
    break;
  case Data::kNumpy:
    data.mutable_numpy()->Clear();
    data.mutable_numpy()->set_file(path);
    break;
  case Data::kCsv:
    if (data.csv().target().empty())
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": a CSV file needs the model to name its target column: "
                "data { csv { target: \"COLUMN\" } }"));
    data.mutable_csv()->set_train(path);
    data.mutable_csv()->clear_test();
    break;
  case Data::kImageFolder:
    data.mutable_image_folder()->set_train(path);
    data.mutable_image_folder()->clear_test();
    break;
  case Data::kCifar:
    data.mutable_cifar()->set_dir(path);
    break;
  case Data::kText:
    data.mutable_text()->set_file(path);
    break;
  case Data::KIND_NOT_SET:
    break;
  }
  return data;
}

/// The training and test parts (test possibly empty), unchecked.
absl::StatusOr<DataSplits> loadParts(const ResolvedModel &m, const Data &d,
                                     bool testOnly, std::string *source) {
  DataSplits parts;
  absl::Status trainStatus, testStatus;
  switch (d.kind_case()) {
  case Data::kIdx: {
    *source = d.idx().dir();
    // The IDX reader checks as it reads, naming the file at fault.
    DataSpec spec = dataSpecFor(m);
    spec.targetWidth = 0;
    auto test = loadIdxPart(d.idx().dir(), IdxPart::Test, spec);
    if (testOnly) {
      if (!test.ok())
        return test.status();
      parts.test = std::move(*test);
      return parts;
    }
    auto all = loadIdxDirectory(d.idx().dir(), spec);
    if (!all.ok())
      return all.status();
    return all;
  }
  case Data::kNumpy: {
    const Data::Numpy &n = d.numpy();
    if (!n.file().empty()) {
      *source = n.file();
      return loadNumpy(n.file(), m.regression);
    }
    *source = n.x();
    auto pair = [&](const std::string &x,
                    const std::string &y) -> absl::StatusOr<Dataset> {
      if (x.empty() != y.empty())
        return absl::InvalidArgumentError(
            absl::StrCat("data numpy: give both x and y (", x.empty() ? y : x,
                         " has no partner)"));
      auto xa = readNpy(x);
      if (!xa.ok())
        return xa.status();
      auto ya = readNpy(y);
      if (!ya.ok())
        return ya.status();
      return datasetFromArrays(*xa, *ya, x, m.regression, x, y);
    };
    auto train = pair(n.x(), n.y());
    if (!train.ok())
      return train.status();
    parts.train = std::move(*train);
    parts.test = emptyLike(parts.train);
    if (!n.x_test().empty() || !n.y_test().empty()) {
      auto test = pair(n.x_test(), n.y_test());
      if (!test.ok())
        return test.status();
      parts.test = std::move(*test);
    }
    return parts;
  }
  case Data::kCsv: {
    const Data::Csv &c = d.csv();
    *source = c.train();
    CsvOptions o;
    o.features.assign(c.features().begin(), c.features().end());
    o.targets.assign(c.target().begin(), c.target().end());
    o.valueTargets = m.regression;
    o.targetsAsFeatures = c.has_sequence();
    // A time series' windows, or the rows themselves.
    auto windows = [&](absl::StatusOr<Dataset> rows,
                       const std::string &path) -> absl::StatusOr<Dataset> {
      if (!rows.ok() || !c.has_sequence())
        return rows;
      return sequenceWindows(
          *rows, c.sequence().length(),
          c.sequence().horizon() ? c.sequence().horizon() : 1, path);
    };
    // The test file maps string classes as the training file does.
    auto train = windows(readCsv(c.train(), o, &parts.classNames), c.train());
    if (!train.ok())
      return train.status();
    parts.train = std::move(*train);
    parts.test = emptyLike(parts.train);
    if (!c.test().empty()) {
      std::vector<std::string> names = parts.classNames;
      o.integerLabels = !m.regression && names.empty();
      auto test = windows(readCsv(c.test(), o, &names), c.test());
      if (!test.ok())
        return test.status();
      parts.test = std::move(*test);
    }
    return parts;
  }
  case Data::kImageFolder: {
    const Data::ImageFolder &f = d.image_folder();
    *source = f.train();
    ImageFolderOptions o;
    if (m.inputShape().size() == 3) {
      o.height = m.inputShape()[0];
      o.width = m.inputShape()[1];
      o.channels = m.inputShape()[2];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(f.train(),
                       ": an image folder needs an image input "
                       "[H, W, C]; the model's has ",
                       m.inputShape().size(), " dimension(s)"));
    }
    o.resize = !f.has_resize() || f.resize();
    auto train = loadImageFolder(f.train(), o, &parts.classNames);
    if (!train.ok())
      return train.status();
    parts.train = std::move(*train);
    parts.test = emptyLike(parts.train);
    if (!f.test().empty()) {
      std::vector<std::string> names = parts.classNames;
      auto test = loadImageFolder(f.test(), o, &names);
      if (!test.ok())
        return test.status();
      parts.test = std::move(*test);
    }
    return parts;
  }
  case Data::kCifar:
    *source = d.cifar().dir();
    return loadCifar(d.cifar().dir());
  case Data::kText: {
    *source = d.text().file();
    if (d.text().file().empty())
      return absl::InvalidArgumentError(
          "data text needs a file (or --data FILE.txt)");
    auto train = loadText(
        d.text().file(),
        d.text().vocabulary() == Data::Text::CHARS ? TextVocabulary::Chars
                                                   : TextVocabulary::Bytes,
        m.inputShape().empty() ? 0 : m.inputShape()[0], &parts.vocabulary);
    if (!train.ok())
      return train.status();
    parts.train = std::move(*train);
    parts.test = emptyLike(parts.train);
    return parts;
  }
  case Data::KIND_NOT_SET:
    break;
  }
  return absl::InvalidArgumentError(
      "no data: pass --data PATH or set data { ... } in the model");
}

} // namespace

absl::StatusOr<DataSplits> loadModelData(const ResolvedModel &m,
                                         const std::string &dataPath,
                                         bool testOnly, std::string *source) {
  auto d = withPath(m.data, dataPath);
  if (!d.ok())
    return d.status();
  std::string where;
  auto parts = loadParts(m, *d, testOnly, &where);
  if (source)
    *source = where;
  if (!parts.ok())
    return parts.status();
  // Without a test part, the last test_split of the examples are the test
  // set (before the validation split, which then takes its share of the
  // rest).
  double testSplit = double(d->test_split());
  if (parts->test.size() == 0 && testSplit > 0) {
    auto split = splitValidation(std::move(parts->train), testSplit);
    if (!split.ok())
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": test_split: ", split.status().message()));
    parts->train = std::move(split->train);
    parts->test = std::move(split->validation);
  }
  DataSpec spec = dataSpecFor(m);
  if (testOnly) {
    if (parts->test.size() == 0)
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": the data has no test part (give one, or "
                              "data { test_split: ... })"));
    if (absl::Status s = checkDataset(parts->test, spec, where + " (test)");
        !s.ok())
      return s;
    parts->train = emptyLike(parts->test);
    setIdBytes(*parts, spec);
    return parts;
  }
  if (absl::Status s = checkDataset(parts->train, spec, where); !s.ok())
    return s;
  if (parts->test.size())
    if (absl::Status s = checkDataset(parts->test, spec, where + " (test)");
        !s.ok())
      return s;
  // The IDX loader split already; the others split here.
  if (parts->validation.size() == 0 && m.validationSplit > 0) {
    auto split = splitValidation(std::move(parts->train), m.validationSplit);
    if (!split.ok())
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", split.status().message()));
    parts->train = std::move(split->train);
    parts->validation = std::move(split->validation);
  }
  setIdBytes(*parts, spec);
  return parts;
}

absl::StatusOr<Dataset> loadPredictInput(const ResolvedModel &m,
                                         const std::string &path) {
  std::string lower = path;
  for (char &c : lower)
    c = char(std::tolower(c));
  Dataset d;
  DataSpec spec = dataSpecFor(m);
  spec.numClasses = spec.targetWidth = 0; // no labels to check
  if (absl::EndsWith(lower, ".npy")) {
    auto x = readNpy(path);
    if (!x.ok())
      return x.status();
    // No labels: zeros, one per example.
    NpyArray y;
    y.type = NpyArray::Type::U8;
    y.shape = {x->shape.empty() ? 0 : x->shape[0]};
    y.bytes.assign(size_t(y.shape[0]), 0);
    auto data = datasetFromArrays(*x, y, path, false);
    if (!data.ok())
      return data.status();
    d = std::move(*data);
  } else if (absl::EndsWith(lower, ".csv")) {
    // The columns the model's CSV data names (its targets need not be
    // there), else every column.
    CsvOptions o;
    o.featuresOnly = true;
    if (m.data.has_csv()) {
      o.features.assign(m.data.csv().features().begin(),
                        m.data.csv().features().end());
      o.targets.assign(m.data.csv().target().begin(),
                       m.data.csv().target().end());
    }
    // A time series: every window, the last one's forecast included.
    bool sequence = m.data.has_csv() && m.data.csv().has_sequence();
    o.targetsAsFeatures = sequence;
    auto csv = readCsv(path, o, nullptr);
    if (csv.ok() && sequence)
      csv = sequenceWindows(*csv, m.data.csv().sequence().length(), 0, path);
    if (!csv.ok())
      return csv.status();
    d = std::move(*csv);
  } else if (absl::EndsWith(lower, ".png") || absl::EndsWith(lower, ".jpg") ||
             absl::EndsWith(lower, ".jpeg")) {
    auto image = decodeImage(path);
    if (!image.ok())
      return image.status();
    if (spec.channels && image->channels != spec.channels)
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": image has ", image->channels, " channel(s) (",
                       channelsName(image->channels), "), the model input has ",
                       spec.channels));
    if (spec.height &&
        (image->height != spec.height || image->width != spec.width)) {
      auto resized = resizeBilinear(*image, spec.height, spec.width);
      if (!resized.ok())
        return resized.status();
      image = std::move(*resized);
    }
    d.height = image->height;
    d.width = image->width;
    d.channels = image->channels;
    d.pixels = std::move(image->pixels);
    d.labels = {0};
  } else {
    auto images = readIdxImages(path);
    if (!images.ok())
      return images.status();
    d.height = images->height;
    d.width = images->width;
    d.channels = images->channels;
    d.pixels = std::move(images->pixels);
    d.labels.assign(size_t(images->count), 0);
  }
  if (absl::Status s = checkDataset(d, spec, path); !s.ok())
    return s;
  if (d.idBytes)
    d.idBytes = spec.idBytes;
  return d;
}

} // namespace gradc
