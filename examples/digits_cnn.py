"""Train a small CNN on the UCI digits that ship with mnp-data.

    python examples/digits_cnn.py [--epochs 30] [--out runs/digits_cnn]
    mpiexec -n 2 python examples/digits_cnn.py     # data-parallel (needs mnp-distributed)

Adam with a cosine-annealed learning rate. Prints a progress bar per epoch, the model
summary and the test accuracy, and saves the model (one safetensors file) and a
training-curve PNG.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import mnp.core as mnp
from mnp import data, nn, optim


def build_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Dropout(0.25),
        nn.Linear(64, 10),
    )


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/digits_cnn"))
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    mnp.manual_seed(args.seed)
    X, y = data.digits()
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    X_train, X_test, y_train, y_test = data.train_test_split(
        X, y, test_size=0.2, seed=args.seed, stratify=y)

    model = build_model()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    # the learning rate anneals to zero over the run, so the last epoch's weights are settled
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    trainer = nn.Trainer(model, optimizer, nn.CrossEntropyLoss(), metrics=("accuracy",),
                         scheduler=schedule)
    history = trainer.fit(X_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                          validation_data=(X_test, y_test), progress=not args.no_progress,
                          seed=args.seed)

    result = trainer.evaluate(X_test, y_test)
    accuracy = float(result["accuracy"])
    if not trainer.is_main_process:     # data-parallel: rank 0 reports and writes
        return accuracy
    print(model.summary((1, 1, 8, 8)))
    print(f"test accuracy: {accuracy:.2%} on {len(y_test)} held-out digits")

    args.out.mkdir(parents=True, exist_ok=True)
    model_path = args.out / "model.safetensors"
    nn.save(model, model_path)
    print(f"model saved to {model_path}")
    try:
        curve_path = args.out / "training.png"
        history.plot(curve_path, title=f"digits CNN: Adam lr {args.lr:g}, cosine schedule, "
                                       f"seed {args.seed}")
        print(f"training curves saved to {curve_path}")
    except mnp.MnpError as exc:       # History.plot without matplotlib
        print(f"training curves not saved: {exc}")
    return accuracy


if __name__ == "__main__":
    main()
