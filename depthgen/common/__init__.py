"""What every part of the project shares (``text3d`` imports these too): ``config`` (dataclass configs from
YAML with ``base:`` inheritance and ``key=value`` overrides), ``io`` (image input, atomic file writers, depth
PNGs, colour maps) and ``cli`` (one-line argument errors, WxH sizes, the device resolver)."""
