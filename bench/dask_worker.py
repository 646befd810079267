"""What a Dask worker's own timers cost a grading-like task: the CPU seconds its process spends while the same
task runs, in this process,
on a worker with Dask's default settings, and on one with toxlab's (toxlab.grading.batch.WORKER_CONFIG).

The task is pure Python under a deep stack plus small torch ops, as a check run is (pytest, transformers).
By default a worker samples its running task's stack every 10 ms and ticks its event loop every 20 ms.

    python bench/dask_worker.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time


def task(n: int = 2 * 10**7) -> float:
    """CPU seconds that the process running one grading-like task spends while it runs (all its threads)."""
    import torch

    torch.set_num_threads(1)
    start = time.process_time()

    def deep(k: int) -> int:
        if k:
            return deep(k - 1)
        x = sum(i % 7 for i in range(n))
        a = torch.randn(64, 64)
        for _ in range(2000):
            a = torch.tanh(a @ a * 0.01)
        return x

    deep(40)
    return time.process_time() - start


def on_worker(config: dict, rounds: int) -> float:
    """Median CPU seconds of the task on a one-worker LocalCluster started under `config`."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set(config):
        cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
    with cluster, Client(cluster) as client:
        client.submit(task, 10, pure=False).result()  # imports torch
        return statistics.median(client.submit(task, pure=False).result() for _ in range(rounds))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3, help="tasks timed per setting (the median is printed)")
    a = ap.parse_args()
    from toxlab.grading.batch import WORKER_CONFIG

    task(10)
    here = statistics.median(task() for _ in range(a.rounds))
    default = on_worker({}, a.rounds)
    ours = on_worker(WORKER_CONFIG, a.rounds)
    print(f"task CPU: here {here:.2f} s; Dask worker, default settings {default:.2f} s ({default / here:.2f}x); "
          f"toxlab's worker settings {ours:.2f} s ({ours / here:.2f}x)")
    print(f"default / toxlab's settings: {default / ours:.2f}x")


if __name__ == "__main__":
    main()
