"""The pretrained image autoencoder of the latent image models (TAEF2, ``assets/autoencoder``).

    from text3d.models.autoencoder import TinyAutoencoder
    ae = TinyAutoencoder.from_pretrained("assets/autoencoder")   # fp16 on disk, cast to float32 on load
    latents = ae.encode(images)      # (B, 3, 256, 256) in [0, 1] -> (B, 32, 32, 32)
"""

from text3d.models.autoencoder.model import TinyAutoencoder

__all__ = ["TinyAutoencoder"]
