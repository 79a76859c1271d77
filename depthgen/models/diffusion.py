"""Training objectives: denoising diffusion (with step-unrolled denoising) and the regression baseline.

Prediction type (``diffusion.prediction_type``; the paper uses ``epsilon``). Measured on the toy synthetic
RGB-D set (tiny preset, 32x32, batch 8, lr 2e-3, CPU; abs-rel of one 10-step DDIM sample on 24 held-out
images; /tmp experiment, not a benchmark): after 400 steps sample 0.080, v_prediction 0.139, epsilon 0.312
(regression baseline 0.078); after 1200 steps sample 0.070, v_prediction 0.110. ``sample`` (x0) trains
fastest for depth: the L1 loss on x0 directly targets the per-pixel median depth, while epsilon's x0 estimate
``(x_t - sqrt(1-a) eps) / sqrt(a)`` amplifies errors at high noise, so few-step samplers start from poor
guesses (v sits in between). The depth recipes therefore use ``sample``; the Palette (RGB) recipes keep
``v_prediction`` (the dataclass default), the usual choice for sharp image samples (not measured here).
Fine-tuning may change the prediction type of a pretrained model; the output layer is re-learned anyway.

Masked loss. ``valid`` (B, 1, H, W) marks pixels with ground truth; the loss is the mean L1 (or L2) over
valid pixels and channels. Invalid depth pixels were infilled beforehand (data/infill.py) so that x_t is
a plausible complete map; they never contribute to the loss.
``diffusion.loss_reduction`` says how the valid pixels are averaged. ``pixel`` (the first recipes): one
mean over all valid pixels of the batch, so an image counts by how much ground truth it has. ``image``:
the mean within each image, then over the images that have any. Why: in the procedural training set the
outdoor scenes (18% of images) carry lidar depth with 10-20% valid pixels, the indoor ones Kinect depth
with ~80%, so under ``pixel`` the outdoor images were ~3% of the loss. The shipped DepthGen model's
outdoor depth stayed near indoor range (median 4-5 m, 95th percentile 5-8 m against 8-23 m and 40-71 m
in the ground truth; 6 val images, /tmp diagnostic); ``image`` gives every image the same weight.

Step-unrolled denoising (SUD, DepthGen sec. 3). With probability ``sud_prob`` per sample: noise the
target to x_t, run the model once without gradients to get its x0 estimate x0_hat (clipped to [-1, 1]),
re-noise x0_hat to the *same* t with the *same* noise: x~_t = sqrt(a) x0_hat + sqrt(1-a) eps, and train on
x~_t. The loss target must stay consistent with the TRUE x0, i.e. be the quantity whose x0 estimate at
x~_t is x0 (so the model learns to correct its own drift, as at sampling time, not to reproduce it):
    sample:        x0
    epsilon:       eps~ = (x~_t - sqrt(a) x0) / sqrt(1-a) = eps + sqrt(a / (1-a)) (x0_hat - x0)
    v_prediction:  v~ = sqrt(a) eps~ - sqrt(1-a) x0
Training on the original eps/v instead would teach the model that x~_t's clean image is x0_hat. Note that
eps~/v~ grow like sqrt(a / (1-a)) at small t; with the L1 loss the gradient per pixel stays bounded, with
L2 prefer ``sample`` prediction or a small ``sud_prob``.
On the toy set above (sample prediction, 600 steps) sud_prob 0 / 0.25 / 0.5 gave abs-rel 0.076 / 0.074 /
0.075: no measurable effect at that scale; its benefit in the paper is on real data and longer training.

Timestep shift (``diffusion.t_shift``). Depth maps are smooth, so at 64x64 a noisy x_t still shows the
layout until very high noise: under the cosine schedule with uniform t, x_t is close to uninformative
(alpha_bar < 0.03) only for t > ~900, about a tenth of the draws. Only those draws train the image->depth
pathway that the first sampling steps rely on; the rest teach the model to clean up x_t. Measured on the
shipped 1600-step model (6 outdoor test images, /tmp diagnostic, not a benchmark): its x0 guess at
t = 999 had REL 0.46-0.62 against the regression baseline's 0.20-0.48, and sampling never recovered
the far range (95th percentile 6-9 m against 38-75 m). ``t_shift`` = s maps u ~ U(0, 1) to
s u / (1 + (s - 1) u) before scaling to [0, T): with s = 3 a quarter of the draws have t > 900. The
sampler is unchanged. s = 1 draws exactly as before (``torch.randint``), so older runs resume bit for bit.
Against an unshifted control cycle of the same 800 steps from the same weights (val split, 4 samples, 20
DDIM steps): outdoor REL 0.501 with s = 3 against 0.572 with s = 1, indoor 0.188 against 0.190.

Regression baseline: the same UNet sees the condition, zeros as its target input and t = 0, and predicts
the target directly (loss on the valid pixels).

Faster-convergence options (issue 20; all off by default, so the shipped recipes train as before):
- ``si_log_weight`` > 0 adds ``si_log_weight * SI`` to the loss, SI the scale-invariant log error of Eigen
  et al. 2014 per image, ``mean(g^2) - si_log_lambda * mean(g)^2`` over its valid pixels with
  ``g = x0_hat - x0``, averaged over the images. Under the ``log`` depth parametrisation (required) g is the
  log-depth error times 2 / log(d_max / d_min), so the term scores the depth map's shape whatever its scale,
  which L1 alone mixes with the scale. x0_hat is the model's clean estimate (``pred_to_x0``; meant for
  ``sample`` / ``v_prediction``: an epsilon model's x0 estimate is unstable near pure noise).
- ``min_snr_gamma`` = gamma > 0 weights each image's loss by min-SNR-gamma (Hang et al. 2023), with
  SNR = alpha_bar / (1 - alpha_bar) at its timestep: ``min(SNR, gamma) / SNR`` for epsilon,
  ``min(SNR, gamma) / (SNR + 1)`` for v and ``min(SNR, gamma)`` for sample prediction (each the
  epsilon-space weight min(SNR, gamma) / SNR translated to that target). It damps the many low-noise
  timesteps whose easy gradients otherwise dominate. Note that for ``sample`` it also damps the
  high-noise steps that the first sampling steps rely on (see ``t_shift`` above).
- ``single_step`` (Lotus, He et al. 2024; E2E-FT, Garcia et al. 2024): every example at t = T - 1 with
  zeros as x_t (the mean of the pure-noise input), the model's x0 estimate trained directly on the target.
  Fine-tuning a diffusion model this way keeps its learned image -> depth pathway (its first sampling step)
  and costs one pass per prediction at inference (the pipeline's ``objective="single_step"``); the samples
  are then identical (no uncertainty). No random draws: a resumed run replays exactly.
"""

