"""Shared figure plumbing: the headless backend, panel grids, stable colours, saving."""
import math
import re

import matplotlib

matplotlib.use("Agg")  # files only, no display needed

import matplotlib.pyplot as plt  # noqa: E402 (the backend must be chosen first)
from matplotlib.ticker import LogFormatter  # noqa: E402

FORMATS = ("png", "svg")
PANEL_SIZE = (4.2, 3.2)  # inches per panel
plt.rcParams.update({"font.size": 9, "axes.grid": True, "grid.alpha": 0.3, "figure.dpi": 120})


def file_stem(*parts):
    """A safe file name from model/task/parameter names."""
    return "_".join(re.sub(r"[^A-Za-z0-9_.+-]+", "-", str(part)).strip("-") for part in parts)


def panel_grid(count, columns=3):
    """A figure with `count` panels, flattened; unused axes are removed."""
    columns = min(columns, count)
    rows = math.ceil(count / columns)
    fig, axes = plt.subplots(rows, columns, squeeze=False,
                             figsize=(PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows))
    flat = list(axes.flat)
    for extra in flat[count:]:
        extra.remove()
    return fig, flat[:count]


def log_x_axis(ax):
    """A log x axis labelled in plain numbers (30, 200): the default 3×10¹ labels of a range
    under a decade overlap in a small panel."""
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(LogFormatter())
    ax.xaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False))


def colours(names):
    """Name -> colour, the same in every panel of a figure."""
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    cmap = plt.get_cmap("tab20")
    return {name: (cycle[i] if len(names) <= len(cycle) else cmap(i % 20))
            for i, name in enumerate(sorted(names))}


def finish_layout(fig, axes):
    """Spaces the panels, then puts one legend for the figure right of them, level with the
    top panel (below the title), so it never covers data."""
    fig.tight_layout()
    handles, labels = {}, []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    if labels:
        top = max(ax.get_position().y1 for ax in axes)
        fig.legend([handles[label] for label in labels], labels, loc="upper left",
                   bbox_to_anchor=(1.0, top), frameon=False)


def save(fig, out_dir, stem, formats):
    """Writes out_dir/stem.<format> for each format (after finish_layout) and closes fig."""
    paths = []
    for fmt in formats:
        path = out_dir / f"{stem}.{fmt}"
        fig.savefig(path, format=fmt, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths
