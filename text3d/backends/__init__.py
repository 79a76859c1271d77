"""The models a run talks to: the three interfaces (``protocols``), their implementations over the embedded
pipelines (``embedded``), Stable Diffusion (``diffusers_sd``) and depth models (``depth``, with Marigold's guided
completion in ``guided_depth``), the registry that turns a name into one (``registry``), the loading of all three
at once (``loading``), the hub ids the project names (``hub_ids``), the local Hugging Face cache and downloads on
request (``hub``), and where and in what precision every model runs (``placement``)."""
