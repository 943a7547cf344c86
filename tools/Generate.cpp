//===- Generate.cpp - gradc generate: text from a language model ----------===//
//
// Samples from a model trained on data { text }: the prompt's tokens, then
// one token at a time from the predicted distribution at the last position
// (runtime/trainer/Sampling.h), each printed as it comes. The window slides
// once the context is full. Each token runs the whole window through
// @predict (no key/value cache yet), the positions after the last token
// zeros: the model must be causal, its positions blind to later ones.
//
//===----------------------------------------------------------------------===//

#include "tools/Commands.h"
#include "tools/Compiler.h"
#include "tools/LoadData.h"
#include "tools/Session.h"

#include "runtime/data/Text.h"
#include "runtime/params/Parameters.h"
#include "runtime/trainer/Sampling.h"
#include "runtime/trainer/StepArguments.h"

#include "absl/strings/str_cat.h"

#include <cmath>
#include <iostream>

using namespace llvm;

namespace gradc {

cl::SubCommand &generateCommand() {
  static cl::SubCommand sub("generate",
                            "Sample text from a trained language model");
  return sub;
}

namespace {
cl::opt<std::string> model(cl::Positional, cl::desc("MODEL"), cl::Required,
                           cl::sub(generateCommand()));
cl::opt<std::string> weights("weights",
                             cl::desc("Checkpoint of the trained model"),
                             cl::value_desc("FILE"), cl::Required,
                             cl::sub(generateCommand()));
cl::opt<std::string> prompt("prompt", cl::desc("The text to continue"),
                            cl::value_desc("TEXT"), cl::Required,
                            cl::sub(generateCommand()));
cl::opt<int64_t> tokens("tokens", cl::desc("Tokens to generate (default 200)"),
                        cl::init(200), cl::sub(generateCommand()));
cl::opt<double> temperature(
    "temperature",
    cl::desc("Divides the logits (default 1; 0 takes the most likely token)"),
    cl::init(1.0), cl::sub(generateCommand()));
cl::opt<int64_t> topK("top-k",
                      cl::desc("Sample from the K most likely tokens only "
                               "(default: all)"),
                      cl::init(0), cl::sub(generateCommand()));
cl::opt<int64_t> seed("seed", cl::desc("Seed of the draws (default 0)"),
                      cl::init(0), cl::sub(generateCommand()));
cl::opt<int64_t> threads("threads", cl::desc("Threads (default 1)"),
                         cl::init(1), cl::sub(generateCommand()));

/// One line naming what a language model needs, or "" for one.
std::string notALanguageModel(const ResolvedModel &m) {
  const auto &in = m.inputShape(), &out = m.outputShape();
  if (m.inputs.size() != 1 || !m.firstInput().integer() || in.size() != 1 ||
      out.size() != 2 || out[0] != in[0] || m.regression)
    return absl::StrCat(
        "gradc generate needs a language model: token ids [T] in, "
        "next-token probabilities [T, vocabulary] out; '",
        m.name, "' is not one");
  return "";
}
} // namespace

int runGenerate() {
  if (!flagInRange("generate", tokens, 0, 1000000) ||
      !flagInRange("generate", topK, 0, int64_t(1) << 31) ||
      !flagInRange("generate", threads, 1, 256))
    return 1;
  if (!(temperature >= 0 && std::isfinite(temperature))) {
    std::cerr << "gradc generate: error: --temperature must be a finite "
                 "number >= 0\n";
    return 1;
  }
  Session session;
  const ResolvedModel *loaded = session.load(model);
  if (!loaded)
    return 1;
  const ResolvedModel &m = *loaded;
  if (std::string why = notALanguageModel(m); !why.empty())
    return fail(absl::InvalidArgumentError(absl::StrCat(model, ": ", why)));
  ParameterStore params = ParameterStore::initialize(m, 0);
  if (absl::Status s = params.load(weights, /*weightsOnly=*/true); !s.ok())
    return fail(s);
  const std::vector<std::string> &vocabulary = params.vocabulary;
  int64_t context = m.inputShape()[0], classes = m.outputShape()[1];
  if (vocabulary.empty() || int64_t(vocabulary.size()) > classes)
    return fail(absl::InvalidArgumentError(absl::StrCat(
        weights, ": error: the checkpoint holds ",
        vocabulary.empty() ? "no vocabulary (train the model on data { text "
                             "})"
                           : absl::StrCat("a vocabulary of ", vocabulary.size(),
                                          " tokens, more than the model's ",
                                          classes, " outputs"))));
  auto ids = tokenize(prompt, vocabulary, "--prompt");
  if (!ids.ok())
    return fail(ids.status());
  if (ids->empty())
    return fail(absl::InvalidArgumentError(
        "gradc generate: error: --prompt needs at least one character"));
  // Tokens the model can read back: its embedding's rows, its outputs.
  int64_t limit = int64_t(vocabulary.size());
  if (int64_t rows = dataSpecFor(m).idLimit; rows > 0 && rows < limit)
    limit = rows;
  for (size_t i = 0; i < ids->size(); ++i)
    if ((*ids)[i] >= limit)
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "--prompt: error: character ", i, " is token ", (*ids)[i],
          ", beyond the model's embedding of ", limit, " rows")));

  CompilerOptions options;
  options.threads = int(threads);
  Compiler compiler(session, options);
  auto jit = compiler.get(1);
  if (!jit.ok())
    return fail(jit.status());
  bool int32 = m.firstInput().dtype == Input::INT32;
  std::vector<int64_t> x64(size_t(context), 0);
  std::vector<int32_t> x32(size_t(context), 0);
  std::vector<float> probs(size_t(context * classes));
  TokenSampler sampler({temperature, topK}, uint64_t(int64_t(seed)));
  std::cout << prompt << std::flush;
  for (int64_t k = 0; k < tokens; ++k) {
    // The last `context` tokens at positions 0..; later positions are
    // zeros that a causal model's earlier positions do not see.
    int64_t n = std::min<int64_t>(int64_t(ids->size()), context);
    const int64_t *window = ids->data() + ids->size() - size_t(n);
    std::fill(x64.begin(), x64.end(), 0);
    std::fill(x32.begin(), x32.end(), 0);
    for (int64_t t = 0; t < n; ++t) {
      x64[size_t(t)] = window[t];
      x32[size_t(t)] = int32_t(window[t]);
    }
    std::vector<BufferRef> args = entryArguments(params, false);
    BufferRef xr, pr;
    xr.data = int32 ? static_cast<void *>(x32.data()) : x64.data();
    xr.shape = {1, context};
    pr.data = probs.data();
    pr.shape = {1, context, classes};
    args.push_back(xr);
    args.push_back(pr);
    if (absl::Status s = (*jit)->call("predict", args); !s.ok())
      return fail(s);
    // Only the tokens it can read back: a model may have more outputs.
    int64_t next = sampler.next(probs.data() + (n - 1) * classes, limit);
    ids->push_back(next);
    std::cout << vocabulary[size_t(next)] << std::flush;
  }
  std::cout << "\n";
  return 0;
}

} // namespace gradc
