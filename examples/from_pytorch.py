#!/usr/bin/env python3
"""Trains a small network on two moons in PyTorch and saves it for typenet.

    /usr/bin/python3 examples/from_pytorch.py --out DIR
    ./build/examples/from_pytorch --model DIR/moons.safetensors --data DIR/moons_test.safetensors

The network is nn.Sequential(Linear(2, 16), BatchNorm1d(16), ReLU, Linear(16,
16), Tanh, Linear(16, 2)), two logits, trained with Adam on 1000 points;
DIR/moons.safetensors holds it (typenet_torch.save: the state_dict as
safetensors, and the typenet type in the metadata), DIR/moons_test.safetensors
the 500 test points ("x", float32 [500, 2]) and their labels ("label",
int64 [500]). Prints the test accuracy; the C++ program, which loads both
into typenet, prints the same. Needs PyTorch (Debian: python3-torch, for
/usr/bin/python3); typenet_torch.py is in examples/python.
"""

import argparse
import math
import os
import sys

try:
    import torch
except ImportError:
    print(f"from_pytorch.py needs PyTorch for {sys.executable} (Debian: apt-get install python3-torch)")
    sys.exit(77)  # meson's "skipped"

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))
import typenet_torch  # noqa: E402 (beside this script)


def make_moons(n, noise, generator):
    """scikit-learn's make_moons, in torch: two interleaved half circles."""
    outer, inner = n // 2, n - n // 2
    t_outer = torch.rand(outer, generator=generator) * math.pi
    t_inner = torch.rand(inner, generator=generator) * math.pi
    x = torch.cat([torch.stack([torch.cos(t_outer), torch.sin(t_outer)], 1),
                   torch.stack([1 - torch.cos(t_inner), 0.5 - torch.sin(t_inner)], 1)])
    x += noise * torch.randn(x.shape, generator=generator)
    labels = torch.cat([torch.zeros(outer, dtype=torch.int64), torch.ones(inner, dtype=torch.int64)])
    return x, labels


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="folder for moons.safetensors and moons_test.safetensors")
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(a.seed)
    x_train, y_train = make_moons(1000, 0.2, generator)
    x_test, y_test = make_moons(500, 0.2, generator)

    net = torch.nn.Sequential(
        torch.nn.Linear(2, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(),
        torch.nn.Linear(16, 16), torch.nn.Tanh(),
        torch.nn.Linear(16, 2))
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for epoch in range(a.epochs):
        net.train()
        for batch in torch.randperm(len(x_train), generator=generator).split(100):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x_train[batch]), y_train[batch]).backward()
            opt.step()
        if (epoch + 1) % 100 == 0:
            print(f"epoch {epoch + 1}: training loss "
                  f"{torch.nn.functional.cross_entropy(net(x_train), y_train).item():.4f}")
    net.eval()
    with torch.no_grad():
        correct = int((net(x_test).argmax(1) == y_test).sum())
    os.makedirs(a.out, exist_ok=True)
    model_path = os.path.join(a.out, "moons.safetensors")
    typenet_torch.save(net, model_path)
    typenet_torch.write_tensors(os.path.join(a.out, "moons_test.safetensors"), {"x": x_test, "label": y_test})
    print(f"saved {model_path}: {typenet_torch.read_tensors(model_path)[1][typenet_torch.NETWORK_KEY]}")
    print(f"PyTorch test accuracy: {100 * correct / len(y_test):.2f}% ({correct} of {len(y_test)})")


if __name__ == "__main__":
    main()
