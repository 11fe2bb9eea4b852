"""mnp.distributed: data-parallel training over MPI, with PyTorch's names.

Run the same script on every process with ``mpiexec -n 4 python train.py`` (or
``python -m mnp.distributed.run -n 4 train.py``)::

    import mnp.distributed as dist
    dist.init_process_group(backend="mpi")
    model = dist.DistributedDataParallel(build_model())
    sampler = dist.DistributedSampler(dataset, shuffle=True, seed=0)
    loader = DataLoader(dataset, batch_size=32, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for x, y in loader:
            opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    dist.destroy_process_group()

mnp-nn's ``Trainer.fit`` does all of this by itself when it runs under mpiexec.
"""
from __future__ import annotations

from .collectives import (ReduceOp, Work, all_gather, all_gather_into_tensor, all_reduce,
                          barrier, broadcast, gather, reduce, reduce_scatter,
                          reduce_scatter_tensor, scatter)
from .ddp import DistributedDataParallel
from .errors import (CollectiveMismatchError, DistributedError, DistributedTimeoutError,
                     MPINotAvailableError)
from .process_group import (ProcessGroup, destroy_process_group, get_backend, get_rank,
                            get_world_size, init_process_group, is_available, is_initialized,
                            is_mpi_launched)
from .sampler import DistributedSampler

__all__ = ["ReduceOp", "Work", "all_gather", "all_gather_into_tensor", "all_reduce", "barrier",
           "broadcast", "gather", "reduce", "reduce_scatter", "reduce_scatter_tensor", "scatter",
           "DistributedDataParallel", "DistributedSampler", "ProcessGroup",
           "destroy_process_group", "get_backend", "get_rank", "get_world_size",
           "init_process_group", "is_available", "is_initialized", "is_mpi_launched",
           "CollectiveMismatchError", "DistributedError", "DistributedTimeoutError",
           "MPINotAvailableError"]
