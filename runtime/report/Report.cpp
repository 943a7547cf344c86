//===- Report.cpp - the HTML training report ------------------------------===//

#include "runtime/report/Report.h"
#include "support/Files.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <png.h>
#include <unistd.h>

namespace gradc {
namespace {

std::string esc(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

//===----------------------------------------------------------------------===//
// SVG charts
//===----------------------------------------------------------------------===//

struct Series {
  std::string name, color;
  std::vector<std::pair<double, double>> points; // (x, y)
  bool markers = false;                          // per-epoch points
};

/// A line chart of `series` over x in [0, xMax], with epoch gridlines.
std::string lineChart(const std::string &title, const std::string &id,
                      const std::vector<Series> &series, double xMax,
                      int64_t stepsPerEpoch, bool unitRange) {
  const double w = 640, h = 260, left = 56, right = 12, top = 28, bottom = 34;
  double yMin = 0, yMax = unitRange ? 1.0 : 0.0;
  for (const Series &s : series)
    for (auto [x, y] : s.points)
      if (std::isfinite(y))
        yMax = std::max(yMax, y);
  if (yMax <= yMin)
    yMax = yMin + 1;
  xMax = std::max(xMax, 1.0);
  auto X = [&](double x) { return left + (w - left - right) * x / xMax; };
  auto Y = [&](double y) {
    return top + (h - top - bottom) * (1 - (y - yMin) / (yMax - yMin));
  };
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s\" "
      "viewBox=\"0 0 %g %g\" width=\"%g\" height=\"%g\" "
      "font-family=\"sans-serif\" font-size=\"11\">\n"
      "<text x=\"%g\" y=\"16\" font-size=\"13\" "
      "font-weight=\"bold\">%s</text>\n"
      "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" "
      "stroke=\"#999\"/>\n",
      id, w, h, w, h, left, esc(title), left, top, w - left - right,
      h - top - bottom);
  for (int i = 0; i <= 4; ++i) {
    double y = yMin + (yMax - yMin) * i / 4;
    svg += absl::StrFormat("<text x=\"%g\" y=\"%g\" text-anchor=\"end\">%.3g"
                           "</text>\n",
                           left - 4, Y(y) + 4, y);
  }
  int64_t epochs = int64_t(std::ceil(xMax / double(stepsPerEpoch)));
  for (int64_t e = 1; e <= epochs; ++e) {
    double x = X(double(std::min<int64_t>(e * stepsPerEpoch, int64_t(xMax))));
    svg += absl::StrFormat("<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" "
                           "stroke=\"#ddd\"/><text x=\"%g\" y=\"%g\" "
                           "text-anchor=\"middle\">%d</text>\n",
                           x, top, x, h - bottom, x, h - bottom + 14, e);
  }
  svg += absl::StrFormat("<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">"
                         "epoch</text>\n",
                         left + (w - left - right) / 2, h - 4);
  double legendX = left + 8;
  for (const Series &s : series) {
    if (s.points.empty())
      continue;
    std::string d;
    for (auto [x, y] : s.points)
      if (std::isfinite(y))
        d += absl::StrFormat("%s%.1f,%.1f ", d.empty() ? "M" : "L", X(x), Y(y));
    svg += absl::StrFormat("<path d=\"%s\" fill=\"none\" stroke=\"%s\" "
                           "stroke-width=\"1.5\"/>\n",
                           d, s.color);
    if (s.markers)
      for (auto [x, y] : s.points)
        if (std::isfinite(y))
          svg += absl::StrFormat("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
                                 "fill=\"%s\"/>\n",
                                 X(x), Y(y), s.color);
    svg += absl::StrFormat("<rect x=\"%g\" y=\"%g\" width=\"10\" height=\"3\" "
                           "fill=\"%s\"/><text x=\"%g\" y=\"%g\">%s</text>\n",
                           legendX, top + 10, s.color, legendX + 14, top + 14,
                           esc(s.name));
    legendX += 24 + 6.5 * double(s.name.size());
  }
  return svg + "</svg>\n";
}

/// Moving average over a window of `k` steps.
std::vector<std::pair<double, double>> smoothed(const std::vector<double> &v,
                                                int64_t k) {
  std::vector<std::pair<double, double>> out;
  double sum = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    sum += v[i];
    if (i >= size_t(k))
      sum -= v[i - k];
    int64_t n = std::min<int64_t>(int64_t(i) + 1, k);
    out.push_back({double(i + 1), sum / double(n)});
  }
  return out;
}

/// The loss curves, or with `metric` the accuracy curves (the mean absolute
/// error per epoch for a regression model: its steps measure no accuracy).
std::vector<Series> curves(const ReportData &d, bool metric) {
  bool mae = metric && d.regression;
  int64_t window = std::max<int64_t>(1, d.stepsPerEpoch / 10);
  std::vector<Series> s;
  if (!mae)
    s.push_back({"train (smoothed)", "#1f77b4",
                 smoothed(metric ? d.stepAccuracy : d.stepLoss, window)});
  Series val{"validation", "#ff7f0e", {}, true};
  Series test{"test", "#2ca02c", {}, true};
  for (const ReportData::Epoch &e : d.epochs) {
    double x = double(std::min<int64_t>(e.epoch * d.stepsPerEpoch,
                                        int64_t(d.stepLoss.size())));
    if (e.hasValidation)
      val.points.push_back({x, mae      ? e.validationMae
                               : metric ? e.validationAccuracy
                                        : e.validationLoss});
    if (e.hasTest)
      test.points.push_back({x, mae      ? e.testMae
                                : metric ? e.testAccuracy
                                         : e.testLoss});
  }
  s.push_back(val);
  s.push_back(test);
  return s;
}

/// The second chart: accuracy (unit range), or MAE for a regression model.
std::string metricChart(const ReportData &d, double xMax) {
  return d.regression ? lineChart("Mean absolute error", "mae", curves(d, true),
                                  xMax, d.stepsPerEpoch, false)
                      : lineChart("Accuracy", "accuracy", curves(d, true), xMax,
                                  d.stepsPerEpoch, true);
}

std::string pngImg(const ReportImage &image, int scale,
                   const std::string &title) {
  return absl::StrFormat(
      "<img src=\"data:image/png;base64,%s\" title=\"%s\" alt=\"%s\">",
      absl::Base64Escape(encodePng(image, scale)), esc(title), esc(title));
}

std::string className(const ReportData &d, int64_t c) {
  return c >= 0 && c < int64_t(d.classNames.size()) ? d.classNames[c]
                                                    : std::to_string(c);
}

std::string confusionSection(const ReportData &d) {
  int64_t c = int64_t(std::lround(std::sqrt(double(d.confusion.size()))));
  if (c < 2 || c * c != int64_t(d.confusion.size()))
    return "";
  const double cell = 34, left = 110, top = 24;
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"confusion\" "
      "width=\"%g\" height=\"%g\" font-family=\"sans-serif\" "
      "font-size=\"10\">\n",
      left + cell * c + 10, top + cell * c + 10);
  for (int64_t t = 0; t < c; ++t) {
    int64_t rowSum = 0;
    for (int64_t p = 0; p < c; ++p)
      rowSum += d.confusion[t * c + p];
    svg += absl::StrFormat("<text x=\"%g\" y=\"%g\" text-anchor=\"end\">%s"
                           "</text>\n",
                           left - 4, top + cell * t + cell / 2 + 3,
                           esc(className(d, t)));
    for (int64_t p = 0; p < c; ++p) {
      int64_t n = d.confusion[t * c + p];
      double f = rowSum ? double(n) / double(rowSum) : 0;
      int shade = int(255 - 200 * f);
      svg += absl::StrFormat(
          "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" "
          "fill=\"rgb(%d,%d,255)\" stroke=\"#fff\"><title>true %s, "
          "predicted %s: %d</title></rect><text x=\"%g\" y=\"%g\" "
          "text-anchor=\"middle\" fill=\"%s\">%d</text>\n",
          left + cell * p, top + cell * t, cell, cell, shade, shade,
          esc(className(d, t)), esc(className(d, p)), n,
          left + cell * p + cell / 2, top + cell * t + cell / 2 + 3,
          f > 0.5 ? "#fff" : "#000", n);
    }
  }
  for (int64_t p = 0; p < c; ++p)
    svg += absl::StrFormat("<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">"
                           "%d</text>\n",
                           left + cell * p + cell / 2, top - 6, p);
  svg += "</svg>\n";
  std::string table = "<table><tr><th>class</th><th>precision</th>"
                      "<th>recall</th><th>F1</th><th>support</th></tr>\n";
  for (int64_t k = 0; k < c; ++k) {
    int64_t tp = d.confusion[k * c + k], predicted = 0, actual = 0;
    for (int64_t j = 0; j < c; ++j) {
      predicted += d.confusion[j * c + k];
      actual += d.confusion[k * c + j];
    }
    double precision = predicted ? double(tp) / double(predicted) : 0;
    double recall = actual ? double(tp) / double(actual) : 0;
    double f1 = precision + recall > 0
                    ? 2 * precision * recall / (precision + recall)
                    : 0;
    std::string name = k < int64_t(d.classNames.size())
                           ? absl::StrCat(k, " ", esc(d.classNames[k]))
                           : std::to_string(k);
    table += absl::StrFormat("<tr><td>%s</td><td>%.3f</td><td>%.3f</td>"
                             "<td>%.3f</td><td>%d</td></tr>\n",
                             name, precision, recall, f1, actual);
  }
  return "<h2>Confusion matrix (test; rows: true class, columns: "
         "predicted)</h2>\n<div class=\"row\">" +
         svg + table + "</table></div>\n";
}

} // namespace

std::string encodePng(const ReportImage &image, int scale) {
  int64_t h = image.height * scale, w = image.width * scale;
  int64_t ch = image.channels == 3 ? 3 : 1;
  float lo = 0, hi = 0;
  if (!image.pixels.empty()) {
    lo = hi = image.pixels[0];
    for (float v : image.pixels)
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  }
  float range = hi > lo ? hi - lo : 1;
  std::string raw;
  raw.reserve(size_t(h * w * ch));
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x)
      for (int64_t c = 0; c < ch; ++c) {
        size_t i =
            size_t(((y / scale) * image.width + x / scale) * image.channels +
                   std::min<int64_t>(c, image.channels - 1));
        float v = i < image.pixels.size() ? image.pixels[i] : lo;
        raw += char(std::isfinite(v) ? int(255 * (v - lo) / range + 0.5f) : 0);
      }
  }
  // libpng's simplified API: 8-bit grey or RGB rows, no colour map.
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = png_uint_32(w);
  png.height = png_uint_32(h);
  png.format = ch == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  if (!png_image_write_get_memory_size(png, size, 0, raw.data(), 0, nullptr))
    return "";
  std::string out(size, '\0');
  if (!png_image_write_to_memory(&png, out.data(), &size, 0, raw.data(), 0,
                                 nullptr))
    return "";
  out.resize(size);
  return out;
}

