"""Read taupe's outputs from Python: every HDF5 container, summary.json and the CSV tables.

numpy + h5py only (docs/python.md)::

    import taupe
    tracks = taupe.read_tracks("data/fov_000/tracks.h5")
    tracks.tracks["id"], tracks.points["x"]
    g = taupe.read_glimpses("data/glimpses.h5")
    frames_of_first = g.trajectory(0)["images"]        # (T, 2, 64, 64) uint16
    table = taupe.read_csv("predictions.csv")           # column -> numpy array
"""
from .containers import (CELL_TYPES, FATES, Container, open_container, ragged, read_encodings, read_glimpses,
                         read_movie, read_patches, read_tracks)
from .tables import read_csv, read_summary

__all__ = ["CELL_TYPES", "FATES", "Container", "open_container", "ragged", "read_encodings", "read_glimpses",
           "read_movie", "read_patches", "read_tracks", "read_csv", "read_summary"]
