//===- FuzzTargets.cpp - libFuzzer entry points of gradc's readers --------===//
//
// One source, one target per reader, chosen by GRADC_FUZZ_TARGET at compile
// time: the text and binary model loaders (with the checker), the ONNX
// importer, the IDX reader (raw and gzip), the checkpoint reader and the
// compile cache's entry decoder. Each writes the input to a file (the
// readers take paths, as gradc does; the entry decoder takes bytes) and
// must answer with a status, never a crash, a hang or a leak; ASan and
// UBSan watch. Built by scripts/fuzz.sh with clang.
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelChecker.h"
#include "frontend/ModelLoader.h"
#include "runtime/CompileCache.h"
#include "runtime/IdxDataset.h"
#include "runtime/Parameters.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

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
#elif GRADC_FUZZ_TARGET == 2 // binary model
  loadAndCheck(writeInput(data, size, ".pb"));
#elif GRADC_FUZZ_TARGET == 3 // ONNX model
  loadAndCheck(writeInput(data, size, ".onnx"));
#elif GRADC_FUZZ_TARGET == 4 // IDX images and labels, raw and gzip
  bool gz = size > 2 && data[0] == 0x1f && data[1] == 0x8b;
  std::string path = writeInput(data, size, gz ? ".idx.gz" : ".idx");
  (void)readIdxImages(path);
  (void)readIdxLabels(path);
#elif GRADC_FUZZ_TARGET == 5 // checkpoint
  ParameterStore params = ParameterStore::initialize(checkpointModel(), 0);
  (void)params.load(writeInput(data, size, ".ckpt"), /*weightsOnly=*/false,
                    &checkpointModel());
#elif GRADC_FUZZ_TARGET == 6 // compile cache entry
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
#else
#error "GRADC_FUZZ_TARGET must be 1 to 6"
#endif
  return 0;
}
