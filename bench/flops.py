"""Arithmetic efficiency of the DepthGen UNet: FLOPs per forward pass, measured time, and a measured peak.

FLOPs come from ``torch.utils.flop_counter.FlopCounterMode`` (convolutions, matrix products and attention;
element-wise work such as normalisation and activations is not counted, so the fraction is a lower bound).
The machine's fp32 peak is measured, not looked up: the best rate of repeated square ``torch.mm`` products
with the same thread count.
"""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable

import torch

from depthgen.models.config import TASKS
from depthgen.models.unet import unet_forward


def time_call(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls (CUDA synchronised)."""
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return times


def matmul_peak(n: int = 2048, repeats: int = 5, device: str = "cpu") -> dict[str, float]:
    """Best measured fp32 rate of an (n x n) @ (n x n) product: {"n", "gflops_best", "gflops_median"}."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=g).to(device)
    b = torch.randn(n, n, generator=g).to(device)
    times = time_call(lambda: torch.mm(a, b), repeats)
    work = 2.0 * n ** 3
    return {"n": n, "gflops_best": work / min(times) / 1e9, "gflops_median": work / statistics.median(times) / 1e9}


def unet_inputs(unet: Any, batch: int, device: str = "cpu") -> tuple[torch.Tensor, ...]:
    """Seeded inputs of one DepthGen UNet forward: cond (B, in - C, S, S) (image channels and, for camera-aware
    models, the camera's constant channels), x_t (B, C, S, S), t (B,), task (B,)."""
    s, c = int(unet.config.sample_size), int(unet.config.out_channels)
    g = torch.Generator().manual_seed(0)
    cond = torch.rand(batch, int(unet.config.in_channels) - c, s, s, generator=g) * 2 - 1
    x_t = torch.randn(batch, c, s, s, generator=g)
    t = torch.full((batch,), 500, dtype=torch.long)
    task = torch.full((batch,), TASKS.index("depth"), dtype=torch.long)
    dt = unet.dtype
    return cond.to(device, dt), x_t.to(device, dt), t.to(device), task.to(device)


def unet_flops(unet: Any, batch: int = 1, device: str = "cpu") -> int:
    """FLOPs of one UNet forward at ``batch`` (FlopCounterMode)."""
    from torch.utils.flop_counter import FlopCounterMode

    inputs = unet_inputs(unet, batch, device)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        unet_forward(unet, *inputs)
    return int(counter.get_total_flops())


def unet_efficiency(unet: Any, batches: tuple[int, ...] = (1, 8), repeats: int = 5, peak_n: int = 2048,
                    device: str = "cpu") -> dict[str, Any]:
    """FLOPs, time and achieved rate per batch size, against the measured matmul peak."""
    unet = unet.eval()
    peak = matmul_peak(peak_n, device=device)
    rows = []
    for b in batches:
        flops = unet_flops(unet, b, device)
        inputs = unet_inputs(unet, b, device)
        with torch.no_grad():
            times = time_call(lambda: unet_forward(unet, *inputs), repeats)
        sec = statistics.median(times)
        rate = flops / sec / 1e9
        rows.append({"batch": b, "gflop_per_forward": flops / 1e9, "seconds_median": sec, "seconds_min": min(times),
                     "gflops_achieved": rate, "fraction_of_peak": rate / peak["gflops_best"]})
    return {"peak": peak, "threads": torch.get_num_threads(), "resolution": int(unet.config.sample_size),
            "parameters": sum(p.numel() for p in unet.parameters()), "rows": rows}
