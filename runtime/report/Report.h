//===- Report.h - the HTML training report ---------------------*- C++ -*-===//
//
// `gradc train --report DIR` writes DIR/index.html, one self-contained page
// (inline SVG, CSS and PNG data URIs; no script, nothing from the network)
// rewritten atomically at every epoch end, plus the curves as SVG files:
// loss and accuracy per step (smoothed) and per epoch, the learning rate,
// the confusion matrix as a heat map with per-class precision, recall and
// F1, the first conv layer's filters, every conv layer's feature maps for a
// few test images, the most confidently misclassified test images, the
// model summary, throughput, the command line and the seed.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_REPORT_H
#define GRADC_RUNTIME_REPORT_H

#include "absl/status/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gradc {

/// A grey or RGB image of floats (any range; rendered min-max scaled).
struct ReportImage {
  int64_t height = 0, width = 0, channels = 1;
  std::vector<float> pixels; // HWC
};

struct ReportData {
  std::string model, commandLine, summary;
  int64_t seed = 0;
  std::vector<std::string> classNames;
  /// A regression model: the second metric is the mean absolute error (per
  /// epoch, on the validation and test sets) instead of the accuracy.
  bool regression = false;
  int64_t stepsPerEpoch = 1;
  /// Per training step: loss, batch accuracy and learning rate.
  std::vector<double> stepLoss, stepAccuracy, stepLr;
  struct Epoch {
    int64_t epoch = 0;
    double trainLoss = 0, trainAccuracy = 0;
    double validationLoss = 0, validationAccuracy = 0;
    double testLoss = 0, testAccuracy = 0;
    /// Regression: MAE on the validation and test sets, RMSE and R^2 on
    /// the test set.
    double validationMae = 0, testMae = 0, testRmse = 0, testR2 = 0;
    bool hasValidation = false, hasTest = false;
    double imagesPerSecond = 0, seconds = 0;
  };
  std::vector<Epoch> epochs;
  double compileSeconds = 0;
  /// Final test confusion matrix, confusion[true * C + predicted].
  std::vector<int64_t> confusion;
  /// The first conv layer's filters, one image each (kh x kw x cin).
  std::string filtersLayer;
  std::vector<ReportImage> filters;
  /// Feature maps of every conv layer for a few test images.
  std::vector<ReportImage> samples;
  struct FeatureMaps {
    std::string layer;
    std::vector<std::vector<ReportImage>> perSample; // [sample][channel]
  };
  std::vector<FeatureMaps> featureMaps;
  struct Mistake {
    ReportImage image;
    int64_t truth = 0, predicted = 0;
    double probability = 0;
  };
  std::vector<Mistake> mistakes;
};

/// The page.
std::string renderReport(const ReportData &d);

/// Writes DIR/index.html, DIR/loss.svg and DIR/accuracy.svg (DIR/mae.svg
/// for a regression model) atomically (temporary file, rename); DIR is
/// created if missing.
absl::Status writeReport(const std::string &dir, const ReportData &d);

/// A PNG of `image` (8 bits, grey or RGB, min-max scaled), `scale` times
/// larger, as bytes, written by libpng ("" if libpng fails).
std::string encodePng(const ReportImage &image, int scale = 1);

} // namespace gradc

#endif // GRADC_RUNTIME_REPORT_H
