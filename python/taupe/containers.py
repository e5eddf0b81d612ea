"""taupe's HDF5 containers (docs/formats.md): taupe.movie, taupe.tracks, taupe.glimpses,
taupe.patches, taupe.encodings. Each reader checks the `format` attribute and returns numpy
arrays named as in the file."""
import h5py
import numpy as np

#: `Fate` codes (int8 in the files).
FATES = {0: "censored", 1: "mitosis", 2: "apoptosis", 3: "left_field"}
#: `CellType` codes (int8 in the files).
CELL_TYPES = {0: "unknown", 1: "wt", 2: "scrib"}


def _decode(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray) and v.dtype.kind in "OS":
        return np.array([x.decode("utf-8") if isinstance(x, bytes) else str(x) for x in v.ravel()],
                        dtype=object).reshape(v.shape)
    return v


class Container:
    """One taupe HDF5 file read whole: `attrs` (root attributes) and `data` (dataset path -> array)."""

    def __init__(self, path, expected=None):
        self.path = str(path)
        with h5py.File(self.path, "r") as f:
            self.attrs = {k: _decode(v) for k, v in f.attrs.items()}
            fmt = self.attrs.get("format")
            if fmt is None:
                raise ValueError(f"{self.path}: root attribute 'format' is missing: not a taupe file")
            if expected is not None and fmt != expected:
                raise ValueError(f"{self.path}: attribute 'format' is '{fmt}', expected '{expected}'")
            self.data = {}
            f.visititems(lambda name, obj: self.data.__setitem__(name, _decode(obj[()]))
                         if isinstance(obj, h5py.Dataset) else None)

    @property
    def format(self):
        return self.attrs["format"]

    def group(self, prefix):
        """Datasets under `prefix/` with the prefix removed (e.g. group("tracks")["id"])."""
        p = prefix.rstrip("/") + "/"
        return {k[len(p):]: v for k, v in self.data.items() if k.startswith(p)}


def open_container(path, expected=None):
    return Container(path, expected)


def ragged(values, offsets):
    """Splits rows of `values` into trajectories: item i = values[offsets[i]:offsets[i+1]]."""
    offsets = np.asarray(offsets)
    return [values[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


class Tracks(Container):
    """taupe.tracks: `tracks` (per track) and `points` (per track and frame) tables."""

    def __init__(self, path):
        super().__init__(path, "taupe.tracks")
        self.tracks = self.group("tracks")
        self.points = self.group("points")


class Movie(Container):
    """taupe.movie: images (T, C, H, W), labels (T, H, W), per-frame instance tables."""

    def __init__(self, path):
        super().__init__(path, "taupe.movie")
        self.images = self.data["images"]
        self.labels = self.data["labels"]
        self.instances = self.group("instances")
        self.channel_names = list(self.data.get("channel_names", []))

    def label_types(self, t):
        """{label: CellType code} of frame t."""
        o = self.instances["offsets"]
        return dict(zip(self.instances["label"][o[t]:o[t + 1]].tolist(), self.instances["type"][o[t]:o[t + 1]].tolist()))


class _Ragged(Container):
    per_frame = ()

    def __init__(self, path, expected):
        super().__init__(path, expected)
        self.trajectories = self.group("trajectories")
        self.offsets = self.trajectories["offsets"]

    def __len__(self):
        return len(self.offsets) - 1

    def trajectory(self, i):
        """Trajectory i: its table row plus its frames of every per-frame dataset."""
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        out = {k: v[i] for k, v in self.trajectories.items() if k != "offsets"}
        for name in self.per_frame:
            if name in self.data:
                out[name] = self.data[name][a:b]
        for name, v in self.group("features").items():
            out["features/" + name] = v[a:b]
        return out


class Glimpses(_Ragged):
    """taupe.glimpses: ragged trajectories of (2, 64, 64) glimpses, masks and source frames."""
    per_frame = ("images", "masks", "frames")

    def __init__(self, path):
        super().__init__(path, "taupe.glimpses")


class Encodings(_Ragged):
    """taupe.encodings: ragged per-frame latent means and log-variances (F, D)."""
    per_frame = ("z_mean", "z_log_var")

    def __init__(self, path):
        super().__init__(path, "taupe.encodings")
        self.latent_dims = int(self.attrs["latent_dims"])


class Patches(Container):
    """taupe.patches: images (N, 2, 64, 64), types (N,), optional features."""

    def __init__(self, path):
        super().__init__(path, "taupe.patches")
        self.images = self.data["images"]
        self.types = self.data["types"]
        self.features = self.group("features")


def read_tracks(path):
    return Tracks(path)


def read_movie(path):
    return Movie(path)


def read_glimpses(path):
    return Glimpses(path)


def read_encodings(path):
    return Encodings(path)


def read_patches(path):
    return Patches(path)
