"""A multilayer perceptron on the bundled UCI digits (the W3 network of benchmarks/README.md).

    python examples/digits_mlp.py [--epochs 20]
"""
from __future__ import annotations

import argparse

import mnp.core as mnp
from mnp import data, nn, optim


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    mnp.manual_seed(args.seed)
    X, y = data.digits()
    X = data.standardize(X)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.2, seed=args.seed)

    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                          nn.Linear(64, 10))
    trainer = nn.Trainer(model, optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss())
    trainer.fit(X_train, y_train, epochs=args.epochs, batch_size=32, progress=not args.no_progress,
                seed=args.seed)
    accuracy = float(trainer.evaluate(X_test, y_test)["accuracy"])
    print(f"test accuracy: {accuracy:.2%}")
    return accuracy


if __name__ == "__main__":
    main()
