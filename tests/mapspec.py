"""Read the in-browser latent map out of an AppTest run: the map element's JSON data and the
blobs (map, decoder) its carriers sent. AppTest cannot run the component's JavaScript."""
from __future__ import annotations

import json

from ui import blob


def map_data(at, key: str = "map.chart") -> dict:
    """The JSON data the map ``key`` was mounted with (pick, overlays, path, blob ids)."""
    el = next(c for c in at.get("bidi_component") if c.key == key)
    return json.loads(el.proto.json)


def blobs(at) -> dict[str, tuple[dict, dict]]:
    """Every blob sent in this run, by id: ``(header, arrays)``."""
    out = {}
    for c in at.get("bidi_component"):
        if c.proto.WhichOneof("data") == "bytes":
            head, arrays = blob.unpack(c.proto.bytes)
            out[head["id"]] = (head, arrays)
    return out


def map_points(at, key: str = "map.chart") -> int:
    """Points on the map ``key``, from the map blob it names (sent in this run or earlier:
    then ``None``)."""
    data = map_data(at, key)
    b = blobs(at).get(data["map"])
    return None if b is None else int(b[1]["labels"].size)
