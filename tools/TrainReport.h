//===- TrainReport.h - end-of-run parts of the report --------*- C++ -*-===//
//
// After training: the test confusion matrix and mistakes, the first conv
// layer's filters, and the feature maps of every conv layer for a few test
// images, computed by the reference evaluator on @predict.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_TOOLS_TRAINREPORT_H
#define GRADC_TOOLS_TRAINREPORT_H

#include "runtime/data/IdxDataset.h"
#include "runtime/params/Parameters.h"
#include "runtime/report/Report.h"
#include "runtime/trainer/Trainer.h"
#include "tools/Session.h"

namespace gradc {

/// The command line of this process, for reports.
std::string &processCommandLine();

/// A report's run-independent parts: model name and summary, the command
/// line and the class names.
ReportData startReport(const ResolvedModel &model,
                       const std::vector<std::string> &classNames);

/// Fills the end-of-run parts of `report` from the trained `params` and the
/// final test evaluation `test` of `data`, writes it to `dir` and says where.
absl::Status finishReport(Session &session, const ResolvedModel &model,
                          const ParameterStore &params, const Dataset &data,
                          const EvalResult &test, ReportData &report,
                          const std::string &dir);

} // namespace gradc

#endif // GRADC_TOOLS_TRAINREPORT_H
