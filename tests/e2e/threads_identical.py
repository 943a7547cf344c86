#===- threads_identical.py - one thread or two, the same weights -*- python -*-===#
"""gradc's threads split only loops whose iterations write apart, so a run
on 1 and on 2 threads must give bitwise the same weights. A small language
model on a generated text (an embedding, a layer norm, causal multi-head
attention, a GELU MLP and the next-token classifier, each big enough for
the thread split) trains 3 Adam steps with each; every parameter must be
equal. (The layer norm's gradient once summed its two row reductions into
one buffer when split across threads.)

Usage: threads_identical.py GRADC SCRATCH_DIR SOURCE_DIR
"""

import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as common  # noqa: E402

MODEL = """\
name: "threads"
input { name: "ids" shape: [64] dtype: INT64 }
layer { name: "embed" embedding { input_dim: 128 output_dim: 64 } }
layer { name: "ln" layer_norm {} }
layer { name: "attn" multi_head_attention { heads: 4 causal: true } }
layer { name: "res" add {} inputs: ["embed", "attn"] }
layer { name: "ff" dense { units: 128 activation: GELU } }
layer { name: "logits" dense { units: 128 activation: SOFTMAX } }
loss { sparse_categorical_crossentropy {} }
optimizer { adam { learning_rate: 0.01 } }
training { batch_size: 16 seed: 4 }
data { text { file: "%s" vocabulary: BYTES } }
"""


def main():
    gradc, scratch, source = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(scratch, exist_ok=True)
    check = common.Checker()
    subprocess.run(["protoc", "-I", os.path.join(source, "runtime", "params"),
                    "--python_out", scratch, "checkpoint.proto"], check=True)
    sys.path.insert(0, scratch)
    import checkpoint_pb2 as pb  # noqa: E402

    text = os.path.join(scratch, "text.txt")
    with open(text, "w") as f:
        for i in range(400):
            f.write("line %d: the quick brown fox jumps over %d lazy dogs\n"
                    % (i, i * 7 % 13))
    model = os.path.join(scratch, "threads.pbtxt")
    with open(model, "w") as f:
        f.write(MODEL % text)
    params = []
    for threads in (1, 2):
        out = os.path.join(scratch, "threads%d.ckpt" % threads)
        code, stdout, err = common.run(
            [gradc, "train", model, "--max-steps", "3", "--threads",
             str(threads), "--checkpoint", out], timeout=120)
        if not check.check(code == 0, "%d threads: train failed" % threads,
                           stdout + err):
            check.finish()
        ckpt = pb.Checkpoint()
        with open(out, "rb") as f:
            ckpt.ParseFromString(f.read())
        params.append({t.name: list(t.data) for t in ckpt.param})
    check.check(sorted(params[0]) == sorted(params[1]), "different tensors")
    differ = [n for n in params[0] if params[0][n] != params[1].get(n)]
    print("%d tensors, %d differ between 1 and 2 threads"
          % (len(params[0]), len(differ)))
    check.check(not differ, "1 and 2 threads differ in %s" % differ)
    check.finish()


if __name__ == "__main__":
    main()
