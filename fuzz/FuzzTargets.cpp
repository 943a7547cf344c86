//===- FuzzTargets.cpp - libFuzzer entry points of gradc's readers --------===//
//
// One source, one target per reader, chosen by GRADC_FUZZ_TARGET at compile
// time: the text and binary model loaders (with the checker), the ONNX
// importer, the IDX reader (raw and gzip), the checkpoint reader, the
// compile cache's entry decoder, the NumPy (.npy, .npz) and CSV readers, the
// PNG/JPEG decoder, the CIFAR reader and the text reader. Each writes the input
// to a file (the readers take paths, as gradc does; the entry decoder takes
// bytes) and must answer with a status, never a crash, a hang or a leak; ASan
// and UBSan watch. Built by scripts/fuzz.sh with clang.
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelChecker.h"
#include "frontend/ModelLoader.h"
#include "runtime/data/Cifar.h"
#include "runtime/data/Csv.h"
#include "runtime/data/IdxDataset.h"
#include "runtime/data/ImageDecode.h"
#include "runtime/data/ImageResize.h"
#include "runtime/data/Numpy.h"
#include "runtime/data/Text.h"
#include "runtime/jit/CompileCache.h"
#include "runtime/params/Parameters.h"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <zlib.h>

using namespace gradc;

namespace {

/// A per-process scratch file with `suffix` holding the input.
std::string writeInput(const uint8_t *data, size_t size,
                       const std::string &suffix) {
  std::string path = "/tmp/gradc-fuzz-" + std::to_string(getpid()) + suffix;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(data), std::streamsize(size));
  return path;
}

void loadAndCheck(const std::string &path) {
  auto file = loadModelFile(path);
  if (file.ok())
    (void)checkModel(**file);
}

/// The model whose checkpoints the checkpoint target reads.
const ResolvedModel &checkpointModel() {
  static std::unique_ptr<ModelFile> file = [] {
    auto f = parseModelText(R"(name: "fuzz"
input { name: "x" shape: [4, 4, 1] }
layer { name: "conv" conv2d { filters: 2 kernel_size: [3, 3] } }
layer { name: "bn" batch_norm {} }
layer { name: "flat" flatten {} }
layer { name: "out" dense { units: 3 activation: SOFTMAX } }
loss { sparse_categorical_crossentropy {} }
optimizer { adam {} }
)",
                            "fuzz.pbtxt");
    return std::move(*f);
  }();
  static ResolvedModel model = *checkModel(*file);
  return model;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
#if GRADC_FUZZ_TARGET == 1 // text model
  auto file = parseModelText(
      std::string(reinterpret_cast<const char *>(data), size), "fuzz.pbtxt");
  if (file.ok())
    (void)checkModel(**file);
#elif GRADC_FUZZ_TARGET == 2  // binary model
  loadAndCheck(writeInput(data, size, ".pb"));
#elif GRADC_FUZZ_TARGET == 3  // ONNX model
  loadAndCheck(writeInput(data, size, ".onnx"));
#elif GRADC_FUZZ_TARGET == 4  // IDX images and labels, raw and gzip
  bool gz = size > 2 && data[0] == 0x1f && data[1] == 0x8b;
  std::string path = writeInput(data, size, gz ? ".idx.gz" : ".idx");
  (void)readIdxImages(path);
  (void)readIdxLabels(path);
#elif GRADC_FUZZ_TARGET == 5  // checkpoint
  ParameterStore params = ParameterStore::initialize(checkpointModel(), 0);
  (void)params.load(writeInput(data, size, ".ckpt"), /*weightsOnly=*/false,
                    &checkpointModel());
#elif GRADC_FUZZ_TARGET == 6  // compile cache entry
  // The input is an entry without its checksum, which is appended here so
  // that the decoder behind the checksum is fuzzed too; the key asked for
  // is the one the entry names (after the 14-byte magic, a u32 length).
  std::string bytes(reinterpret_cast<const char *>(data), size);
  std::string key;
  if (size >= 18) {
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i)
      n |= uint32_t(data[14 + i]) << (8 * i);
    if (n <= size - 18)
      key.assign(bytes, 18, n);
  }
  (void)decodeCacheEntry(bytes + cacheEntryChecksum(bytes), key);
#elif GRADC_FUZZ_TARGET == 7  // NumPy .npy array, then as a data set
  absl::StatusOr<NpyArray> array = readNpy(writeInput(data, size, ".npy"));
  if (array.ok()) {
    // As inputs with zero labels, as labels of one-byte inputs, and as both
    // inputs and value targets.
    int64_t n = array->shape.empty() ? 1 : array->shape[0];
    if (n <= 65536) {
      NpyArray labels, inputs;
      labels.type = NpyArray::Type::I32;
      labels.shape = {n};
      labels.bytes.assign(size_t(n) * 4, 0);
      inputs.shape = {n, 1};
      inputs.bytes.assign(size_t(n), 7);
      (void)datasetFromArrays(*array, labels, "fuzz.npy", false);
      (void)datasetFromArrays(inputs, *array, "fuzz.npy", false);
    }
    (void)datasetFromArrays(*array, *array, "fuzz.npy", true);
  }
