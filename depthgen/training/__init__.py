"""Training: ``trainer`` (the one accelerate loop: EMA, schedule, checkpoint/resume, stop), ``config`` (its
``train:`` section), ``cli`` (the command line every training entry point shares), ``checkpoint``, ``recipe``
(a DepthGen / Palette recipe), ``data`` (training examples and the resumable loader), ``task`` (the DepthGen /
Palette task per recipe stage: ``python -m depthgen.train``) and ``export`` (weights -> pipeline folder)."""