std::string renderReport(const ReportData &d) {
  std::string html = absl::StrFormat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<title>gradc report: %s</title>\n<style>\n"
      "body{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}"
      "h1{font-size:22px}h2{font-size:17px;margin-top:28px}"
      "table{border-collapse:collapse;font-size:13px}"
      "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
      ".row{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}"
      ".maps img{margin:1px;image-rendering:pixelated}"
      "pre{background:#f6f6f6;padding:8px;font-size:12px}"
      "figure{margin:4px;font-size:11px;text-align:center}"
      "</style></head><body>\n<h1>gradc training report: %s</h1>\n",
      esc(d.model), esc(d.model));
  html += absl::StrFormat("<p>Command: <code>%s</code><br>Seed: %d",
                          esc(d.commandLine), d.seed);
  if (d.compileSeconds > 0)
    html += absl::StrFormat("<br>Compile: %.1f s", d.compileSeconds);
  bool trained = !d.stepLoss.empty();
  if (!d.epochs.empty()) {
    const ReportData::Epoch &e = d.epochs.back();
    if (trained)
      html +=
          absl::StrFormat("<br>Epochs: %d, last epoch %.1f s, %.0f images/s",
                          e.epoch, e.seconds, e.imagesPerSecond);
    if (e.hasTest && d.regression)
      html += absl::StrFormat(
          "<br>Test MAE: %.4f, RMSE: %.4f, R&sup2;: %.4f (loss %.4f)",
          e.testMae, e.testRmse, e.testR2, e.testLoss);
    else if (e.hasTest)
      html += absl::StrFormat("<br>Test accuracy: %.2f%% (loss %.4f)",
                              100 * e.testAccuracy, e.testLoss);
  }
  html += "</p>\n";
  if (trained) {
    html += "<h2>Training curves</h2>\n<div class=\"row\">\n";
    double xMax = double(d.stepLoss.size());
    html += lineChart("Loss", "loss", curves(d, false), xMax, d.stepsPerEpoch,
                      false);
    html += metricChart(d, xMax);
    std::vector<std::pair<double, double>> lr;
    for (size_t i = 0; i < d.stepLr.size(); ++i)
      lr.push_back({double(i + 1), d.stepLr[i]});
    html += lineChart("Learning rate", "learning-rate",
                      {{"learning rate", "#9467bd", lr}}, xMax, d.stepsPerEpoch,
                      false);
    // Regression: no accuracy; MAE where it is measured.
    bool r = d.regression;
    html += absl::StrFormat(
        "</div>\n<table><tr><th>epoch</th><th>train loss</th>%s<th>val "
        "loss</th><th>val %s</th><th>test loss</th><th>test %s</th>"
        "<th>%s/s</th></tr>\n",
        r ? "" : "<th>train acc</th>", r ? "MAE" : "acc", r ? "MAE" : "acc",
        r ? "ex" : "img");
    auto metric = [&](bool has, double accuracy, double mae) {
      return !has ? std::string("-")
             : r  ? absl::StrFormat("%.4f", mae)
                  : absl::StrFormat("%.2f%%", 100 * accuracy);
    };
    for (const ReportData::Epoch &e : d.epochs)
      html += absl::StrFormat(
          "<tr><td>%d</td><td>%.4f</td>%s<td>%s</td><td>%s</td>"
          "<td>%s</td><td>%s</td><td>%.0f</td></tr>\n",
          e.epoch, e.trainLoss,
          r ? "" : absl::StrFormat("<td>%.2f%%</td>", 100 * e.trainAccuracy),
          e.hasValidation ? absl::StrFormat("%.4f", e.validationLoss) : "-",
          metric(e.hasValidation, e.validationAccuracy, e.validationMae),
          e.hasTest ? absl::StrFormat("%.4f", e.testLoss) : "-",
          metric(e.hasTest, e.testAccuracy, e.testMae), e.imagesPerSecond);
    html += "</table>\n";
  }
  html += confusionSection(d);
  if (!d.filters.empty()) {
    html += absl::StrFormat("<h2>Filters of %s</h2>\n<div class=\"maps\">",
                            esc(d.filtersLayer));
    for (size_t i = 0; i < d.filters.size(); ++i)
      html += pngImg(d.filters[i], 8, absl::StrCat("filter ", i));
    html += "</div>\n";
  }
  if (!d.featureMaps.empty()) {
    html += "<h2>Feature maps (test images)</h2>\n";
    for (size_t s = 0; s < d.samples.size(); ++s) {
      html += "<div class=\"row\"><figure>" + pngImg(d.samples[s], 3, "input") +
              "<figcaption>input</figcaption></figure></div>\n";
      for (const ReportData::FeatureMaps &m : d.featureMaps) {
        if (s >= m.perSample.size())
          continue;
        html +=
            absl::StrFormat("<div class=\"maps\"><b>%s</b><br>", esc(m.layer));
        for (size_t c = 0; c < m.perSample[s].size(); ++c)
          html +=
              pngImg(m.perSample[s][c], m.perSample[s][c].height >= 20 ? 2 : 4,
                     absl::StrCat(m.layer, " channel ", c));
        html += "</div>\n";
      }
    }
  }
  if (!d.mistakes.empty()) {
    html += "<h2>Most confidently misclassified test images</h2>\n"
            "<div class=\"row\">";
    for (const ReportData::Mistake &m : d.mistakes)
      html += absl::StrFormat(
          "<figure>%s<figcaption>true: %s<br>predicted: %s<br>p = %.3f"
          "</figcaption></figure>",
          pngImg(m.image, 3, "misclassified"), esc(className(d, m.truth)),
          esc(className(d, m.predicted)), m.probability);
    html += "</div>\n";
  }
  if (!d.summary.empty())
    html += "<h2>Model summary</h2>\n<pre>" + esc(d.summary) + "</pre>\n";
  return html + "</body></html>\n";
}

absl::Status writeReport(const std::string &dir, const ReportData &d) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    return absl::UnavailableError(absl::StrCat(
        dir, ": error: cannot create the report directory: ", ec.message()));
  double xMax = double(d.stepLoss.size());
  if (absl::Status s =
          writeFileAtomically(dir + "/loss.svg",
                              lineChart("Loss", "loss", curves(d, false), xMax,
                                        d.stepsPerEpoch, false),
                              "report");
      !s.ok())
    return s;
  if (absl::Status s = writeFileAtomically(
          dir + (d.regression ? "/mae.svg" : "/accuracy.svg"),
          metricChart(d, xMax), "report");
      !s.ok())
    return s;
  return writeFileAtomically(dir + "/index.html", renderReport(d), "report");
}

} // namespace gradc