from __future__ import annotations

import torch

from depthgen.models.config import DiffusionConfig
from depthgen.models.unet import unet_forward

SINGLE_STEP_PREDICTIONS = ("sample", "v_prediction")


def make_train_scheduler(cfg: DiffusionConfig):
    """The diffusers ``DDPMScheduler`` that defines the forward process (and seeds the samplers' config)."""
    from diffusers import DDPMScheduler

    return DDPMScheduler(num_train_timesteps=cfg.num_train_timesteps, beta_schedule=cfg.beta_schedule,
                         prediction_type=cfg.prediction_type, clip_sample=True, clip_sample_range=1.0)


def _coef(scheduler, t: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """sqrt(alpha_bar_t), sqrt(1 - alpha_bar_t) shaped (B, 1, 1, 1) like ``like``."""
    ab = scheduler.alphas_cumprod.to(device=like.device, dtype=torch.float32)[t.to(like.device)]
    ab = ab.view(-1, 1, 1, 1)
    return ab.sqrt(), (1.0 - ab).sqrt()


def pred_to_x0(pred: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, scheduler, prediction_type: str) -> torch.Tensor:
    """The model's clean-target estimate from its raw output (all (B, C, H, W))."""
    sa, s1a = _coef(scheduler, t, x_t)
    if prediction_type == "epsilon":
        return (x_t - s1a * pred) / sa
    if prediction_type == "v_prediction":
        return sa * x_t - s1a * pred
    return pred


def target_for(x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, scheduler, prediction_type: str) -> torch.Tensor:
    """The regression target whose x0 estimate at ``x_t`` is exactly ``x0`` (see the SUD note above)."""
    if prediction_type == "sample":
        return x0
    sa, s1a = _coef(scheduler, t, x_t)
    eps = (x_t - sa * x0) / s1a
    if prediction_type == "epsilon":
        return eps
    return sa * eps - s1a * x0


def masked_loss(pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor | None, kind: str = "l1",
                reduction: str = "pixel", weights: torch.Tensor | None = None) -> torch.Tensor:
    """Mean |pred - target| (l1) or squared error (l2) over valid pixels and channels; scalar float32.

    pred, target (B, C, H, W); valid (B, 1, H, W) bool or None (all valid). reduction ``pixel``: one mean
    over every valid pixel of the batch; ``image``: the mean over each image's valid pixels, then the mean
    over the images with at least one (see the module docstring). weights (B,) float or None: each image's
    errors multiplied by its weight (min-SNR weighting); None = all 1.
    """
    diff = (pred.float() - target.float())
    err = diff.abs() if kind == "l1" else diff.pow(2)
    if weights is not None:
        err = err * weights.to(err).view(-1, 1, 1, 1)
    if valid is None:
        return err.mean()
    w = valid.to(err.dtype).expand_as(err)
    if reduction == "pixel":
        return (err * w).sum() / w.sum().clamp_min(1.0)
    if reduction != "image":
        raise ValueError(f"reduction must be 'pixel' or 'image', got {reduction!r}")
    count = w.flatten(1).sum(1)  # (B,) valid entries per image
    per_image = (err * w).flatten(1).sum(1) / count.clamp_min(1.0)
    has = count > 0
    return per_image[has].sum() / has.sum().clamp_min(1)


def si_log_loss(x0_hat: torch.Tensor, x0: torch.Tensor, valid: torch.Tensor | None, lam: float = 1.0) -> torch.Tensor:
    """Scale-invariant log error (see the module docstring) in model units, mean over images with valid
    pixels; x0_hat, x0 (B, 1, H, W) in the ``log`` parametrisation, valid (B, 1, H, W) bool or None."""
    g = (x0_hat.float() - x0.float()).flatten(1)  # (B, N)
    w = torch.ones_like(g) if valid is None else valid.to(g.dtype).expand_as(x0_hat).flatten(1)
    n = w.sum(1)
    mean_g = (g * w).sum(1) / n.clamp_min(1.0)
    mean_g2 = (g.pow(2) * w).sum(1) / n.clamp_min(1.0)
    per_image = mean_g2 - lam * mean_g.pow(2)
    has = n > 0
    return per_image[has].sum() / has.sum().clamp_min(1)


def snr(scheduler, t: torch.Tensor) -> torch.Tensor:
    """(B,) float32 signal-to-noise ratio alpha_bar / (1 - alpha_bar) at timesteps t."""
    ab = scheduler.alphas_cumprod.to(dtype=torch.float32)[t.cpu()].to(t.device)
    return ab / (1.0 - ab).clamp_min(1e-12)


def min_snr_weights(scheduler, t: torch.Tensor, gamma: float, prediction_type: str) -> torch.Tensor:
    """(B,) min-SNR-gamma loss weights for the prediction type's target (see the module docstring)."""
    s = snr(scheduler, t)
    clipped = s.clamp(max=gamma)
    if prediction_type == "epsilon":
        return clipped / s.clamp_min(1e-12)
    if prediction_type == "v_prediction":
        return clipped / (s + 1.0)
    return clipped


def sample_timesteps(n: int, num_train_timesteps: int, shift: float, generator: torch.Generator) -> torch.Tensor:
    """(n,) long training timesteps in [0, T): uniform for ``shift`` = 1, else shifted toward T (see above)."""
    if shift == 1.0:
        return torch.randint(0, num_train_timesteps, (n,), generator=generator)
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    u = shift * u / (1.0 + (shift - 1.0) * u)
    return (u * num_train_timesteps).long().clamp_(0, num_train_timesteps - 1)


def diffusion_loss(unet: torch.nn.Module, scheduler, batch: dict[str, torch.Tensor], cfg: DiffusionConfig,
                   generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
    """One denoising training loss.

    batch: cond (B, 4 or 5, H, W), target (B, C, H, W) in [-1, 1], valid (B, 1, H, W) bool, task (B,) long.
    All random draws (timesteps, noise, SUD choice) come from ``generator`` (a CPU generator), so a
    resumed run replays the same noise. Returns (loss, stats).
    """
    if cfg.single_step:
        return single_step_loss(unet, scheduler, batch, cfg)
    cond, x0, valid, task = batch["cond"], batch["target"], batch.get("valid"), batch.get("task")
    b = x0.shape[0]
    t = sample_timesteps(b, scheduler.config.num_train_timesteps, cfg.t_shift, generator).to(x0.device)
    noise = torch.randn(x0.shape, generator=generator).to(device=x0.device, dtype=x0.dtype)
    sud = (torch.rand(b, generator=generator) < cfg.sud_prob).to(x0.device)
    x_t = scheduler.add_noise(x0, noise, t)
    target = noise if cfg.prediction_type == "epsilon" else (
        scheduler.get_velocity(x0, noise, t) if cfg.prediction_type == "v_prediction" else x0)
    if bool(sud.any()):
        with torch.no_grad():
            first = unet_forward(unet, cond, x_t, t, task).float()
            x0_hat = pred_to_x0(first, x_t, t, scheduler, cfg.prediction_type).clamp(-1, 1)
        x_sud = scheduler.add_noise(x0_hat, noise, t)
        target_sud = target_for(x0, x_sud, t, scheduler, cfg.prediction_type)
        m = sud.view(-1, 1, 1, 1)
        x_t = torch.where(m, x_sud, x_t)
        target = torch.where(m, target_sud, target)
    pred = unet_forward(unet, cond, x_t, t, task)
    weights = min_snr_weights(scheduler, t, cfg.min_snr_gamma, cfg.prediction_type) if cfg.min_snr_gamma > 0 else None
    loss = masked_loss(pred, target, valid, cfg.loss, cfg.loss_reduction, weights)
    stats = {"sud_fraction": float(sud.float().mean())}
    if cfg.si_log_weight > 0:
        si = si_log_loss(pred_to_x0(pred.float(), x_t, t, scheduler, cfg.prediction_type), x0, valid, cfg.si_log_lambda)
        loss = loss + cfg.si_log_weight * si
        stats["si_log"] = float(si.detach())
    return loss, stats


def single_step_t(scheduler, n: int, device: torch.device | str) -> torch.Tensor:
    """(n,) long: the last training timestep T - 1, where single-step models run."""
    return torch.full((n,), scheduler.config.num_train_timesteps - 1, dtype=torch.long, device=device)


def single_step_x0(unet: torch.nn.Module, scheduler, cond: torch.Tensor, task: torch.Tensor | None, channels: int,
                   prediction_type: str) -> torch.Tensor:
    """The x0 estimate (B, channels, H, W) of one pass at t = T - 1 with zeros as x_t (not clipped)."""
    if prediction_type not in SINGLE_STEP_PREDICTIONS:
        raise ValueError(f"single-step needs prediction_type sample or v_prediction, got {prediction_type!r}")
    b, _, h, w = cond.shape
    x_t = torch.zeros(b, channels, h, w, device=cond.device, dtype=cond.dtype)
    t = single_step_t(scheduler, b, cond.device)
    return pred_to_x0(unet_forward(unet, cond, x_t, t, task).float(), x_t.float(), t, scheduler, prediction_type)


def single_step_loss(unet: torch.nn.Module, scheduler, batch: dict[str, torch.Tensor], cfg: DiffusionConfig
                     ) -> tuple[torch.Tensor, dict[str, float]]:
    """``diffusion.single_step``: the loss on the x0 estimate of one pass at t = T - 1 (no random draws)."""
    cond, x0, valid, task = batch["cond"], batch["target"], batch.get("valid"), batch.get("task")
    x0_hat = single_step_x0(unet, scheduler, cond, task, x0.shape[1], cfg.prediction_type)
    loss = masked_loss(x0_hat, x0, valid, cfg.loss, cfg.loss_reduction)
    stats: dict[str, float] = {}
    if cfg.si_log_weight > 0:
        si = si_log_loss(x0_hat, x0, valid, cfg.si_log_lambda)
        loss = loss + cfg.si_log_weight * si
        stats["si_log"] = float(si.detach())
    return loss, stats


def regression_loss(unet: torch.nn.Module, batch: dict[str, torch.Tensor], cfg: DiffusionConfig
                    ) -> tuple[torch.Tensor, dict[str, float]]:
    """The non-diffusion baseline: predict the target from the condition in one pass (t = 0)."""
    cond, x0, valid, task = batch["cond"], batch["target"], batch.get("valid"), batch.get("task")
    t = torch.zeros(x0.shape[0], dtype=torch.long, device=x0.device)
    pred = unet_forward(unet, cond, torch.zeros_like(x0), t, task)
    loss = masked_loss(pred, x0, valid, cfg.loss, cfg.loss_reduction)
    if cfg.si_log_weight > 0:
        loss = loss + cfg.si_log_weight * si_log_loss(pred, x0, valid, cfg.si_log_lambda)
    return loss, {}


def regression_predict(unet: torch.nn.Module, cond: torch.Tensor, task: torch.Tensor | None, channels: int) -> torch.Tensor:
    """Regression-model output (B, channels, H, W) clipped to [-1, 1]."""
    b, _, h, w = cond.shape
    x = torch.zeros(b, channels, h, w, device=cond.device, dtype=cond.dtype)
    t = torch.zeros(b, dtype=torch.long, device=cond.device)
    return unet_forward(unet, cond, x, t, task).clamp(-1, 1)
