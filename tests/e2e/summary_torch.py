#!/usr/bin/env python3
"""gradc summary against PyTorch: for every example with a PyTorch twin in
bench/torch_reference.py, and the ResNet example (its twin below), the
trainable parameter count of each layer that has parameters, in order, and
the total equal PyTorch's; the ResNet's non-trainable count equals its
BatchNorm2d running statistics.

  summary_torch.py GRADC SCRATCH_DIR SOURCE_DIR
"""
import re
import subprocess
import sys

sys.path.insert(0, sys.argv[3] + "/bench")
import torch_reference  # noqa: E402

import torch.nn as nn  # noqa: E402


class ResNetTwin(nn.Module):
    """examples/fashion_mnist_resnet.pbtxt in PyTorch, its layers in the
    file's order."""

    def __init__(self):
        super().__init__()

        def conv_bn(cin, cout, k, stride):
            return [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False),
                    nn.BatchNorm2d(cout)]
        layers = conv_bn(1, 16, 3, 1)                       # stem
        layers += conv_bn(16, 16, 3, 1) + conv_bn(16, 16, 3, 1)  # b1
        layers += conv_bn(16, 32, 3, 2) + conv_bn(32, 32, 3, 1)  # b2
        layers += conv_bn(16, 32, 1, 2)                     # b2 shortcut
        layers += conv_bn(32, 64, 3, 2) + conv_bn(64, 64, 3, 1)  # b3
        layers += conv_bn(32, 64, 1, 2)                     # b3 shortcut
        layers += [nn.Linear(64, 10)]
        self.layers = nn.ModuleList(layers)


def twin(name):
    if name == "fashion_mnist_resnet":
        return ResNetTwin()
    return torch_reference.build_model(name)


gradc, source = sys.argv[1], sys.argv[3]
failures = 0
for name in torch_reference.MODELS + ("fashion_mnist_resnet",):
    out = subprocess.run([gradc, "summary", f"{source}/examples/{name}.pbtxt"],
                         capture_output=True, text=True, check=True).stdout
    rows = re.findall(r"^\S+ \((\w+)\)\s+\[N[^\]]*\]\s+([\d,]+)\s+[\d.]+$", out,
                      re.MULTILINE)
    ours = [int(p.replace(",", "")) for kind, p in rows if p != "0"]
    total = int(re.search(r"^Trainable params: ([\d,]+)$", out,
                          re.MULTILINE).group(1).replace(",", ""))
    net = twin(name)
    # Per layer, as Keras counts: parameters and running statistics.
    theirs = [sum(p.numel() for p in m.parameters(recurse=False)) +
              sum(b.numel() for n, b in m.named_buffers(recurse=False)
                  if n.startswith("running"))
              for m in net.modules()]
    theirs = [n for n in theirs if n]
    torch_total = sum(p.numel() for p in net.parameters())
    buffers = sum(b.numel() for n, b in net.named_buffers()
                  if n.split(".")[-1].startswith("running"))
    frozen = int(re.search(r"^Non-trainable params: ([\d,]+)$", out,
                           re.MULTILINE).group(1).replace(",", ""))
    ok = ours == theirs and total == torch_total and frozen == buffers
    failures += not ok
    print(f"{name}: gradc {ours} trainable {total} frozen {frozen}, "
          f"PyTorch {theirs} trainable {torch_total} frozen {buffers}: "
          f"{'ok' if ok else 'MISMATCH'}")
sys.exit(1 if failures else 0)
