"""Imported first, and only, by the forecast workers' forkserver (models_ml.forecast).

Prophet imports matplotlib for its plots at import time (`prophet.plot`), about half of
Prophet's import, which every forecast run pays before its workers can start. Workers
never plot: in the forkserver, and the workers it forks, matplotlib is marked as not
importable, and Prophet carries on without plotting (it catches the ImportError). Never
import this module anywhere else: it would hide matplotlib from the whole process.
"""

from __future__ import annotations

import logging
import sys

logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)  # "Importing matplotlib failed"
sys.modules.setdefault("matplotlib", None)  # type: ignore[arg-type]
