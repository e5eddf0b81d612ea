"""Open a `taupe export napari` directory in napari.

Needs numpy and tifffile only; napari is imported only when the file is run as a script::

    python3 load_napari.py EXPORT_DIR [MOVIE]      # opens a napari viewer

    from load_napari import layers                 # or: from taupe.napari_layers import layers
    for data, kwargs, kind in layers("runs/quick/napari", "fov_000"):
        getattr(viewer, "add_" + kind)(data, **kwargs)

`layers` returns napari layer-data tuples: the movie (one image layer per channel, µm scale),
the labels relabelled to track ids, and the tracks with the per-track results as features
(mean predicted probabilities, the fold model that held the track out, the true fate, the
neighbour switch's change of P(apoptosis) and the nuclear-size PC response).
"""
import csv
import json
import os
import sys

import numpy as np

# Columns of tracks.csv that are not per-point numbers.
_TEXT_COLUMNS = {"fate"}


def read_table(path):
    """A CSV as {column: numpy array}; numeric columns as float64, `fate` as str."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(path + ": empty table")
    header, body = rows[0], rows[1:]
    out = {}
    for j, name in enumerate(header):
        values = [r[j] for r in body]
        if name in _TEXT_COLUMNS:
            out[name] = np.array(values, dtype=str)
        else:
            out[name] = np.array([float(v) if v != "" else np.nan for v in values], dtype=np.float64)
    return out


def movies(export_dir):
    """Movies of the export (sub-directories with a tracks.csv), sorted."""
    return sorted(d for d in os.listdir(export_dir) if os.path.isfile(os.path.join(export_dir, d, "tracks.csv")))


def _ome_scale(path):
    """(seconds per frame, µm per pixel) from an OME-TIFF's OME-XML; 1.0 where absent."""
    import tifffile
    import xml.etree.ElementTree as ET

    with tifffile.TiffFile(path) as tf:
        xml = tf.ome_metadata
    if not xml:
        return 1.0, 1.0
    pixels = next(e for e in ET.fromstring(xml).iter() if e.tag.endswith("Pixels"))
    return float(pixels.get("TimeIncrement", 1.0)), float(pixels.get("PhysicalSizeX", 1.0))


def layers(export_dir, movie=None):
    """napari layer-data tuples (data, kwargs, layer type) of one movie of an export."""
    import tifffile

    if movie is None:
        names = movies(export_dir)
        if not names:
            raise ValueError(export_dir + ": no <movie>/tracks.csv (not a taupe napari export)")
        movie = names[0]
    d = os.path.join(export_dir, movie)
    out = []
    scale_t, scale_xy = 1.0, 1.0
    image = os.path.join(d, "image.ome.tif")
    if os.path.isfile(image):
        scale_t, scale_xy = _ome_scale(image)
        stack = tifffile.imread(image)  # (T, C, Y, X)
        if stack.ndim == 3:
            stack = stack[:, None]
        names = ["GFP", "RFP"] if stack.shape[1] == 2 else ["channel %d" % c for c in range(stack.shape[1])]
        colours = ["green", "magenta"]
        for c in range(stack.shape[1]):
            out.append((stack[:, c], {"name": "%s %s" % (movie, names[c]), "scale": (scale_t, scale_xy, scale_xy),
                                      "colormap": colours[c % 2], "blending": "additive"}, "image"))
    labels = os.path.join(d, "labels.ome.tif")
    if os.path.isfile(labels):
        out.append((tifffile.imread(labels), {"name": movie + " tracks (labels)",
                                              "scale": (scale_t, scale_xy, scale_xy)}, "labels"))
    table = read_table(os.path.join(d, "tracks.csv"))
    with open(os.path.join(d, "graph.json"), encoding="utf-8") as f:
        graph = {int(k): [int(p) for p in v] for k, v in json.load(f).items()}
    data = np.column_stack([table["ID"], table["t"], table["y"], table["x"]])
    features = {k: v for k, v in table.items() if k not in ("ID", "t", "y", "x")}
    out.append((data, {"name": movie + " tracks", "graph": graph, "features": features,
                       "scale": (scale_t, scale_xy, scale_xy), "color_by": "p_apoptosis"}, "tracks"))
    return out


def per_track(export_dir, movie):
    """{track_id: {column: value}} of the per-track result columns of one movie."""
    table = read_table(os.path.join(export_dir, movie, "tracks.csv"))
    keys = [k for k in table if k not in ("ID", "t", "y", "x", "label")]
    out = {}
    for i, tid in enumerate(table["ID"].astype(np.int64)):
        out.setdefault(int(tid), {k: table[k][i] for k in keys})
    return out


def main(argv):
    if len(argv) < 2:
        print("usage: python3 load_napari.py EXPORT_DIR [MOVIE]", file=sys.stderr)
        return 2
    import napari

    viewer = napari.Viewer()
    for data, kwargs, kind in layers(argv[1], argv[2] if len(argv) > 2 else None):
        getattr(viewer, "add_" + kind)(data, **kwargs)
    napari.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
