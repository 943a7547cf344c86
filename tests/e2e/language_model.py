#===- language_model.py - text data, threads and generation -*- python -*-===#
"""A small causal language model (an embedding, learned positions, a layer
norm, causal multi-head attention, a GELU MLP and the next-token
classifier) on a generated text, end to end:

- data { text { vocabulary: CHARS } }: training prints bits per character
  and --metrics-json records them, and the loss falls; --data FILE.txt
  makes text data of a model without data { } (its bytes), and a
  checkpoint of another vocabulary is refused;
- 1 and 2 threads give bitwise the same weights after 3 steps (gradc's
  threads split only loops whose iterations write apart; the layer norm's
  gradient once summed its two row reductions into one buffer);
- gradc generate streams text of the vocabulary's characters, the same
  for the same seed; greedy decoding continues the text's pattern; a
  prompt character outside the vocabulary and a checkpoint without one are
  one error line each;
- the vocabulary is in the ONNX export's metadata ("gradc.vocabulary": a
  JSON array of the characters, or "BYTES").

Usage: language_model.py GRADC SCRATCH_DIR SOURCE_DIR
"""

import json
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as common  # noqa: E402

MODEL = """\
name: "tiny_lm"
input { name: "ids" shape: [64] dtype: INT64 }
layer { name: "embed" embedding { input_dim: 32 output_dim: 64 } }
layer { name: "pos" weight { shape: [64, 64] } }
layer { name: "x" add {} inputs: ["embed", "pos"] }
layer { name: "ln" layer_norm {} }
layer { name: "attn" multi_head_attention { heads: 4 causal: true } }
layer { name: "res" add {} inputs: ["x", "attn"] }
layer { name: "ff" dense { units: 128 activation: GELU } }
layer { name: "logits" dense { units: 32 activation: SOFTMAX } }
loss { sparse_categorical_crossentropy {} }
optimizer { adam { learning_rate: 0.01 } }
training { batch_size: 16 epochs: %d seed: 4 validation_split: 0.1 }
data { text { file: "%s" vocabulary: CHARS } }
"""


