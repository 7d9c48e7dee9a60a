# Plotting helpers for the XOR notebooks (read-only): the four points, and a network's output over the square.
XOR_COLORS = ("tab:blue", "tab:red")      # class 0, class 1
XOR_MARKERS = ("o", "s")


def plot_xor(ax, X, y, title="", animated=False):
    """Draw the XOR points on ax: blue circles where y = 0, red squares where y = 1.
    Returns the points' artists (animated: to be redrawn by a LiveFigure at every move)."""
    points = []
    for label in (0, 1):
        rows = y[:, 0] == label
        points.append(ax.scatter(X[rows, 0], X[rows, 1], s=170, c=XOR_COLORS[label], marker=XOR_MARKERS[label],
                                 edgecolors="black", linewidths=1.5, zorder=3, label=f"y = {label}",
                                 animated=animated))
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylim(-0.5, 1.5)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)
    return points


def plot_output_surface(ax, output_fn, X, y, title="", animated=False):
    """Shade the square [-0.5, 1.5]^2 by output_fn(points) (values in [0, 1], points (m, 2) -> (m, 1)),
    draw the 0.5 boundary and the XOR points on top. Returns the artists drawn, the shading first."""
    grid = np.linspace(-0.5, 1.5, 81)
    G1, G2 = np.meshgrid(grid, grid)
    points = np.column_stack([G1.ravel(), G2.ravel()])
    out = np.asarray(output_fn(points), dtype=float).reshape(G1.shape)
    drawn = [ax.imshow(out, extent=(-0.5, 1.5, -0.5, 1.5), origin="lower", cmap="coolwarm",
                       vmin=0.0, vmax=1.0, alpha=0.75, animated=animated)]
    if out.min() < 0.5 < out.max():          # a boundary exists: draw where the output crosses 0.5
        drawn.append(ax.contour(G1, G2, out, levels=[0.5], colors="black", linewidths=2))
        drawn[-1].set_animated(animated)     # (matplotlib 3.10's contour takes no animated=)
    return drawn + plot_xor(ax, X, y, title, animated=animated)
