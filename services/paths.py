"""The app's folders, in one place: server state, user checkpoints, map cache, pending files.

Each is read from its environment variable when set, so a test or a deployment can move it:

=====================  ==============================  =========================================
function               environment variable            default
=====================  ==============================  =========================================
:func:`state_dir`      ``LATENTLAB_STATE_DIR``         ``<repo>/.state`` (classroom database)
:func:`user_dir`       ``LATENTLAB_USER_DIR``          ``<repo>/checkpoints/user``
:func:`cache_dir`      ``LATENTLAB_CACHE_DIR``         ``<repo>/.cache/atlas`` (fitted maps)
:func:`pending_dir`    (beside the cache)              ``<cache_dir>/../pending`` (unsaved runs)
=====================  ==============================  =========================================
"""
from __future__ import annotations

import os
from pathlib import Path

from aecore.checkpoints import SHIPPED_DIR

__all__ = ["ROOT", "state_dir", "user_dir", "cache_dir", "pending_dir"]

ROOT = SHIPPED_DIR.parent  # the app's folder (holds checkpoints/, .state/, .cache/)


def state_dir() -> Path:
    """Folder for server state: ``$LATENTLAB_STATE_DIR`` or ``<repo>/.state`` (created)."""
    d = Path(os.environ.get("LATENTLAB_STATE_DIR") or ROOT / ".state")
    d.mkdir(parents=True, exist_ok=True)
    return d


def user_dir() -> Path:
    """Folder for models trained in the app: ``$LATENTLAB_USER_DIR`` or ``checkpoints/user``."""
    return Path(os.environ.get("LATENTLAB_USER_DIR", SHIPPED_DIR / "user"))


def cache_dir() -> Path:
    """Folder for the maps of non-shipped models: ``$LATENTLAB_CACHE_DIR`` or ``.cache/atlas``."""
    return Path(os.environ.get("LATENTLAB_CACHE_DIR", ROOT / ".cache" / "atlas"))


def pending_dir() -> Path:
    """Folder for trained models not yet saved under a name: ``pending/`` beside
    :func:`cache_dir` (not created here)."""
    return cache_dir().parent / "pending"
