"""From a received ``rtc.VideoFrame`` to the few pixels a terminal panel shows. Pure (numpy).

A panel shows at most a few thousand pixels, so converting a whole 720p frame to RGB (and then shrinking
it) would waste nearly all the work: instead the I420 planes are sampled at the panel's pixel grid
(nearest neighbour) and only those samples are converted to RGB (BT.601, limited range, as WebRTC's
decoders produce).
"""

from __future__ import annotations

import numpy as np
from livekit import rtc


def sample_rgb(frame: rtc.VideoFrame, width: int, height: int) -> np.ndarray:
    """``frame`` resized (nearest) to ``width`` x ``height`` as RGB uint8 (height, width, 3)."""
    if frame.type != rtc.VideoBufferType.I420:
        frame = frame.convert(rtc.VideoBufferType.I420)
    fw, fh = frame.width, frame.height
    cw, ch = (fw + 1) // 2, (fh + 1) // 2
    data = np.frombuffer(frame.data, dtype=np.uint8)
    y_plane = data[: fw * fh].reshape(fh, fw)
    u_plane = data[fw * fh : fw * fh + cw * ch].reshape(ch, cw)
    v_plane = data[fw * fh + cw * ch : fw * fh + 2 * cw * ch].reshape(ch, cw)
    rows = ((np.arange(height) + 0.5) * fh / height).astype(np.intp)
    cols = ((np.arange(width) + 0.5) * fw / width).astype(np.intp)
    y = y_plane[rows[:, None], cols[None, :]].astype(np.float32) - 16.0
    u = u_plane[(rows // 2)[:, None], (cols // 2)[None, :]].astype(np.float32) - 128.0
    v = v_plane[(rows // 2)[:, None], (cols // 2)[None, :]].astype(np.float32) - 128.0
    r = 1.164 * y + 1.596 * v
    g = 1.164 * y - 0.392 * u - 0.813 * v
    b = 1.164 * y + 2.017 * u
    return np.clip(np.stack([r, g, b], axis=-1) + 0.5, 0, 255).astype(np.uint8)
