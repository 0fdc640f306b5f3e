"""Small published data sets, shipped with the package and loaded offline.

Each loader returns a :class:`Dataset`: the ``x`` and ``y`` of a straight-line
fit, every column of the file, and where the data come from. The files live in
``regloss/data/`` and ``regloss/data/SOURCES.md`` gives each one's source.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

__all__ = ["Dataset", "load_anscombe_iii", "load_stackloss", "read_csv", "sources"]


@dataclass(frozen=True)
class Dataset:
    """A data set for a straight-line fit ``y ~ x``.

    Attributes
    ----------
    name : str
    x, y : numpy.ndarray, shape ``(n,)``, float64
        The regressor and the response of the line.
    x_label, y_label : str
        Column names of ``x`` and ``y``.
    columns : dict of str -> numpy.ndarray
        Every column of the file, in file order.
    source : str
        The published source of the values.
    flagged : tuple of int
        0-based indices of the observations the literature on this data set
        calls outliers (see ``SOURCES.md``).
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    x_label: str
    y_label: str
    columns: dict = field(repr=False)
    source: str = ""
    flagged: tuple = ()

    @property
    def n(self):
        """The number of observations."""
        return int(self.x.size)


def read_csv(filename):
    """Read a numeric CSV file of ``regloss/data`` into ``{column: float64 array}``."""
    text = resources.files("regloss.teaching").joinpath("data", filename).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], [r for r in rows[1:] if r]
    values = np.array(body, dtype=np.float64)
    return {name: values[:, j].copy() for j, name in enumerate(header)}


def sources():
    """The text of ``regloss/data/SOURCES.md``: where every data set comes from."""
    return resources.files("regloss.teaching").joinpath("data", "SOURCES.md").read_text(encoding="utf-8")


def load_anscombe_iii():
    """Anscombe's quartet, data set III (Anscombe, 1973): 11 points, one outlier.

    Returns
    -------
    Dataset
        ``x`` (shape ``(11,)``) and ``y`` (shape ``(11,)``). Ten points lie on one
        line up to the published rounding (two decimals); (13, 12.74) does not
        (``flagged == (2,)``). Least squares gives
        y = 3.00 + 0.500 x.
    """
    cols = read_csv("anscombe_iii.csv")
    return Dataset("Anscombe III", cols["x"], cols["y"], "x", "y", cols,
                   "F. J. Anscombe (1973), Graphs in Statistical Analysis, "
                   "The American Statistician 27(1), 17-21", flagged=(2,))


def load_stackloss():
    """Brownlee's stack-loss data (Brownlee, 1965): 21 days of a nitric-acid plant.

    The line fitted in the course is **stack loss against air flow**:
    ``x = Air.Flow``, ``y = stack.loss``. The other two regressors,
    ``Water.Temp`` and ``Acid.Conc.``, are in ``columns``.

    Returns
    -------
    Dataset
        ``x``, ``y`` of shape ``(21,)``; least squares gives
        stack.loss = -44.132 + 1.0203 Air.Flow. ``flagged`` holds observations
        1, 3, 4 and 21 (0-based 0, 2, 3, 20), the outliers of Daniel & Wood (1971).
    """
    cols = read_csv("stackloss.csv")
    return Dataset("stack loss", cols["Air.Flow"], cols["stack.loss"], "Air.Flow", "stack.loss", cols,
                   "K. A. Brownlee (1965), Statistical Theory and Methodology in Science and "
                   "Engineering, 2nd ed., Wiley, pp. 491-500", flagged=(0, 2, 3, 20))