#elif GRADC_FUZZ_TARGET == 8  // NumPy .npz archive
  // The CRC-32s of stored entries are recomputed into the central directory
  // (when its end record closes the input) so that mutations of the arrays
  // reach the .npy parser behind the check.
  std::string bytes(reinterpret_cast<const char *>(data), size);
  auto le = [&](size_t at, int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= uint32_t(uint8_t(bytes[at + i])) << (8 * i);
    return v;
  };
  if (size >= 22 && le(size - 22, 4) == 0x06054b50) {
    size_t pos = le(size - 6, 4), entries = le(size - 12, 2);
    for (size_t k = 0;
         k < entries && pos + 46 <= size && le(pos, 4) == 0x02014b50; ++k) {
      size_t local = le(pos + 42, 4), packed = le(pos + 20, 4);
      if (le(pos + 10, 2) == 0 && local + 30 <= size) {
        size_t start = local + 30 + le(local + 26, 2) + le(local + 28, 2);
        if (start <= size && packed <= size - start) {
          uint32_t crc = uint32_t(
              crc32(0, reinterpret_cast<const Bytef *>(bytes.data()) + start,
                    uInt(packed)));
          for (int i = 0; i < 4; ++i)
            bytes[pos + 16 + i] = char(crc >> (8 * i));
        }
      }
      pos += 46 + le(pos + 28, 2) + le(pos + 30, 2) + le(pos + 32, 2);
    }
  }
  std::string path = writeInput(reinterpret_cast<const uint8_t *>(bytes.data()),
                                bytes.size(), ".npz");
  (void)readNpz(path);
  (void)loadNumpy(path, /*valueTargets=*/false);
  (void)loadNumpy(path, /*valueTargets=*/true);
#elif GRADC_FUZZ_TARGET == 9  // CSV: classes, regression, a test file
  std::string path = writeInput(data, size, ".csv");
  CsvOptions options;
  options.targets = {"y"};
  std::vector<std::string> names;
  (void)readCsv(path, options, &names);
  std::vector<std::string> training = {"a", "b"};
  (void)readCsv(path, options, &training);
  options.valueTargets = true;
  options.targetsAsFeatures = true;
  if (auto rows = readCsv(path, options, nullptr); rows.ok())
    for (int64_t length : {1, 3})
      (void)sequenceWindows(*rows, length, length - 1, path);
  options.features = {"x"};
  (void)readCsv(path, options, nullptr);
#elif GRADC_FUZZ_TARGET == 10 // PNG or JPEG image, then a resize
  auto image = decodeImage(writeInput(data, size, ".img"));
  if (image.ok())
    (void)resizeBilinear(*image, 7, 5);
#elif GRADC_FUZZ_TARGET == 11 // CIFAR binaries
  // The first byte chooses CIFAR-10 (data_batch_1.bin) or CIFAR-100
  // (train.bin) and whether the rest is also the class names file; the
  // rest is the batch file.
  namespace fs = std::filesystem;
  fs::path dir = "/tmp/gradc-fuzz-" + std::to_string(getpid()) + "-cifar";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  uint8_t selector = size ? data[0] : 0;
  bool cifar100 = selector & 1;
  auto put = [&](const char *name) {
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    if (size > 1)
      out.write(reinterpret_cast<const char *>(data + 1),
                std::streamsize(size - 1));
  };
  put(cifar100 ? "train.bin" : "data_batch_1.bin");
  if (selector & 2)
    put(cifar100 ? "fine_label_names.txt" : "batches.meta.txt");
  if (selector & 4)
    put(cifar100 ? "test.bin" : "test_batch.bin");
  (void)loadCifar(dir.string());
#elif GRADC_FUZZ_TARGET == 12 // text as bytes or UTF-8 characters
  // The first byte chooses the vocabulary (bit 0) and the context (the
  // rest, 0-127: 0 must be refused); the rest is the text file.
  uint8_t selector = size ? data[0] : 0;
  std::string path =
      writeInput(size ? data + 1 : data, size ? size - 1 : 0, ".txt");
  std::vector<std::string> vocabulary;
  auto set = loadText(
      path, selector & 1 ? TextVocabulary::Chars : TextVocabulary::Bytes,
      selector >> 1, &vocabulary);
  if (set.ok()) {
    // Tokenizing again with the saved vocabulary (as generate does).
    std::string text(reinterpret_cast<const char *>(data + 1), size - 1);
    (void)tokenize(text, vocabulary, path);
  }
#else
#error "GRADC_FUZZ_TARGET must be 1 to 12"
#endif
  return 0;
}
