#!/usr/bin/env python3
"""torch.randn reference values for TorchGenerator (Tests/LDMPipelinesTests/Fixtures/randn.safetensors).

    /tmp/torch-venv/bin/python Scripts/make_rng_fixtures.py Tests/LDMPipelinesTests/Fixtures
Each entry "seed/size1,size2,..." holds torch.manual_seed(seed) followed by torch.randn(size_k)
for each size in order, concatenated (one stream). Made on an AMD (AVX2, no MKL VSL) CPU with the
torch 2.15.0 PyPI wheel; torch.backends.cpu.get_cpu_capability() is recorded in the metadata.
"""
import sys

import torch
from safetensors.torch import save_file

out = {}
cases = [(0, [1]), (0, [3]), (42, [15]), (42, [16]), (42, [17]), (7, [40]), (12345, [1000]), (2 ** 40 + 7, [3 * 64 * 64]),
         (99, [5, 5]), (99, [3 * 8 * 8, 3 * 8 * 8, 3 * 8 * 8]), (31337, [100, 7, 300])]
for seed, sizes in cases:
    torch.manual_seed(seed)
    values = torch.cat([torch.randn(s) for s in sizes])
    out[f"{seed}/{','.join(map(str, sizes))}"] = values
save_file(out, f"{sys.argv[1]}/randn.safetensors",
          metadata={"torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability()})
print(torch.backends.cpu.get_cpu_capability(), len(out), "cases")