def main():
    gradc, scratch, source = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(scratch, exist_ok=True)
    check = common.Checker()
    pb = common.checkpoint_module(source, scratch)

    # 13 distinct characters, "é" among them (two UTF-8 bytes).
    text = os.path.join(scratch, "text.txt")
    with open(text, "w", encoding="utf-8") as f:
        for i in range(600):
            f.write("abc déf %d\n" % (i % 4))
    vocabulary = sorted(set(open(text, encoding="utf-8").read()))

    def model_file(epochs):
        path = os.path.join(scratch, "lm%d.pbtxt" % epochs)
        with open(path, "w") as f:
            f.write(MODEL % (epochs, text))
        return path

    # Threads: bitwise the same weights.
    params = []
    for threads in (1, 2):
        out = os.path.join(scratch, "threads%d.ckpt" % threads)
        code, stdout, err = common.run(
            [gradc, "train", model_file(1), "--max-steps", "3", "--threads",
             str(threads), "--checkpoint", out], timeout=120)
        if not check.check(code == 0, "%d threads: train failed" % threads,
                           stdout + err):
            check.finish()
        ckpt = pb.Checkpoint()
        with open(out, "rb") as f:
            ckpt.ParseFromString(f.read())
        params.append({t.name: list(t.data) for t in ckpt.param})
        check.check([v.decode() for v in ckpt.vocabulary] == vocabulary,
                    "the checkpoint's vocabulary %s" % list(ckpt.vocabulary))
    differ = [n for n in params[0] if params[0][n] != params[1].get(n)]
    print("%d tensors, %d differ between 1 and 2 threads"
          % (len(params[0]), len(differ)))
    check.check(sorted(params[0]) == sorted(params[1]) and not differ,
                "1 and 2 threads differ in %s" % differ)

    # --data FILE.txt for a model without data { }: text data all the same
    # (bits per character, the vocabulary saved); a checkpoint of another
    # text's vocabulary is refused rather than read with shifted ids.
    bare = (MODEL % (1, text)).split("data {")[0].replace(
        "input_dim: 32", "input_dim: 256").replace("units: 32", "units: 256")
    bare_model = os.path.join(scratch, "bare.pbtxt")
    chars_model = os.path.join(scratch, "chars.pbtxt")
    with open(bare_model, "w") as f:
        f.write(bare)
    with open(chars_model, "w") as f:
        f.write(bare + 'data { text { file: "%s" vocabulary: CHARS } }\n'
                % text)
    bytes_ckpt = os.path.join(scratch, "bytes.ckpt")
    code, out, err = common.run(
        [gradc, "train", bare_model, "--data", text, "--max-steps", "1",
         "--checkpoint", bytes_ckpt], timeout=120)
    check.check(code == 0 and "bpc " in out, "--data text.txt: exit %d"
                % code, out + err)
    ckpt = pb.Checkpoint()
    with open(bytes_ckpt, "rb") as f:
        ckpt.ParseFromString(f.read())
    check.check(len(ckpt.vocabulary) == 256, "--data text.txt saved %d "
                "tokens, not the 256 bytes" % len(ckpt.vocabulary))
    # The vocabulary in the ONNX export: "BYTES" for bytes, the characters
    # of CHARS as a JSON array.
    def metadata(model, ckpt):
        import onnx
        exported = ckpt + ".onnx"
        code, out, err = common.run([gradc, "export", model, "--weights",
                                     ckpt, "-o", exported], timeout=120)
        if not check.check(code == 0, "gradc export failed", out + err):
            return None
        props = {p.key: p.value for p in onnx.load(exported).metadata_props}
        return props.get("gradc.vocabulary")
    got = metadata(bare_model, bytes_ckpt)
    check.check(got == "BYTES", "the bytes model's ONNX metadata says %r"
                % got)
    code, out, err = common.run(
        [gradc, "train", chars_model, "--init-from", bytes_ckpt,
         "--max-steps", "1"], timeout=120)
    check.check(code == 1 and "vocabulary (256 tokens) is not the text's"
                in err and err.count("\n") == 1,
                "another text's vocabulary: exit %d" % code, err)

    # Training on the text: bits per character, falling.
    weights = os.path.join(scratch, "lm.ckpt")
    metrics = os.path.join(scratch, "metrics.json")
    if os.path.exists(metrics):
        os.remove(metrics)
    code, out, err = common.run(
        [gradc, "train", model_file(20), "--checkpoint", weights,
         "--metrics-json", metrics], timeout=180)
    if not check.check(code == 0, "training failed", out + err):
        check.finish()
    check.check("bpc " in out, "no bits per character printed", out)
    got = metadata(model_file(20), weights)
    check.check(got is not None and json.loads(got) == vocabulary,
                "the ONNX metadata's vocabulary is %r, not %r"
                % (got, vocabulary))
    epochs = [json.loads(l) for l in open(metrics)]
    first, last = epochs[0]["validation_bpc"], epochs[-1]["validation_bpc"]
    print("validation bits per character: %.3f after epoch 1, %.3f after %d"
          % (first, last, len(epochs)))
    check.check(abs(last - epochs[-1]["validation_loss"] / 0.6931471805599453)
                < 1e-4, "bpc is not the loss / ln 2")
    check.check(last < 0.6 * first,
                "validation bpc %.3f -> %.3f" % (first, last))

    # Generation: the vocabulary's characters, the same for one seed.
    def generate(*flags):
        return common.run([gradc, "generate", model_file(20), "--weights",
                           weights] + list(flags), timeout=120)
    runs = [generate("--prompt", "abc d", "--tokens", "40", "--seed", s)
            for s in ("3", "3", "4")]
    for code, out, err in runs:
        check.check(code == 0, "generate failed", out + err)
    texts = [out for _, out, _ in runs]
    check.check(texts[0] == texts[1], "one seed, two texts:\n%s\n%s"
                % tuple(texts[:2]))
    check.check(texts[0].startswith("abc d") and
                len(texts[0].rstrip("\n")) == 45 and
                set(texts[0].rstrip("\n")) <= set(vocabulary),
                "generated %r" % texts[0])
    code, out, err = generate("--prompt", "abc d", "--tokens", "12",
                              "--temperature", "0")
    print("greedy: %r" % out)
    check.check(code == 0 and out.startswith("abc déf ") and
                out[8] in "0123" and out[9:13] == "\nabc",
                "greedy decoding gave %r" % out)

    code, out, err = generate("--prompt", "xyz")
    check.check(code == 1 and err.count("\n") == 1 and
                "'x' at byte 0 is not in the vocabulary" in err,
                "a prompt outside the vocabulary: exit %d" % code, err)
    ckpt = pb.Checkpoint()
    with open(weights, "rb") as f:
        ckpt.ParseFromString(f.read())
    del ckpt.vocabulary[:]
    bare = os.path.join(scratch, "bare.ckpt")
    common.write_checkpoint(ckpt, bare)
    code, out, err = common.run([gradc, "generate", model_file(20), "--weights",
                                 bare, "--prompt", "abc"], timeout=60)
    check.check(code == 1 and "holds no vocabulary" in err and
                err.count("\n") == 1, "no vocabulary: exit %d" % code, err)
    check.finish()


if __name__ == "__main__":
    main()
