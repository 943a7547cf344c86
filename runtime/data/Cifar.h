//===- Cifar.h - CIFAR-10 and CIFAR-100 binary files -------------*- C++
//-*-===//
//
// The binary versions of CIFAR-10 (cifar-10-batches-bin) and CIFAR-100
// (cifar-100-binary) as distributed by their authors: fixed-size records of
// label bytes and a 32x32 RGB image stored plane by plane.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_DATA_CIFAR_H
#define GRADC_RUNTIME_DATA_CIFAR_H

#include "runtime/data/Dataset.h"

#include "absl/status/statusor.h"

#include <string>

namespace gradc {

/// CIFAR images are 32 x 32 x 3.
constexpr int64_t kCifarSide = 32;
constexpr int64_t kCifarImageBytes = kCifarSide * kCifarSide * 3;

/// Loads the CIFAR binary files in `dir`; the format is told by the files
/// present:
///  - CIFAR-10: data_batch_1.bin .. data_batch_5.bin (training) and
///    test_batch.bin. Records are 3073 bytes: the label (0..9), then the
///    image's 1024 red, 1024 green and 1024 blue bytes, each plane row by
///    row. Any subset of the five training batches may be present, as long
///    as data_batch_1.bin is (a quick run on fewer examples); they are read
///    in batch order. Class names come from batches.meta.txt (one name per
///    line, blank lines ignored) when present.
///  - CIFAR-100: train.bin and test.bin. Records are 3074 bytes: the coarse
///    label (0..19), the fine label (0..99), then the planes. The fine label
///    is the class (100 classes); class names come from
///    fine_label_names.txt when present.
/// The test file is optional: without it DataSplits::test is empty.
/// DataSplits::validation is always empty (the caller splits the training
/// set). Images become HWC pixels (Dataset: 32 x 32 x 3, uint8), examples
/// in file order.
/// Errors (one line, starting with the file concerned): no training file,
/// both formats' files in one directory, a file whose size is not a whole,
/// non-zero number of records, a label out of range (naming the record), a
/// class names file with the wrong number of names, a file that is not
/// regular or larger than 1 GiB.
absl::StatusOr<DataSplits> loadCifar(const std::string &dir);

} // namespace gradc

#endif // GRADC_RUNTIME_DATA_CIFAR_H
