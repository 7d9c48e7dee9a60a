# Live pictures (read-only): a slider's figure is drawn once, then each move redraws only what changed.
import struct
import zlib

import numpy as np
from IPython.display import Image, display

if not GRADING:                  # nothing is drawn while the notebook is graded (see the setup cell)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle


class LiveFigure:
    """A figure that lives as long as its slider (made without pyplot, so no new figure per move).

        live = LiveFigure(1, 2, figsize=(10, 4))   # live.figure; live.axes as plt.subplots gives them
        live.show(line, ax.title)                  # the picture, as a PNG, in the slider's output area

    show(*moving) names what the callback changed: artists, or whole axes whose limits or ticks
    change at every move (show(..., background=True) for a change now and then). Everything else is drawn once and kept as a background image, so a move costs only
    drawing the moving parts and encoding the PNG. Artists made anew at each move are created
    with animated=True (and the old ones removed). The margins are fitted once (tight layout, see
    fit()) and then kept, so the picture does not jump from one move to the next.
    """

    def __init__(self, nrows=1, ncols=1, figsize=(6.4, 4.8), layout="tight", **subplots):
        self.figure = Figure(figsize=figsize, dpi=100, layout=layout)
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = self.figure.subplots(nrows, ncols, **subplots)
        for ax in np.ravel(self.axes):
            ax.set_title("", y=1.0)            # titles at a fixed height: not placed anew at every move
        self.background = None
        self.fitted = False

    def fit(self):
        """Fit the margins to what the figure shows now, and keep them from then on (show() fits
        to its first picture unless this was called before, e.g. with the widest tick labels)."""
        self.canvas.draw()
        self.figure.set_layout_engine("none")
        self.fitted = True

    def part(self, ax):
        """(x0, y0, x1, y1), in figure fractions: ax with its labels, up to halfway to its neighbours."""
        box, others = ax.get_position(), [a.get_position() for a in np.ravel(self.axes) if a is not ax]
        overlap_y = [o for o in others if o.y0 < box.y1 and box.y0 < o.y1]     # the same row
        overlap_x = [o for o in others if o.x0 < box.x1 and box.x0 < o.x1]     # the same column
        x0 = max([(o.x1 + box.x0) / 2 for o in overlap_y if o.x1 <= box.x0], default=0.0)
        x1 = min([(box.x1 + o.x0) / 2 for o in overlap_y if o.x0 >= box.x1], default=1.0)
        y0 = max([(o.y1 + box.y0) / 2 for o in overlap_x if o.y1 <= box.y0], default=0.0)
        y1 = min([(box.y1 + o.y0) / 2 for o in overlap_x if o.y0 >= box.y1], default=1.0)
        return x0, y0, x1, y1

    def show(self, *moving, background=False):
        """Draw the picture; background=True when something outside `moving` changed too
        (axis limits, say), so the kept background is drawn anew, or background=[axes] when
        only those axes changed (only their part of it is drawn anew)."""
        fresh = [artist for artist in moving if not artist.get_animated()]
        for artist in fresh:
            artist.set_animated(True)          # left out of the background from now on
        if not self.fitted:
            self.fit()
        if isinstance(background, (list, tuple)) and not fresh and self.background is not None:
            self.canvas.restore_region(self.background)
            renderer = self.canvas.get_renderer()
            for ax in background:              # paint over the axes' part, then draw them there
                x0, y0, x1, y1 = self.part(ax)
                Rectangle((x0, y0), x1 - x0, y1 - y0, transform=self.figure.transFigure, figure=self.figure,
                          facecolor=self.figure.get_facecolor(), edgecolor="none").draw(renderer)
                ax.draw(renderer)              # without its moving artists (they are animated)
            self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        elif fresh or background or self.background is None:
            visible = [artist.get_visible() for artist in moving]
            for artist in moving:
                artist.set_visible(False)      # (matplotlib draws an animated image all the same)
            self.canvas.draw()                 # everything that does not move
            for artist, shown in zip(moving, visible):
                artist.set_visible(shown)
            self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        else:
            self.canvas.restore_region(self.background)
        for artist in sorted(moving, key=lambda artist: artist.get_zorder()):
            self.figure.draw_artist(artist)
        display(Image(png_bytes(np.asarray(self.canvas.buffer_rgba()))))


def png_bytes(rgba):
    """An (h, w, 4) uint8 picture as PNG bytes, quickly compressed.

    Written out here rather than by PIL, which tries five filters on every row before
    compressing it (6-8 ms a picture): the rows as they are (RGBA, the canvas's own layout, so
    each row is one plain copy), zlib at level 1, take 2-3 ms and, a figure being mostly flat
    colour, come out hardly larger (05's loss picture: 29 KB, against 26 KB from PIL as RGB).
    """
    h, w, _ = rgba.shape
    rows = np.empty((h, 1 + 4 * w), dtype=np.uint8)
    rows[:, 0] = 0                             # each row's filter byte: 0, none
    rows[:, 1:] = rgba.reshape(h, 4 * w)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b""))


def remembered(compute, uses=()):
    """compute(*setting), remembered for each setting, so a slider that returns to one answers at once.

    uses: the names of the notebook's functions that compute calls; after one of them is
    defined again (its cell run again), a setting is computed afresh.
    """
    results = {}

    def recall(*setting):
        key = setting + tuple(compute.__globals__.get(name) for name in uses)
        if key not in results:
            if len(results) >= 256:
                results.clear()
            results[key] = compute(*setting)
        return results[key]
    return recall
