#!/usr/bin/env python3
"""gradc summary against PyTorch: for every example with a PyTorch twin in
bench/torch_reference.py, the trainable parameter count of each layer that
has parameters, in order, and the total equal PyTorch's.

  summary_torch.py GRADC SCRATCH_DIR SOURCE_DIR
"""
import re
import subprocess
import sys

sys.path.insert(0, sys.argv[3] + "/bench")
import torch_reference  # noqa: E402

gradc, source = sys.argv[1], sys.argv[3]
failures = 0
for name in torch_reference.MODELS:
    out = subprocess.run([gradc, "summary", f"{source}/examples/{name}.pbtxt"],
                         capture_output=True, text=True, check=True).stdout
    rows = re.findall(r"^\S+ \((\w+)\)\s+\[N[^\]]*\]\s+([\d,]+)\s+[\d.]+$", out,
                      re.MULTILINE)
    ours = [int(p.replace(",", "")) for kind, p in rows if p != "0"]
    total = int(re.search(r"^Trainable params: ([\d,]+)$", out,
                          re.MULTILINE).group(1).replace(",", ""))
    net = torch_reference.build_model(name)
    theirs = [sum(p.numel() for p in m.parameters(recurse=False))
              for m in net.modules()]
    theirs = [n for n in theirs if n]
    torch_total = sum(p.numel() for p in net.parameters())
    ok = ours == theirs and total == torch_total
    failures += not ok
    print(f"{name}: gradc {ours} total {total}, PyTorch {theirs} total "
          f"{torch_total}: {'ok' if ok else 'MISMATCH'}")
sys.exit(1 if failures else 0)
