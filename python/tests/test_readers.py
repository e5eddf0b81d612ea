"""The Python readers agree with taupe's C++ writers.

`taupe simulate` writes a movie, tracks, glimpses and patches; `taupe export tracks` and
`taupe export tiff` (C++) write the same content as CSV and OME-TIFF; the readers must give the
same numbers. Run by ctest (TAUPE_BINARY = the built `taupe`) when h5py, numpy and tifffile are
installed (scripts/setup.sh installs them)."""
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import taupe  # noqa: E402

try:
    import tifffile
except ImportError:  # pragma: no cover
    tifffile = None

BIN = os.environ.get("TAUPE_BINARY", "taupe")


def run(*args):
    subprocess.run([BIN, "-q", *args], check=True, stdout=subprocess.DEVNULL)


class Readers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="taupe_python_")
        d = cls.dir = cls.tmp.name
        run("simulate", "--preset", "tiny", "--movies", "--out", os.path.join(d, "sim"))
        run("export", "tracks", os.path.join(d, "sim", "fov_000", "tracks.h5"), "--out", os.path.join(d, "tracks_csv"))
        run("export", "tiff", os.path.join(d, "sim", "glimpses.h5"), "--out", os.path.join(d, "tiff"))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def test_tracks_equal_the_cpp_csv_export(self):
        t = taupe.read_tracks(self.path("sim", "fov_000", "tracks.h5"))
        csv = taupe.read_csv(self.path("tracks_csv", "tracks.csv"))
        np.testing.assert_array_equal(t.points["track_id"], csv["ID"])
        np.testing.assert_array_equal(t.points["t"], csv["t"])
        np.testing.assert_allclose(t.points["x"], csv["x"], rtol=0, atol=0)
        np.testing.assert_allclose(t.points["y"], csv["y"], rtol=0, atol=0)
        np.testing.assert_array_equal(t.points["label"], csv["label"])
        by_id = dict(zip(t.tracks["id"].tolist(), t.tracks["fate"].tolist()))
        self.assertEqual([taupe.FATES[by_id[int(i)]] for i in csv["ID"]], list(csv["fate"]))

    def test_glimpses_equal_the_cpp_tiff_export(self):
        g = taupe.read_glimpses(self.path("sim", "glimpses.h5"))
        index = taupe.read_csv(self.path("tiff", "index.csv"))
        self.assertEqual(len(g), len(index["id"]))
        for i in range(len(g)):
            tr = g.trajectory(i)
            self.assertEqual(tr["id"], index["id"][i])
            self.assertEqual(tr["movie"], index["movie"][i])
            self.assertEqual(tr["track_id"], index["track_id"][i])
            self.assertEqual(taupe.FATES[int(tr["fate"])], index["fate"][i])
            self.assertEqual(len(tr["images"]), index["frames"][i])
            if tifffile is not None:
                with tifffile.TiffFile(self.path("tiff", index["images"][i])) as tf:
                    np.testing.assert_array_equal(tf.asarray(), tr["images"])
                    self.assertEqual(tf.series[0].axes, "TCYX")
                np.testing.assert_array_equal(tifffile.imread(self.path("tiff", index["masks"][i])), tr["masks"])

    def test_movie_labels_agree_with_the_tracks(self):
        m = taupe.read_movie(self.path("sim", "fov_000", "movie.h5"))
        t = taupe.read_tracks(self.path("sim", "fov_000", "tracks.h5"))
        self.assertEqual(m.images.ndim, 4)
        self.assertEqual(m.images.shape[1], 2)
        self.assertEqual(m.labels.shape, (m.images.shape[0],) + m.images.shape[2:])
        # Every labelled track point's label is present in its frame's instance table and under the point.
        for k in range(0, len(t.points["t"]), max(1, len(t.points["t"]) // 50)):
            lab = int(t.points["label"][k])
            if lab == 0:
                continue
            f = int(t.points["t"][k])
            self.assertIn(lab, m.label_types(f))
            self.assertIn(lab, np.unique(m.labels[f]))

    def test_patches(self):
        p = taupe.read_patches(self.path("sim", "patches.h5"))
        self.assertEqual(p.images.shape[1:], (2, 64, 64))
        self.assertEqual(len(p.types), len(p.images))
        self.assertTrue(set(np.unique(p.types).tolist()) <= set(taupe.CELL_TYPES))

    def test_wrong_container_is_refused(self):
        with self.assertRaisesRegex(ValueError, "expected 'taupe.tracks'"):
            taupe.read_tracks(self.path("sim", "glimpses.h5"))


if __name__ == "__main__":
    unittest.main()
