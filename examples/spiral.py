"""Three interleaved spirals, separated by a small MLP trained with Adam.

    python examples/spiral.py
"""
from __future__ import annotations

import mnp.core as mnp
from mnp import data, nn, optim


def main(epochs: int = 200, seed: int = 0, progress: bool = False) -> float:
    mnp.manual_seed(seed)
    X, y = data.spiral(n_per_class=100, classes=3, noise=0.2, seed=seed)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 3))
    trainer = nn.Trainer(model, optim.Adam(model.parameters(), lr=1e-2), nn.CrossEntropyLoss())
    trainer.fit(X, y, epochs=epochs, batch_size=64, progress=progress, seed=seed)
    accuracy = float(trainer.evaluate(X, y)["accuracy"])
    print(f"training accuracy on the spiral: {accuracy:.2%}")
    return accuracy


if __name__ == "__main__":
    main()
