"""Image helpers: arrays in [0, 1] to crisp enlarged uint8 images (no Streamlit here)."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

__all__ = ["enlarge", "error_map", "tile", "to_gif", "png"]


def enlarge(img, size: int = 168) -> np.ndarray:
    """(C, H, W) or (H, W) float in [0, 1] -> (size, size) uint8, nearest-neighbour (crisp
    pixels, no blur)."""
    a = np.asarray(img, dtype=np.float32)
    a = a[0] if a.ndim == 3 else a
    u8 = (np.clip(a, 0.0, 1.0) * 255).round().astype(np.uint8)
    return np.asarray(Image.fromarray(u8).resize((size, size), Image.NEAREST))


def error_map(x, x_hat, size: int = 168) -> np.ndarray:
    """|x - x_hat| as an enlarged RGB heat image: black = exact, bright red/yellow = large.

    Returns
    -------
    ndarray of shape (size, size, 3), uint8
    """
    e = np.abs(np.asarray(x, np.float32) - np.asarray(x_hat, np.float32))
    g = enlarge(e, size).astype(np.float32) / 255.0
    rgb = np.stack([np.clip(2 * g, 0, 1), np.clip(2 * g - 1, 0, 1), np.zeros_like(g)], -1)
    return (rgb * 255).astype(np.uint8)


def tile(images, ncol: int, cell: int = 56, pad: int = 2) -> np.ndarray:
    """Tile N images (N, C, H, W) in [0, 1] into one uint8 grid, ``ncol`` per row."""
    images = np.asarray(images)
    n = len(images)
    nrow = -(-n // ncol)
    out = np.full((nrow * (cell + pad) + pad, ncol * (cell + pad) + pad), 128, np.uint8)
    for i in range(n):
        r, c = divmod(i, ncol)
        y, x = pad + r * (cell + pad), pad + c * (cell + pad)
        out[y:y + cell, x:x + cell] = enlarge(images[i], cell)
    return out


def to_gif(frames, size: int = 168, ms: int = 80) -> bytes:
    """Animated GIF (looping) of frames (K, C, H, W) in [0, 1], each enlarged to ``size`` px.

    The animation plays forward then back, so the loop has no jump.
    """
    import io

    imgs = [Image.fromarray(enlarge(f, size)) for f in frames]
    imgs = imgs + imgs[-2:0:-1]
    buf = io.BytesIO()
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:], duration=ms, loop=0)
    return buf.getvalue()


def png(img: np.ndarray) -> bytes:
    """PNG bytes of an image from :func:`enlarge` ((H, W) or (H, W, 3) uint8 or float in
    [0, 1]), so a page that redraws the same picture every poll sends cached bytes instead of
    encoding it again."""
    a = np.asarray(img)
    if a.dtype != np.uint8:
        a = (np.clip(a, 0, 1) * 255).round().astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()
