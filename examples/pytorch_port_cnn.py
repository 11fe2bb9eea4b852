"""A PyTorch training script that runs unchanged on mnp: only the import block differs.

    python examples/pytorch_port_cnn.py --framework mnp     # or --framework torch
        [--epochs 12] [--batch-size 64] [--num-workers 2] [--out runs/pytorch_port_cnn]

A small CNN on the UCI 8x8 digits that ship with mnp-data (1,797 images, 10 classes):
a stem convolution, two depthwise-separable blocks (a grouped 3x3 convolution, one per
channel, then a 1x1 convolution), BatchNorm2d, SiLU, global AdaptiveAvgPool2d, Dropout and
a linear head; F.cross_entropy with label smoothing, AdamW, a OneCycleLR schedule stepped
every batch, gradient-norm clipping, a DataLoader with worker processes, and the state
dict saved at the end. Prints the test accuracy.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=("torch", "mnp"), default="mnp")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--num-workers", type=int, default=2)
    parser.add_argument("--train-limit", type=int, default=None,
                        help="train on only this many images (a quick smoke run)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/pytorch_port_cnn"))
    return parser.parse_args(argv)


args = parse_args()

# -- the only framework-specific lines ------------------------------------------------------
if args.framework == "torch":
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.nn.utils import clip_grad_norm_
    from torch.optim import AdamW
    from torch.optim.lr_scheduler import OneCycleLR
    from torch.utils.data import DataLoader, TensorDataset

    def load_digits():
        """mnp.data.digits' arrays: float32 (1797, 64) pixels 0..16, int64 labels 0..9."""
        from mnp.data import digits
        return digits()
else:
    import mnp.core as torch
    import mnp.nn as nn
    import mnp.nn.functional as F
    from mnp.data import DataLoader, TensorDataset
    from mnp.data import digits as load_digits
    from mnp.nn.utils import clip_grad_norm_
    from mnp.optim import AdamW
    from mnp.optim.lr_scheduler import OneCycleLR
# -------------------------------------------------------------------------------------------


class SeparableBlock(nn.Module):
    """A depthwise 3x3 convolution (one filter per channel), then a pointwise 1x1 one."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels,
                                   bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.pointwise(self.depthwise(x))))


class DigitsNet(nn.Module):
    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(32), nn.SiLU())
        self.block1 = SeparableBlock(32, 64)
        self.block2 = SeparableBlock(64, 128)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                                  nn.Linear(128, num_classes))

    def forward(self, x):
        return self.head(self.block2(self.block1(self.stem(x))))


def evaluate(model, loader) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(dim=1) == labels).sum().item()
            total += labels.shape[0]
    return correct / total


def main() -> float:
    torch.manual_seed(args.seed)
    images, labels = load_digits()
    images = (images / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    order = np.random.default_rng(args.seed).permutation(len(images))
    test, train = order[:360], order[360:][:args.train_limit]
    train_set = TensorDataset(torch.from_numpy(images[train]), torch.from_numpy(labels[train]))
    test_set = TensorDataset(torch.from_numpy(images[test]), torch.from_numpy(labels[test]))
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              num_workers=args.num_workers,
                              persistent_workers=args.num_workers > 0)
    test_loader = DataLoader(test_set, batch_size=256)

    model = DigitsNet()
    print(f"parameters: {sum(p.numel() for p in model.parameters())}")
    optimizer = AdamW(model.parameters(), lr=args.lr, weight_decay=5e-4)
    scheduler = OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs,
                           steps_per_epoch=len(train_loader))
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        total_loss = 0.0
        for images_b, labels_b in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images_b), labels_b, label_smoothing=0.1)
            loss.backward()
            clip_grad_norm_(model.parameters(), max_norm=2.0)
            optimizer.step()
            scheduler.step()
            total_loss += loss.item() * labels_b.shape[0]
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {total_loss / len(train_set):.4f}, "
              f"lr {scheduler.get_last_lr()[0]:.2e}", flush=True)

    accuracy = evaluate(model, test_loader)
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out / f"model-{args.framework}.pt")
    print(f"trained in {time.perf_counter() - start:.1f} s with {args.framework}")
    print(f"test accuracy: {100 * accuracy:.2f}%")
    return accuracy


if __name__ == "__main__":
    main()
