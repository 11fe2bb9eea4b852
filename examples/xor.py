"""The classic XOR network: Dense(2,4) -> Tanh -> Dense(4,1) -> Sigmoid, MSE, plain SGD.

    python examples/xor.py
"""
from __future__ import annotations

import mnp.core as mnp
from mnp import data, nn, optim


def main(iterations: int = 2000, seed: int = 0) -> list[float]:
    mnp.manual_seed(seed)
    X, y = data.xor()
    x, target = mnp.tensor(X), mnp.tensor(y, dtype=mnp.float32).reshape(-1, 1)
    model = nn.Sequential(nn.Dense(2, 4), nn.Tanh(), nn.Dense(4, 1), nn.Sigmoid())
    opt = optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.MSELoss()
    for step in range(iterations):
        opt.zero_grad()
        loss = loss_fn(model(x), target)
        loss.backward()
        opt.step()
        if step % 500 == 0:
            print(f"step {step:5d}  loss {loss.item():.5f}")
    with mnp.no_grad():
        out = model(x).numpy().ravel()
    for inputs, p in zip(X.tolist(), out.tolist()):
        print(f"{inputs} -> {p:.3f}")
    return out.tolist()


if __name__ == "__main__":
    main()
