"""A text-to-3D run, by job: its inputs (``inputs``) and camera (``camera``), the trajectory (``trajectory``), the
model calls that fill a view (``views``, with the super-resolution cascade of ``upscale`` and the seed rule of
``seeds``), the growing scene (``scene``), the hole clean-up pass (``cleanup``), and what it leaves behind
(``outputs``: fusion, files via ``export``, the video via ``video``; ``manifest``; ``result``). ``api`` holds
``generate_scene``, which runs them in order; ``progress`` reports how far it is.
"""
