"""The models a run talks to: the three interfaces (``protocols``), their implementations over the embedded
pipelines (``embedded``), Stable Diffusion (``diffusers_sd``) and depth models (``depth``), the registry that turns
a name into one (``registry``) and the loading of all three at once (``loading``)."""
