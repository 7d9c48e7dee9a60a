# Live pictures (read-only): a slider's figure is drawn once, then each move redraws only what changed.
import io

import numpy as np
from IPython.display import Image, display

if not GRADING:                  # nothing is drawn while the notebook is graded (see the setup cell)
    import matplotlib.image
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure


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

    def show(self, *moving, background=False):
        """Draw the picture; background=True when something outside `moving` changed too
        (axis limits, say), so the kept background is drawn anew."""
        fresh = [artist for artist in moving if not artist.get_animated()]
        for artist in fresh:
            artist.set_animated(True)          # left out of the background from now on
        if not self.fitted:
            self.fit()
        if fresh or background or self.background is None:
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
        png = io.BytesIO()                     # RGB (the figure is opaque), quickly compressed
        matplotlib.image.imsave(png, np.asarray(self.canvas.buffer_rgba())[:, :, :3], format="png",
                                pil_kwargs={"compress_level": 1})
        display(Image(png.getvalue()))


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
